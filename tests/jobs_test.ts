// --jobs: how many workers, the progress display, partial merges, and a tiny grid run by two
// workers giving the same results as one process, in one results.json, resumable.
import assert from "node:assert/strict";
import { main } from "../cli/bench.ts";
import { parseJobs, UsageError } from "../cli/flags.ts";
import { JobsDisplay } from "../cli/display.ts";
import { terminalColumns } from "../harness/progress.ts";
import { resolveJobs } from "../harness/parallel/worker-count.ts";
import { prepareShardFolders, shardDir } from "../harness/parallel/shard-folders.ts";
import type { Run } from "../harness/plan.ts";
import { writeResults } from "../results/write.ts";
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
      machine: { cores: 2, memory: 64 * GiB },
    }).jobs,
    3,
    "a GPU backend's workers are not capped at the cores",
  );
  // --jobs 99 on 2 cores: 2 workers, and a note says why (not 27 workers sharing 2 cores).
  const many = resolveJobs({
    flag: "99",
    backend: "wasm",
    kind: "vector",
    groups: 27,
    machine: { cores: 2, memory: 64 * GiB },
  });
  assert.equal(many.jobs, 2);
  assert.equal(many.note, "--jobs 99 capped at 2: 2 core(s)");
  const tight = resolveJobs({
    flag: "8",
    backend: "wasm",
    kind: "image",
    groups: 27,
    machine: { cores: 16, memory: 10 * GiB },
  });
  assert.equal(tight.jobs, 3);
  assert.match(
    tight.note!,
    /capped at 3: memory for 3 \(10\.0 GiB available, ~3\.0 GiB per worker\)/,
  );
  assert.equal(
    resolveJobs({
      flag: "2",
      backend: "wasm",
      kind: "vector",
      groups: 27,
      machine: { cores: 4, memory: 64 * GiB },
    }).note,
    undefined,
    "within the machine: no note",
  );
  const capped = resolveJobs({
    flag: "8",
    backend: "wasm",
    kind: "vector",
    groups: 3,
    machine: { cores: 16, memory: 64 * GiB },
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
  // Threads: the cores a process's workers leave it (fewer on a busy machine), recorded; the
  // numbers above did not change.
  if (ra.manifest.backend === "wasm" && ra.manifest.backendNotes.some((n) => /OpenBLAS/.test(n))) {
    const cores = navigator.hardwareConcurrency;
    const one = ra.manifest.threads!, two = rb.manifest.threads!;
    assert.ok(one >= 1 && one <= cores, ra.manifest.backendNotes.join("; "));
    assert.ok(two >= 1 && two <= Math.max(1, Math.floor(cores / 2)), `${two}`);
    assert.match(
      ra.manifest.backendNotes.join(" "),
      new RegExp(`on ${one} threads? \\(auto: ${cores} cores? / 1 worker`),
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

Deno.test("--jobs: a grid grown on a finished folder reuses its shard folders, merges cleanly, adds no stale folder", async () => {
  const out = await Deno.makeTempDir({ prefix: "fmbench-grow-" });
  const base = [...TINY_TOY2D, "--solvers", "euler,dopri5", "--no-report", "--jobs", "2"];
  const first = await captureConsole(() =>
    main([...base, "--methods", "FM w/ OT,1-RF", "--out", out])
  );
  assert.equal(first.value, 0, first.err);
  const folders = async () =>
    (await Array.fromAsync(Deno.readDir(`${out}/shards`))).map((e) => e.name).sort();
  assert.deepEqual(await folders(), ["moons__1-rf__mlp-tiny", "moons__fm-w-ot__mlp-tiny"]);
  // An earlier layout's folder with the checkpoint of a run that never finished (its group is
  // new below), and one of a complete run (dropped).
  const old = `${out}/shards/shard-0-of-2/checkpoints`;
  await Deno.mkdir(old, { recursive: true });
  await Deno.writeTextFile(`${old}/moons__fm-w-cosine__mlp-tiny.safetensors`, "x");
  await Deno.writeTextFile(`${old}/moons__fm-w-ot__mlp-tiny.safetensors`, "x");
  // The README's "add a path, run again": one more group than before.
  const grown = await captureConsole(() =>
    main([...base, "--methods", "FM w/ OT,1-RF,FM w/ cosine", "--out", out])
  );
  assert.equal(grown.value, 0, grown.err);
  assert.doesNotMatch(grown.err, /warning|merging the shards failed|kept a copy/, grown.err);
  assert.equal((grown.err.match(/skipped \(resume\)/g) ?? []).length, 2, grown.err);
  assert.match(grown.err, /moved .*shard-0-of-2 \(an earlier layout\)/);
  assert.deepEqual(await folders(), [
    "moons__1-rf__mlp-tiny",
    "moons__fm-w-cosine__mlp-tiny",
    "moons__fm-w-ot__mlp-tiny",
  ]);
  const res = await readResults(out);
  assert.deepEqual(res.runs.map((r) => [r.method, r.status]).sort(), [
    ["1-RF", "ok"],
    ["FM w/ OT", "ok"],
    ["FM w/ cosine", "ok"],
  ]);
  assert.ok(res.manifest.finishedAt);
  for (const [i, key] of ["moons__fm-w-ot__mlp-tiny", "moons__1-rf__mlp-tiny"].entries()) {
    const shard = await readResults(`${out}/shards/${key}`);
    assert.equal(shard.shard?.count, 3, `shard ${i} carries the grown plan`);
    assert.equal(shard.manifest.configHash, res.manifest.configHash);
  }
  await Deno.remove(out, { recursive: true });
});

Deno.test("JobsDisplay: a terminal that reports 0 columns is of unknown width, not 20 columns", () => {
  const status =
    "[3/10] checkerboard · FM w/ Diffusion · mlp 120/1000 loss 1.2345 9.0 it/s ETA 1m38s";
  const draw = (columns: number | undefined) => {
    let screen = "";
    const d = new JobsDisplay(1, 4, {
      tty: true,
      write: (s) => (screen += s),
      columns: () => columns,
    });
    d.status(0, status);
    return screen;
  };
  assert.ok(draw(undefined).includes(status), "unknown width: the whole line");
  const row = `  w1 ${status}`; // 40 columns: 39 characters, so that the line never wraps
  assert.ok(draw(40).includes(`${row.slice(0, 39)}\n`), draw(40));
  assert.equal(terminalColumns(() => ({ columns: 0 })), undefined);
  assert.equal(terminalColumns(() => ({ columns: 80 })), 80);
  assert.equal(
    terminalColumns(() => {
      throw new Deno.errors.BadResource("not a tty");
    }),
    undefined,
  );
});

Deno.test("shard folders: each agrees with the plan before the workers start; the better record wins", async () => {
  const out = await Deno.makeTempDir({ prefix: "fmbench-shards-" });
  const file = buildFixture();
  const [a, b, c] = file.runs.slice(0, 3)
    .map((r, i) => ({
      ...r,
      id: `moons__m${i}__mlp-tiny`,
      status: "ok" as const,
      configHash: `h${i}`,
    }));
  // Three groups of one run each; the plan's hashes are the records' own.
  const groups = [a, b, c].map((
    r,
  ) => [{ id: r.id, method: { label: r.method } }]) as unknown as Run[][];
  const planned = new Map([a, b, c].map((r) => [r.id, r.configHash]));
  assert.equal(new Set([a.id, b.id, c.id]).size, 3);
  const header = { ...file, runs: [] };
  // Group a's folder holds a partial record and its checkpoint; the top-level file has it
  // complete (finished by a run with other --jobs). Group b's folder is of an older plan (shard
  // 0 of 2, another config hash). Group c has no folder yet.
  const partial = { ...a, status: "partial" as const, evals: [] };
  await writeResults(shardDir(out, a.id), {
    ...file,
    shard: { index: 5, count: 9 },
    runs: [partial],
  });
  await Deno.mkdir(`${shardDir(out, a.id)}/checkpoints`);
  await Deno.writeTextFile(`${shardDir(out, a.id)}/checkpoints/${a.id}.safetensors`, "x");
  const oldManifest = { ...file.manifest, configHash: "0123456789abcdef" };
  await writeResults(shardDir(out, b.id), {
    ...file,
    manifest: oldManifest,
    shard: { index: 0, count: 2 },
    runs: [b],
  });
  const logs: string[] = [];
  await prepareShardFolders({
    outDir: out,
    groups,
    planned,
    header,
    top: { ...file, runs: [a, c] },
    log: (l) => logs.push(l),
  });
  for (const [i, r] of [a, b, c].entries()) {
    const shard = await readResults(shardDir(out, r.id));
    assert.deepEqual(shard.shard, { index: i, count: 3 }, r.id);
    assert.equal(shard.manifest.configHash, file.manifest.configHash, r.id);
    assert.deepEqual(shard.runs.map((x) => [x.id, x.status]), [[r.id, "ok"]], r.id);
  }
  await assert.rejects(
    Deno.stat(`${shardDir(out, a.id)}/checkpoints/${a.id}.safetensors`),
    Deno.errors.NotFound,
    "the checkpoint of a run complete elsewhere is removed",
  );
  // They merge as one run's shards.
  const merged = mergeResults(
    await Promise.all([a, b, c].map((r) => readResults(shardDir(out, r.id)))),
  );
  assert.equal(merged.runs.length, 3);
  assert.deepEqual(logs, []);
  await Deno.remove(out, { recursive: true });
});
