// Threads for the native kernels: --threads and its auto value, the start-up check (and what a
// broken kernel does to a run), bit-identical results on any thread count, and the convolution
// routes (grid, im2col, 1x1) with bias and ReLU against the cpu backend.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import { selectBackend } from "../backend/select.ts";
import { KCHUNK, loadBlas, MIN_WORK_PER_THREAD } from "../backend/native-blas.ts";
import { checkNativeKernels, describeCheck, faultyBlas } from "../backend/native-check.ts";
import { convRoute } from "../backend/wasm-blas-im2col.ts";
import {
  activeThreads,
  setActiveBlas,
  type ThreadsTarget,
  useThreads,
} from "../backend/threads.ts";
import { resolveThreads } from "../harness/parallel/thread-count.ts";
import { parseThreads, UsageError } from "../cli/flags.ts";
import { main } from "../cli/bench.ts";
import { captureConsole } from "./helpers/console.ts";
import { randomArray } from "./helpers/random.ts";
import { tinyUnetGrads } from "./helpers/unet-grads.ts";

const info = await selectBackend("wasm");
const { blas, why } = loadBlas();
if (!blas) console.error(`native BLAS thread tests skipped: ${why}`);
const threaded = !!blas && blas.threads > 0;

Deno.test("resolveThreads: the flag, else the cores shared among the workers", () => {
  assert.deepEqual(resolveThreads({ jobs: 1, cores: 16 }), {
    threads: 16,
    why: "auto: 16 cores / 1 worker",
  });
  assert.equal(resolveThreads({ jobs: 2, cores: 16 }).threads, 8);
  assert.equal(resolveThreads({ jobs: 3, cores: 16 }).threads, 5);
  assert.equal(resolveThreads({ jobs: 16, cores: 16 }).threads, 1, "workers fill every core");
  assert.equal(resolveThreads({ jobs: 32, cores: 16 }).threads, 1);
  // A busy machine: no more threads than idle cores (at least 1).
  assert.equal(resolveThreads({ jobs: 1, cores: 16, load: 0.3 }).threads, 16);
  assert.deepEqual(resolveThreads({ jobs: 1, cores: 16, load: 12.2 }), {
    threads: 4,
    why: "auto: 16 cores / 1 worker, but load average 12.2: 4 idle cores",
  });
  assert.equal(resolveThreads({ jobs: 2, cores: 16, load: 4 }).threads, 6, "12 idle for 2");
  assert.equal(resolveThreads({ jobs: 2, cores: 16, load: 0 }).threads, 8);
  assert.equal(resolveThreads({ jobs: 1, cores: 2, load: 7 }).threads, 1);
  assert.equal(resolveThreads({ jobs: 1, cores: 2, load: NaN }).threads, 2);
  assert.deepEqual(resolveThreads({ flag: 3, jobs: 4, cores: 16, load: 15 }), {
    threads: 3,
    why: "--threads 3",
  });
});

Deno.test("--threads: 1 to the cores; 0, negative, too many or not a number exit 2 with the range", async () => {
  assert.equal(parseThreads("2", 4), 2);
  assert.equal(parseThreads("4", 4), 4);
  assert.equal(parseThreads(undefined, 4), undefined);
  assert.equal(parseThreads("auto", 4), undefined);
  for (const bad of ["0", "-1", "5", "1.5", "two", ""]) {
    assert.throws(() => parseThreads(bad, 4), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.match(
        e.message,
        new RegExp(`--threads must be "auto" or an integer from 1 to 4 .*got "${bad}"`),
      );
      return true;
    });
  }
  const cores = navigator.hardwareConcurrency;
  for (const bad of ["0", "-2", String(cores + 1)]) {
    // Both spellings: "--threads -2" reads as a flag named -2 to parseArgs.
    for (const args of [[`--threads=${bad}`], ["--threads", bad]]) {
      const r = await captureConsole(() => main([...args, "--out", "/nonexistent/never-written"]));
      assert.equal(r.value, 2, r.err);
      assert.match(
        r.err,
        new RegExp(`from 1 to ${cores} \\(this machine's cores\\), got "${bad}"`),
      );
      assert.equal(r.err.trim().split("\n").length, 1, "one line");
    }
  }
});

