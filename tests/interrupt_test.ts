// Interrupted suites lose nothing: a stop at many safe points (training, every solver setting,
// NLL, straightness, reflow pairs), each followed by a resume, ends with exactly the figures of
// an uninterrupted run; every stop leaves valid results.json and names only files that exist.
import assert from "node:assert/strict";
import { main } from "../cli/bench.ts";
import { diffFigures } from "../results/compare.ts";
import { readResults } from "../results/io.ts";
import type { ResultsFile } from "../results/schema.ts";
import { removeStaleTemps, writeFileAtomic } from "../store/atomic.ts";
import { captureConsole } from "./helpers/console.ts";
import { TINY_TOY2D } from "./helpers/tiny-toy2d.ts";

const ARGS = [
  "--datasets",
  "moons",
  "--preset",
  "tiny",
  "--steps",
  "40",
  "--batch",
  "64",
  "--samples",
  "64",
  "--nll-points",
  "16",
  "--reflow-pairs",
  "128",
  "--backend",
  "wasm",
  "--methods",
  "1-RF,2-RF",
  "--solvers",
  "euler,dopri5",
  "--no-report",
];

/** A stop request that becomes true at its `after`-th check (each safe point checks once). */
function stopAfter(after: number) {
  let reads = 0;
  return {
    get aborted() {
      return ++reads >= after;
    },
    get reads() {
      return reads;
    },
  };
}

/** The files a stop message says are saved ("  weights/x.safetensors: ...") must exist. */
async function claimedFilesExist(out: string, err: string): Promise<number> {
  let n = 0;
  for (
    const m of err.matchAll(
      /^ {2}((?:shards\/[^/\s]+\/)?(?:checkpoints|weights|reflow)\/[^\s:]+):/gm,
    )
  ) {
    await Deno.stat(`${out}/${m[1]}`);
    n++;
  }
  if (/^ {2}results\.json: \d/m.test(err)) await readResults(out);
  return n;
}

Deno.test("interrupt: repeated stops at safe points, each resumed, give the uninterrupted figures", async () => {
  const ref = await Deno.makeTempDir({ prefix: "fmbench-ref-" });
  const counter = stopAfter(Infinity);
  const whole = await captureConsole(() => main([...ARGS, "--out", ref], { stop: counter }));
  assert.equal(whole.value, 0, whole.err);
  const expected = await readResults(ref);
  const total = counter.reads;
  assert.ok(total > 100, `safe points counted: ${total}`);

  const out = await Deno.makeTempDir({ prefix: "fmbench-int-" });
  let stops = 0, claimed = 0, complete = 0, recorded = 0, debug = "";
  const phases = new Set<string>();
  // Stops spread over the whole job: each session runs a seventh of the safe points, then stops.
  for (let session = 0; session < 40; session++) {
    const r = await captureConsole(() =>
      main([...ARGS, "--out", out], { stop: stopAfter(Math.ceil(total / 7)) })
    );
    if (r.value === 0) break;
    assert.equal(r.value, 130, r.err);
    stops++;
    debug += r.err.split("\n").filter((l) => /partial|interrupted/.test(l)).join(" / ") + "\n";
    assert.match(r.err, /^interrupted by a stop request/m);
    assert.match(r.err, new RegExp(`resume with: .*task bench(:gpu)? .* --out ${out}$`, "m"));
    claimed += await claimedFilesExist(out, r.err);
    for (const m of r.err.matchAll(/partial: {2}[^:]+: (training not finished|trained)/g)) {
      phases.add(m[1]);
    }
    // Progress is never lost: complete runs and recorded evaluations only grow.
    let res: ResultsFile | undefined;
    try {
      res = await readResults(out);
    } catch {
      res = undefined; // stopped before anything finished
    }
    const c = res?.runs.filter((x) => x.status === "ok").length ?? 0;
    const e = res?.runs.reduce((a, x) => a + x.evals.length + x.nll.length, 0) ?? 0;
    assert.ok(
      c >= complete && (c > complete || e >= recorded),
      `lost progress in session ${session}`,
    );
    complete = c;
    recorded = c > complete ? 0 : e;
  }
  assert.ok(stops >= 5, `stopped ${stops} times`);
  assert.ok(claimed > 0, "some stop named saved files");
  assert.ok(phases.has("trained"), `a stop came after training: ${[...phases]}; ${debug}`);
  const got = await readResults(out);
  assert.ok(got.runs.every((r) => r.status === "ok"));
  assert.ok(got.runs.some((r) => (r.sessions ?? 1) > 1), "the record says it was resumed");
  assert.deepEqual(
    diffFigures({ results: expected, dir: ref }, { results: got, dir: out }),
    [],
    "same figures, bit for bit (wasm)",
  );
  for (const d of ["checkpoints", "weights"]) {
    await assert.rejects(Deno.stat(`${out}/${d}`), "no leftovers once complete");
  }
  await Deno.remove(ref, { recursive: true });
  await Deno.remove(out, { recursive: true });
});

