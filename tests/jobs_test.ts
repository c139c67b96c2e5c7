// --jobs: how many workers, the progress display, partial merges, and a tiny grid run by two
// workers giving the same results as one process, in one results.json, resumable.
import assert from "node:assert/strict";
import { main } from "../cli/bench.ts";
import { parseJobs, UsageError } from "../cli/flags.ts";
import { JobsDisplay } from "../cli/display.ts";
import { resolveJobs } from "../harness/parallel/worker-count.ts";
import { readResults } from "../results/io.ts";
import { mergeResults } from "../results/merge.ts";
import { buildFixture, shardFixture } from "./fixtures.ts";
import { captureConsole } from "./helpers/console.ts";
import { TINY_TOY2D } from "./helpers/tiny-toy2d.ts";

const GiB = 2 ** 30;

Deno.test("resolveJobs: cores, memory, GPU backends and the number of groups", () => {
  assert.equal(
    resolveJobs({
      flag: "auto",
      backend: "wasm",
      kind: "vector",
      groups: 21,
      machine: { cores: 2, memory: 16 * GiB },
    }).jobs,
    2,
  );
  assert.equal(
    resolveJobs({
      flag: undefined,
      backend: "cpu",
      kind: "vector",
      groups: 40,
      machine: { cores: 32, memory: 64 * GiB },
    }).jobs,
    32,
  );
  const short = resolveJobs({
    flag: "auto",
    backend: "wasm",
    kind: "image",
    groups: 21,
    machine: { cores: 8, memory: 7 * GiB },
  });
  assert.equal(short.jobs, 2);
  assert.match(short.why, /memory for 2/);
  const gpu = resolveJobs({
    flag: "auto",
    backend: "webgpu",
    kind: "image",
    groups: 21,
    machine: { cores: 16, memory: 64 * GiB },
  });
  assert.equal(gpu.jobs, 1);
  assert.match(gpu.why, /one GPU/);
  assert.equal(
    resolveJobs({
      flag: "3",
      backend: "tensorflow",
      kind: "image",
      groups: 21,
      machine: { cores: 16 },
    }).jobs,
    3,
  );
  const capped = resolveJobs({
    flag: "8",
    backend: "wasm",
    kind: "vector",
    groups: 3,
    machine: { cores: 16 },
  });
  assert.equal(capped.jobs, 3);
  assert.match(capped.why, /3 independent group/);
  assert.equal(
    resolveJobs({
      flag: "auto",
      backend: "wasm",
      kind: "vector",
      groups: 5,
      machine: { cores: 4, memory: undefined },
    }).jobs,
    4,
  );
});

Deno.test("parseJobs accepts auto and positive integers only", () => {
  assert.equal(parseJobs(undefined), undefined);
  assert.equal(parseJobs("auto"), "auto");
  assert.equal(parseJobs("4"), "4");
  for (const bad of ["0", "-1", "two", "1.5", ""]) assert.throws(() => parseJobs(bad), UsageError);
});

Deno.test("JobsDisplay in logs: finished runs and throttled progress, prefixed by worker", () => {
  const out: string[] = [];
  const d = new JobsDisplay(2, 4, { tty: false, write: (s) => out.push(s), everySeconds: 3600 });
  const p = { step: 1, total: 100, loss: 2, itPerSec: 10 };
  const bar = d.progress("[1/2] moons · 1-RF · mlp", 1);
  bar.update(p);
  bar.update({ ...p, step: 2 }); // within 10 s: not repeated
  bar.update({ ...p, step: 100 }); // the last step always shows
  d.log("[1/1] moons · FM w/ OT · mlp: eval 1.0s · w2 0.5 @ 20 NFE", 0);
  d.finish();
  assert.equal(out.length, 3);
  assert.match(out[0], /^\[w2\] \[1\/2\] moons · 1-RF · mlp 1\/100 loss 2\.0000/);
  assert.match(out[1], /^\[w2\] .* 100\/100 /);
  assert.match(out[2], /^\[w1\] \[1\/1\] moons · FM w\/ OT · mlp: eval/);
});