Deno.test({
  name: "start-up check: the real kernels pass on 1 and 3 threads; a subtly broken one fails",
  ignore: !threaded,
  fn() {
    const ok = checkNativeKernels(blas!, { threads: [1, 3] });
    assert.ok(ok.ok, describeCheck(ok));
    assert.ok(ok.worstRatio < 0.5, `margin: ${ok.worstRatio}`);
    assert.ok(ok.identical, "threaded products bit-identical to one thread");
    assert.equal(blas!.threads, 1, "the check restores the thread count");
    assert.match(describeCheck(ok), /checked against JS float64 loops on 1 and 3 threads/);
    const bad = checkNativeKernels(faultyBlas(blas!, { relative: 1e-4 }), { threads: [1] });
    assert.equal(bad.ok, false);
    assert.match(describeCheck(bad), /FAILED .* error \d\.\d+e-\d+ > bound \d\.\d+e-\d+/);
    // A fault only on several threads passes on one and is caught on two.
    const t = faultyBlas(blas!, { relative: 1e-3, onlyThreaded: true });
    assert.equal(checkNativeKernels(t, { threads: [1] }).ok, true);
    const r2 = checkNativeKernels(t, { threads: [1, 2] });
    assert.equal(r2.ok, false);
    assert.ok(r2.failures.every((f) => f.threads === 2), JSON.stringify(r2.failures[0]));
  },
});

