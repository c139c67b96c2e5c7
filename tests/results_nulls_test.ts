// The results check and the report agree: every file the check accepts renders (report and
// terminal summary) without an exception, whatever field is null, absent or an empty list; the
// null reference floor of issue 23 (finding 8) among them.
import assert from "node:assert/strict";
import { join } from "node:path";
import { main as reportMain } from "../cli/report.ts";
import { resultsProblems } from "../results/check.ts";
import type { ResultsFile, RunRecord } from "../results/schema.ts";
import { renderReport } from "../reports/render.ts";
import { summaryRows } from "../reports/summary.ts";
import { frontierRows } from "../reports/frontier-table.ts";
import { buildFixture } from "./fixtures.ts";

/**
 * A fixture with every optional numeric field the schema has: reference floors, sampling errors
 * of the fixed-step solvers, K-sample bits/dim, resumes; two seeds per series, so seed means are
 * computed too.
 */
function richFixture(kind: "toy2d" | "images"): ResultsFile {
  const r = buildFixture({ kind });
  const quality = r.headline.quality;
  r.references = Object.fromEntries(
    [...new Set(r.runs.map((x) => x.dataset))].map((d) => [d, { [quality]: 0.02 }]),
  );
  for (const run of r.runs) {
    for (const e of run.evals) {
      if (e.setting.steps !== undefined) {
        e.sampleError = {
          mse: 0.01 / e.setting.steps,
          reference: { solver: "dopri5", setting: { rtol: 1e-5, atol: 1e-5 } },
        };
      }
    }
    for (const n of run.nll) {
      if (n.bpd !== undefined) Object.assign(n, { dequantSamples: 4, bpdSingleSample: 3.5 });
    }
    if (run.train) run.train.resumedFrom = [100];
  }
  const runs: RunRecord[] = [0, 1].flatMap((seed) =>
    structuredClone(r.runs).map((x) => ({ ...x, id: `${x.id}__s${seed}`, seed }))
  );
  return { ...r, runs };
}

type Path = Array<string | number>;

/** Every leaf (and every list) of a value with its path. */
function walk(v: unknown, path: Path, out: Array<{ path: Path; value: unknown }>): void {
  if (Array.isArray(v)) {
    out.push({ path, value: v });
    v.forEach((x, i) => walk(x, [...path, i], out));
  } else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) walk(x, [...path, k], out);
  } else out.push({ path, value: v });
}

/** A path with its list indices as `*`: the field it is an instance of. */
const pattern = (p: Path) => p.map((k) => (typeof k === "number" ? "*" : k)).join(".");

function set(root: unknown, path: Path, value: unknown): void {
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (value === undefined) delete o[last];
  else o[last] = value;
}

/**
 * Variants of `base`, one per field: a number set to null (in every instance of the field, and in
 * its first instance only, beside values), an optional or required field removed, a list emptied.
 */
function* variants(base: ResultsFile): Generator<[string, ResultsFile]> {
  const leaves: Array<{ path: Path; value: unknown }> = [];
  walk(base, [], leaves);
  const fields = new Map<string, Array<{ path: Path; value: unknown }>>();
  for (const l of leaves) {
    // Sample coordinates are one field each: 400 points would be 800 identical variants.
    const key = pattern(l.path);
    if (!fields.has(key)) fields.set(key, []);
    fields.get(key)!.push(l);
  }
  for (const [name, all] of fields) {
    const edits: Array<[string, unknown, typeof all]> = [];
    if (typeof all[0].value === "number") {
      edits.push([`${name} = null everywhere`, null, all]);
      if (all.length > 1) edits.push([`${name} = null once`, null, all.slice(0, 1)]);
    }
    if (Array.isArray(all[0].value)) edits.push([`${name} = []`, [], all]);
    if (typeof all[0].path.at(-1) === "string") edits.push([`${name} removed`, undefined, all]);
    for (const [what, value, where] of edits) {
      const r = structuredClone(base);
      for (const l of where) set(r, l.path, structuredClone(value));
      yield [what, r];
    }
  }
}

for (const kind of ["toy2d", "images"] as const) {
  Deno.test(`results check and report agree: every ${kind} variant is refused by name or renders`, () => {
    let rendered = 0, refused = 0;
    const wrong: string[] = [];
    for (const [what, r] of variants(richFixture(kind))) {
      const problems = resultsProblems(r);
      if (problems.length) {
        refused++;
        // A clear refusal: the field's path, then what was wrong.
        assert.match(problems[0], /^[\w$[\].-]+ (=|is|has) /, `${what}: ${problems[0]}`);
        continue;
      }
      rendered++;
      let doc = "";
      assert.doesNotThrow(() => (doc = renderReport(r)), what);
      assert.doesNotThrow(() => summaryRows(r), what);
      assert.doesNotThrow(() => frontierRows(r), what);
      // Null is shown as n/a, never printed as a number (the free-form config is shown as JSON).
      if (!/^manifest\.config\./.test(what)) {
        const text = doc.replace(/<script[\s\S]*?<\/script>/g, "");
        const shown = />[^<]*\b(NaN|null(?! in results\.json))\b[^<]*</.exec(text);
        if (shown) wrong.push(`${what}: ${shown[0]}`);
      }
    }
    assert.deepEqual(wrong, []);
    // Both outcomes are exercised: nulls of measured values render, nulls of counts are refused.
    assert.ok(rendered > 50 && refused > 50, `rendered ${rendered}, refused ${refused}`);
  });
}

Deno.test("issue 23 finding 8: a null reference floor passes the check and the report renders without it", async () => {
  const r = richFixture("toy2d");
  r.references = { moons: { w2: null }, "8gaussians": { w2: 0.03 } };
  assert.deepEqual(resultsProblems(r), []);
  const doc = renderReport(r);
  const caption = (d: string) =>
    new RegExp(`data-dataset="${d}">\\s*<caption>([\\s\\S]*?)</caption>`).exec(doc)![1];
  assert.doesNotMatch(caption("moons"), /noise level/, "no noise level is shown where it is null");
  assert.match(caption("8gaussians"), /noise level: W2 0\.03 between/);
  // Through the CLI too: exit 0, report.html written.
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "results.json"), JSON.stringify(r));
  const log = console.log;
  console.log = () => {};
  try {
    assert.equal(await reportMain([dir]), 0);
  } finally {
    console.log = log;
  }
  assert.ok((await Deno.stat(join(dir, "report.html"))).size > 0);
  await Deno.remove(dir, { recursive: true });
});