Deno.test("JobsDisplay on a terminal redraws one line per worker under a summary", () => {
  let screen = "";
  const d = new JobsDisplay(2, 4, { tty: true, write: (s) => (screen += s) });
  d.status(0, "shard 1/3: starting");
  d.log("[1/1] moons · FM w/ OT · mlp: eval 1.0s", 1);
  assert.match(screen, /1\/4 runs finished/);
  d.log("[1/2] moons · 1-RF · mlp: complete in runs/x, skipped (resume)", 0);
  assert.match(screen, /2\/4 runs finished/, "a run finished before counts as finished");
  assert.ok(screen.includes("\x1b[2K  w1 shard 1/3: starting"), screen);
  assert.match(screen, /\[w2\] \[1\/1\] moons · FM w\/ OT · mlp: eval 1\.0s\n/);
});

Deno.test("a partial merge (an interrupted --jobs run) keeps what exists, references included", () => {
  const full = { ...buildFixture(), references: { moons: { w2: 0.1 } } };
  const shards = shardFixture(full, 3);
  shards[2].references = { "8gaussians": { w2: 0.2 } };
  assert.throws(() => mergeResults([shards[0], shards[2]]), /missing shard index 1/);
  const merged = mergeResults([shards[0], shards[2]], { allowMissing: true });
  assert.equal(merged.runs.length, shards[0].runs.length + shards[2].runs.length);
  assert.deepEqual(merged.references, { moons: { w2: 0.1 }, "8gaussians": { w2: 0.2 } });
});

const TINY = [
  ...TINY_TOY2D,
  "--methods",
  "1-RF,2-RF,FM w/ OT",
  "--solvers",
  "euler,dopri5",
  "--no-report",
];

Deno.test("--jobs 2 gives the results of --jobs 1, in one results.json, and resumes", async () => {
  const one = await Deno.makeTempDir({ prefix: "fmbench-jobs1-" });
  const two = await Deno.makeTempDir({ prefix: "fmbench-jobs2-" });
  const a = await captureConsole(() => main([...TINY, "--jobs", "1", "--out", one]));
  assert.equal(a.value, 0, a.err);
  const b = await captureConsole(() => main([...TINY, "--jobs", "2", "--out", two]));
  assert.equal(b.value, 0, b.err);
  assert.match(b.err, /jobs: 2 workers \(--jobs 2\)/);
  const ra = await readResults(one), rb = await readResults(two);
  assert.equal(rb.shard, undefined);
  const key = (r: typeof ra.runs[number]) => r.id;
  assert.deepEqual(rb.runs.map(key).sort(), ra.runs.map(key).sort());
  for (const r of ra.runs) {
    const s = rb.runs.find((x) => x.id === r.id)!;
    assert.equal(s.status, "ok", s.error);
    assert.equal(s.configHash, r.configHash);
    // Same seeds, same computation: the same numbers, whichever process ran them.
    assert.deepEqual(
      s.evals.map((e) => [e.solver, e.nfe, e.metrics]),
      r.evals.map((e) => [e.solver, e.nfe, e.metrics]),
    );
    assert.equal(s.train!.finalLoss, r.train!.finalLoss);
  }
  assert.match(rb.manifest.backendNotes.join(" "), /--jobs 2 .*2 shards/);
  // Threads: the cores a process's workers leave it, recorded; the numbers above did not change.
  if (ra.manifest.backend === "wasm" && ra.manifest.backendNotes.some((n) => /OpenBLAS/.test(n))) {
    const cores = navigator.hardwareConcurrency;
    assert.equal(ra.manifest.threads, cores, ra.manifest.backendNotes.join("; "));
    assert.equal(rb.manifest.threads, Math.max(1, Math.floor(cores / 2)));
    assert.match(
      ra.manifest.backendNotes.join(" "),
      /on \d+ OpenBLAS threads? \(auto: \d+ cores? \/ 1 worker\)/,
    );
  }
  assert.ok(rb.manifest.finishedAt, "a complete run records its finish time");
  await Deno.stat(`${two}/reflow/moons__1-rf__mlp-tiny.f32`);
  // A report write killed mid-way (SIGKILL) leaves its temporary file; the resume sweeps it.
  await Deno.writeTextFile(`${two}/report.html.tmp-999999999`, "<html");
  const again = await captureConsole(() => main([...TINY, "--jobs", "2", "--out", two]));
  assert.equal(again.value, 0, again.err);
  assert.equal((again.err.match(/skipped \(resume\)/g) ?? []).length, 3, again.err);
  assert.match(again.err, /removed .*report\.html\.tmp-999999999, a temporary file left by/);
  await assert.rejects(Deno.stat(`${two}/report.html.tmp-999999999`), Deno.errors.NotFound);
  await Deno.remove(one, { recursive: true });
  await Deno.remove(two, { recursive: true });
});