async function faultRun(args: string[]) {
  const helper = new URL("./helpers/native-fault.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", helper, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(text.trim().split("\n").at(-1)!) as {
    notes: string[];
    threads: number;
    native: boolean;
    worst: number;
  };
}

Deno.test({
  name: "a broken native kernel: the run falls back to the portable kernels and says so once",
  ignore: !threaded,
  async fn() {
    const r = await faultRun(["1e-3"]);
    assert.equal(r.native, false);
    assert.ok(r.worst < 1e-5, `products are the portable kernels' (worst ${r.worst})`);
    const failed = r.notes.filter((n) => /FAILED/.test(n));
    assert.equal(failed.length, 1, r.notes.join("\n"));
    assert.match(failed[0], /by the portable XNNPACK kernels: .* out of bounds, first sgemm/);
    assert.equal(r.threads, 1);
    assert.match(
      r.notes.at(-1)!,
      /threads: 1 \(test, but single-threaded: the native kernels failed/,
    );
    // Broken on several threads only: the same fallback (the check covers all the cores).
    if (navigator.hardwareConcurrency < 2) return;
    const t = await faultRun(["1e-3", "threaded"]);
    assert.equal(t.native, false);
    assert.ok(t.worst < 1e-5);
    assert.match(t.notes.join("\n"), /FAILED .* on 2 threads/);
  },
});

Deno.test("useThreads: without native kernels (or on cpu) one thread, and the note says why", () => {
  const before = activeThreads();
  try {
    setActiveBlas({ why: "no native BLAS (disabled by FMBENCH_BLAS=off)" });
    const wasm: ThreadsTarget = {
      backend: "wasm",
      device: "x86_64 (1 thread, 2 cores)",
      notes: [],
    };
    useThreads(wasm, { threads: 2, why: "--threads 2" });
    assert.equal(wasm.threads, 1);
    assert.deepEqual(wasm.notes, [
      "threads: 1 (--threads 2, but single-threaded: no native BLAS (disabled by FMBENCH_BLAS=off))",
    ]);
    const cpu = { backend: "cpu", device: "x86_64 (1 thread, 2 cores)", notes: [] as string[] };
    useThreads(cpu, { threads: 1, why: "auto: 2 cores / 2 workers" });
    assert.match(cpu.notes[0], /threads: 1 \(auto: .*; the cpu backend computes on one thread\)/);
    const gpu = { backend: "webgpu", device: "a GPU", notes: [] as string[] };
    useThreads(gpu, { threads: 4, why: "auto" });
    assert.deepEqual(gpu.notes, []);
  } finally {
    if (blas && before !== undefined) setActiveBlas({ blas, checked: [1] });
  }
});

Deno.test({
  name: "bit-identical on 1, 2 and 3 threads: U-Net gradients, long inner dimensions",
  ignore: !threaded,
  fn() {
    tf.setBackend("wasm");
    const runs = [1, 2, 3].map((t) => {
      useThreads({ ...info, notes: [] }, { threads: t, why: "test" });
      const { loss, grads } = tinyUnetGrads();
      // A product whose inner dimension is chunked (k > KCHUNK), each chunk big enough for 3
      // threads (192 x 160 x 256 multiply-adds > 3 MIN_WORK_PER_THREAD).
      const k = 3 * KCHUNK + 77;
      assert.ok(192 * 160 * KCHUNK >= 3 * MIN_WORK_PER_THREAD);
      const p = tf.tidy(() =>
        tf.matMul(
          tf.tensor2d(randomArray(192 * k, 5), [192, k]),
          tf.tensor2d(randomArray(k * 160, 6), [k, 160]),
        )
          .dataSync()
      );
      return { loss, grads, p };
    });
    useThreads({ ...info, notes: [] }, { threads: 1, why: "test" });
    for (const r of runs.slice(1)) {
      assert.ok(Object.is(r.loss, runs[0].loss));
      r.grads.forEach((g, i) => assert.deepEqual(g, runs[0].grads[i], `gradient ${i}`));
      assert.deepEqual(r.p, runs[0].p);
    }
  },
});

Deno.test("convolution routes: grid, im2col and 1x1, with bias and ReLU, match the cpu backend", () => {
  const cases: Array<
    { x: number[]; f: number[]; s: number; pad: "same" | "valid" | number; d?: number }
  > = [
    { x: [2, 24, 24, 5], f: [3, 3, 5, 7], s: 1, pad: "same" }, // grid
    { x: [2, 5, 5, 6], f: [3, 3, 6, 4], s: 1, pad: "same" }, // im2col (small image)
    { x: [2, 11, 10, 3], f: [3, 3, 3, 8], s: 2, pad: "valid" },
    { x: [1, 9, 9, 4], f: [5, 5, 4, 3], s: 2, pad: "same" },
    { x: [1, 10, 10, 4], f: [3, 3, 4, 3], s: 1, pad: 2, d: 2 },
    { x: [2, 6, 7, 20], f: [1, 1, 20, 9], s: 1, pad: "valid" }, // one sgemm on x
    { x: [2, 6, 6, 8], f: [1, 7, 8, 5], s: 1, pad: "same" },
    { x: [1, 8, 8, 300], f: [3, 3, 300, 6], s: 1, pad: "same" }, // k = 2700 > KCHUNK
  ];
  const routes = new Set<string>();
  for (const [i, c] of cases.entries()) {
    const attrs = { strides: c.s, pad: c.pad, dilations: c.d ?? 1 };
    routes.add(convRoute(c.x, c.f, attrs));
    for (const fused of [false, true]) {
      const run = (backend: string) => {
        tf.setBackend(backend);
        return tf.tidy(() => {
          const x = tf.tensor4d(randomArray(c.x.reduce((a, b) => a * b), 10 + i), c.x as never);
          const w = tf.tensor4d(randomArray(c.f.reduce((a, b) => a * b), 20 + i), c.f as never);
          const bias = tf.tensor1d(randomArray(c.f[3], 30 + i));
          const y = fused
            ? tf.fused.conv2d({
              x,
              filter: w,
              strides: c.s,
              pad: c.pad,
              dilations: c.d,
              bias,
              activation: "relu",
            })
            : tf.conv2d(x, w, c.s, c.pad, "NHWC", c.d);
          return { v: y.dataSync() as Float32Array, shape: y.shape };
        });
      };
      const want = run("cpu"), got = run("wasm");
      assert.deepEqual(got.shape, want.shape);
      const k = c.f[0] * c.f[1] * c.f[2];
      got.v.forEach((v, j) =>
        assert.ok(
          Math.abs(v - want.v[j]) <= 1e-6 * k * (1 + Math.abs(want.v[j])),
          `case ${i}${fused ? " fused" : ""} [${j}]: ${v} vs ${want.v[j]}`,
        )
      );
      if (fused) assert.ok(got.v.every((v) => v >= 0), "ReLU");
    }
  }
  assert.deepEqual([...routes].sort(), ["grid", "im2col"]);
  tf.setBackend("wasm");
});