Deno.test("atomic: durable writes leave no temporary file; stale ones of dead writers are removed", async () => {
  const dir = await Deno.makeTempDir();
  await writeFileAtomic(`${dir}/sub/a.json`, "{}");
  assert.equal(await Deno.readTextFile(`${dir}/sub/a.json`), "{}");
  assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name), ["a.json"]);
  // Writers killed mid-write (pids that cannot exist) and this process's own file.
  await Deno.writeTextFile(`${dir}/results.json.tmp-999999999`, "{");
  await Deno.writeTextFile(`${dir}/sub/w.safetensors.tmp-999999998`, "");
  await Deno.writeTextFile(`${dir}/mine.tmp-${Deno.pid}`, "");
  const removed = await removeStaleTemps(dir);
  assert.deepEqual(removed.sort(), [
    `${dir}/results.json.tmp-999999999`,
    `${dir}/sub/w.safetensors.tmp-999999998`,
  ]);
  assert.ok(await Deno.stat(`${dir}/mine.tmp-${Deno.pid}`), "a file this process writes stays");
  assert.deepEqual(await removeStaleTemps(`${dir}/missing`), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resume: a stale temporary file from a killed write is removed at start and reported", async () => {
  const out = await Deno.makeTempDir();
  await Deno.writeTextFile(`${out}/results.json.tmp-999999999`, "{ half a fi");
  const r = await captureConsole(() =>
    main([...ARGS.map((a) => a === "1-RF,2-RF" ? "1-RF" : a), "--steps", "5", "--out", out])
  );
  assert.equal(r.value, 0, r.err);
  assert.match(r.err, /removed .*results\.json\.tmp-999999999, a temporary file left by/);
  assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name).sort(), [
    ".fmbench.lock",
    "results.json",
  ]);
  await Deno.remove(out, { recursive: true });
});

/** True once any shard of a --jobs run in `out` has written a training checkpoint. */
function anyShardCheckpoint(out: string): boolean {
  try {
    for (const shard of Deno.readDirSync(`${out}/shards`)) {
      try {
        const dir = `${out}/shards/${shard.name}/checkpoints`;
        if ([...Deno.readDirSync(dir)].some((f) => f.name.endsWith(".safetensors"))) return true;
      } catch {
        // no checkpoints in this shard yet
      }
    }
  } catch {
    // no shards yet
  }
  return false;
}

Deno.test("interrupt: with --jobs, the stop message names the training checkpoints the workers saved", async () => {
  const out = await Deno.makeTempDir({ prefix: "fmbench-int-jobs-" });
  // Stop once a worker has written its first periodic checkpoint (every tenth of the steps).
  const stop = {
    get aborted() {
      return anyShardCheckpoint(out);
    },
  };
  const args = [...TINY_TOY2D, "--methods", "FM w/ OT,1-RF", "--solvers", "euler", "--no-report"];
  const r = await captureConsole(() =>
    main([...args, "--steps", "4000", "--jobs", "2", "--out", out], { stop })
  );
  assert.equal(r.value, 130, r.err);
  assert.match(r.err, /every worker stopped at a safe point/);
  const saved = [
    ...r.err.matchAll(
      /^ {2}shards\/[^/]+\/checkpoints\/\S+: training of .+ at step (\d+) of 4000$/gm,
    ),
  ];
  assert.ok(saved.length >= 1, r.err);
  assert.ok(saved.every((m) => Number(m[1]) >= 1), r.err);
  // The record's line says so too, instead of a bare "training not finished".
  assert.match(
    r.err,
    /partial: {2}moons · .*: training not finished \(checkpoint at step \d+ of 4000\)/,
  );
  assert.ok((await claimedFilesExist(out, r.err)) >= saved.length);
  assert.match(r.err, new RegExp(`resume with: .*task bench(:gpu)? .* --out ${out}$`, "m"));
  await Deno.remove(out, { recursive: true });
});
