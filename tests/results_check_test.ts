// results.json is checked deeply when read: a wrong type or a negative W2 anywhere is refused
// with the field path, never a TypeError in a report; an unreadable file is backed up first.
import assert from "node:assert/strict";
import { join } from "node:path";
import { main as reportMain } from "../cli/report.ts";
import { resultsProblems } from "../results/check.ts";
import {
  backupIfUnreadable,
  checkResults,
  readResultsForResume,
  ResultsFileError,
} from "../results/io.ts";
import type { ResultsFile } from "../results/schema.ts";
import { renderReport } from "../reports/render.ts";
import { buildFixture, shardFixture } from "./fixtures.ts";

const good = buildFixture();
const images = buildFixture({ kind: "images" });

/** A copy of the fixture with `edit` applied. */
function broken(edit: (r: ResultsFile & Record<string, unknown>) => void): unknown {
  const r = structuredClone(good) as ResultsFile & Record<string, unknown>;
  edit(r);
  return r;
}

Deno.test("results check: the fixtures (and their merge shards) pass", () => {
  assert.deepEqual(resultsProblems(good), []);
  assert.deepEqual(resultsProblems(images), []);
  for (const s of shardFixture(good, 2)) assert.deepEqual(resultsProblems(s), []);
});

Deno.test("results check: each bad field is named by its path and value", () => {
  const cases: Array<[(r: ResultsFile & Record<string, unknown>) => void, RegExp]> = [
    [
      (r) => (r.runs[3].evals[2].metrics.w2 = -5),
      /^runs\[3\]\.evals\[2\]\.metrics\.w2 = -5 is negative \(W2 is a distance/,
    ],
    [
      (r) => ((r.runs[0].evals[1] as unknown as { nfe: unknown }).nfe = "12"),
      /^runs\[0\]\.evals\[1\]\.nfe = "12" is a string, expected an integer/,
    ],
    [
      (r) => ((r.runs[1] as unknown as { evals: unknown }).evals = {}),
      /^runs\[1\]\.evals = \{\} is an object, expected an array/,
    ],
    [
      (r) => ((r.runs[0].evals[0] as unknown as { metrics: unknown }).metrics = null),
      /^runs\[0\]\.evals\[0\]\.metrics = null is null, expected an object/,
    ],
    [
      (r) => ((r.runs[2].nll[0] as unknown as { estimator: string }).estimator = "guess"),
      /^runs\[2\]\.nll\[0\]\.estimator = "guess", expected "exact" or "hutchinson"/,
    ],
    [
      (r) => ((r.runs[0].train as unknown as { lossCurve: unknown }).lossCurve = [[1, 2, 3]]),
      /^runs\[0\]\.train\.lossCurve\[0\] = \[1,2,3\] is an array, expected a \[step, loss\] pair/,
    ],
    [
      (r) => ((r.runs[0] as unknown as { samples: unknown }).samples = { points: "x" }),
      /^runs\[0\]\.samples\.points = "x" is a string, expected an array/,
    ],
    [
      (r) => delete (r.manifest as unknown as Record<string, unknown>).backendNotes,
      /^manifest\.backendNotes is missing, expected an array/,
    ],
    [(r) => (r.references = { moons: { w2: -0.1 } }), /^references\.moons\.w2 = -0\.1 is negative/],
    [
      (r) => ((r.runs[0] as unknown as { straightness: number }).straightness = -1),
      /^runs\[0\]\.straightness = -1 is negative/,
    ],
    [
      (r) => ((r.runs[0] as unknown as { status: string }).status = "done"),
      /^runs\[0\]\.status = "done", expected "ok" or "failed" or "partial"/,
    ],
  ];
  for (const [edit, re] of cases) {
    const problems = resultsProblems(broken(edit));
    assert.ok(problems.length >= 1, String(re));
    assert.match(problems[0], re);
  }
});

Deno.test("results check: null (JSON's NaN) is accepted for measured values and shows as n/a", () => {
  const r = broken((r) => {
    (r.runs[0].evals.at(-1)!.metrics as Record<string, unknown>).w2 = null;
    (r.runs[0] as unknown as { straightness: unknown }).straightness = null;
  }) as ResultsFile;
  assert.deepEqual(resultsProblems(r), []);
  assert.doesNotThrow(() => renderReport(r));
});

Deno.test("results check: the report CLI refuses a bad file in one line naming file and field", async () => {
  const dir = await Deno.makeTempDir();
  const errors: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => void errors.push(a.join(" "));
  try {
    for (
      const [edit, re] of [
        [(r: ResultsFile) => (r.runs[3].evals[2].metrics.w2 = -5), /metrics\.w2 = -5 is negative/],
        [
          (r: ResultsFile) => ((r.runs[0].evals[0] as unknown as { nfe: unknown }).nfe = {}),
          /runs\[0\]\.evals\[0\]\.nfe = \{\} is an object/,
        ],
      ] as const
    ) {
      await Deno.writeTextFile(join(dir, "results.json"), JSON.stringify(broken(edit)));
      errors.length = 0;
      assert.equal(await reportMain([dir]), 1);
      assert.equal(errors.length, 1, errors.join("\n"));
      assert.match(errors[0], new RegExp(`^report: ${dir}/results\\.json: `));
      assert.match(errors[0], re);
      assert.ok(!/TypeError/.test(errors[0]));
    }
  } finally {
    console.error = error;
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("results check: a corrupt results.json is backed up before a run or a merge overwrites it", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "results.json");
  const logs: string[] = [];
  for (
    const text of [
      '{"schema": "fmbench/results@1", "runs": [',
      JSON.stringify(broken((r) => (r.runs[0].evals[0].metrics.w2 = -5))),
    ]
  ) {
    await Deno.writeTextFile(file, text);
    assert.equal(await readResultsForResume(file, (l) => logs.push(l)), null);
    const backups = [...Deno.readDirSync(dir)].filter((e) =>
      e.name.startsWith("results.json.unreadable-")
    );
    assert.equal(backups.length, 1);
    assert.equal(await Deno.readTextFile(join(dir, backups[0].name)), text, "kept byte for byte");
    assert.match(logs.at(-1)!, /moved it to .*results\.json\.unreadable-.* and starting afresh/);
    await Deno.remove(join(dir, backups[0].name));
  }
  // The merge output: a readable results.json is left for the merge to replace; a corrupt one moved.
  await Deno.writeTextFile(file, JSON.stringify(good));
  assert.equal(await backupIfUnreadable(file, () => {}), null);
  await Deno.writeTextFile(file, "not json");
  const moved = await backupIfUnreadable(file, (l) => logs.push(l));
  assert.ok(moved && (await Deno.readTextFile(moved)) === "not json");
  assert.match(logs.at(-1)!, /is not valid JSON.*moved it to/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("results check: checkResults throws ResultsFileError naming the file", () => {
  assert.throws(
    () => checkResults(broken((r) => (r.runs[3].evals[2].metrics.w2 = -5)), "runs/x/results.json"),
    (e: unknown) =>
      e instanceof ResultsFileError &&
      /^runs\/x\/results\.json: runs\[3\]\.evals\[2\]\.metrics\.w2 = -5 is negative/.test(
        e.message,
      ),
  );
});
