// Helper threads: how products and convolutions are shared, that shared results are the one-thread
// results bit for bit (and ran on a helper), that a failing job is reported, and that the SIMD
// GroupNorm passes give the JS loops' bits.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import { selectBackend } from "../backend/select.ts";
import { checkExtents, loadBlas } from "../backend/native-blas.ts";
import { MIN_SHARE_WORK, productShares, SHARE_ALIGN } from "../backend/shared-blas.ts";
import { helperJobsRun, helperThreads, runJobs } from "../backend/helper-pool.ts";
import { useThreads } from "../backend/threads.ts";
import { groupNormKernelFuncs } from "../backend/group-norm-kernel.ts";
import { compileGroupNormSimd } from "../backend/group-norm-simd.ts";
import { randomArray } from "./helpers/random.ts";
import { groupNorm } from "../core/ops/group-norm.ts";

const info = await selectBackend("wasm");
const { blas } = loadBlas();
const threaded = !!blas && blas.threads > 0 && navigator.hardwareConcurrency >= 2;

Deno.test("productShares: C split in multiples of 64 rows (or columns), none for small products", () => {
  assert.equal(productShares(64, 64, 64, 4), undefined, "2^18 multiply-adds: not worth waking");
  const [along, shares] = productShares(4096, 64, 64, 2)!;
  assert.equal(along, "m");
  assert.deepEqual(shares, [[0, 2048], [2048, 2048]]);
  const odd = productShares(1000, 300, 500, 3)!;
  assert.equal(odd[0], "m");
  assert.deepEqual(odd[1].map(([s]) => s % SHARE_ALIGN), [0, 0, 0]);
  assert.equal(odd[1].reduce((n, [, len]) => n + len, 0), 1000, "every row once");
  assert.equal(productShares(32, 4096, 64, 2)![0], "n", "wide C: columns");
  assert.equal(productShares(100, 100, 1 << 20, 8), undefined, "under 2 x 64 rows: whole");
  // The inner dimension counts up to KCHUNK (the products are chunked there).
  assert.ok(productShares(256, 64, 256, 2));
  assert.equal(256 * 64 * 256 / 2 >= MIN_SHARE_WORK, true);
});

Deno.test("sgemm refuses arrays shorter than the product reads or writes", () => {
  const s = { ta: false, tb: true, m: 3, n: 4, k: 5, lda: 5, ldb: 5, ldc: 4 };
  checkExtents(s, { a: 15, b: 20, c: 12 });
  assert.throws(() => checkExtents(s, { a: 15, b: 19, c: 12 }), /B holds 19 floats, .* needs 20/);
  assert.throws(() => checkExtents(s, { a: 14, b: 20, c: 12 }), /sgemm 3x4x5: A holds 14/);
  if (!blas) return;
  const c = new Float32Array(5);
  assert.throws(
    () =>
      blas.sgemm(false, false, 2, 3, 2, 1, new Float32Array(4), 2, new Float32Array(6), 3, 0, c, 3),
    RangeError,
  );
});

/** Conv forward, both conv gradients and a batched product, on images large enough to share. */
function sharedWork(): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(randomArray(3 * 40 * 40 * 8, 1), [3, 40, 40, 8]);
    const w = tf.tensor4d(randomArray(3 * 3 * 8 * 16, 2), [3, 3, 8, 16]);
    const dy = tf.tensor4d(randomArray(3 * 40 * 40 * 16, 3), [3, 40, 40, 16]);
    const f = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.sum(tf.mul(tf.conv2d(a, b, 1, "same"), dy));
    const [dx, dw] = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([x, w]);
    const y = tf.conv2d(x, w, 1, "same");
    const p = tf.matMul(
      tf.tensor3d(randomArray(8 * 128 * 96, 4), [8, 128, 96]),
      tf.tensor3d(randomArray(8 * 96 * 128, 5), [8, 96, 128]),
    );
    const q = tf.matMul(
      tf.tensor2d(randomArray(1024 * 300, 6), [1024, 300]),
      tf.tensor2d(randomArray(300 * 96, 7), [300, 96]),
    );
    // GroupNorm with SiLU between them (its passes stay on this thread).
    const gx = tf.tensor4d(randomArray(8 * 16 * 16 * 32, 8).map((t) => 5 + 2 * t), [8, 16, 16, 32]);
    const gamma = tf.tensor1d(randomArray(32, 9)), beta = tf.tensor1d(randomArray(32, 10));
    const gdy = tf.tensor4d(randomArray(8 * 16 * 16 * 32, 11), [8, 16, 16, 32]);
    const gn = (a: tf.Tensor, gm: tf.Tensor, bt: tf.Tensor) =>
      tf.sum(
        tf.mul(groupNorm(a as tf.Tensor4D, { groups: 8, gamma: gm, beta: bt, silu: true }), gdy),
      );
    const gy = groupNorm(gx, { groups: 8, gamma, beta, silu: true });
    const [gdx, gdg, gdb] = tf.grads(gn)([gx, gamma, beta]);
    return [y, dx, dw, p, q, gy, gdx, gdg, gdb].map((t) => t.dataSync() as Float32Array);
  });
}

Deno.test({
  name: "shared convolutions and products: bit-identical on 1, 2 and 3 threads, run on helpers",
  ignore: !threaded,
  fn() {
    tf.setBackend("wasm");
    const runs = [1, 2, 3].map((t) => {
      useThreads({ ...info, notes: [] }, { threads: t, why: "test" });
      assert.equal(helperThreads(), t);
      const before = helperJobsRun();
      const out = sharedWork();
      if (t > 1) assert.ok(helperJobsRun() > before, `helpers ran no job on ${t} threads`);
      return out;
    });
    useThreads({ ...info, notes: [] }, { threads: 1, why: "test" });
    assert.equal(helperThreads(), 1, "one thread: no helpers");
    const names = ["conv", "conv dx", "conv dW", "batched matMul", "matMul"]
      .concat(["GroupNorm", "GroupNorm dx", "GroupNorm dgamma", "GroupNorm dbeta"]);
    for (const r of runs.slice(1)) {
      r.forEach((v, i) => assert.ok(v.every((x, j) => Object.is(x, runs[0][i][j])), names[i]));
    }
  },
});

Deno.test({
  name: "a job that fails on a helper (or here) is rethrown with its message",
  ignore: !threaded,
  fn() {
    useThreads({ ...info, notes: [] }, { threads: 2, why: "test" });
    try {
      const a = new Float32Array(64 * 64), b = new Float32Array(64 * 64);
      const ok = new Float32Array(64 * 64), short = new Float32Array(1000);
      const job = (c: Float32Array) => ({
        kind: "sgemm" as const,
        arrays: [a, b, c],
        nums: [0, 0, 64, 64, 64, 1, 64, 64, 0, 64],
      });
      assert.throws(
        () => runJobs([job(ok), job(short), job(ok), job(short)]),
        /C holds 1000 floats, the product needs 4096/,
      );
      // A buffer small enough to live in V8's moving heap is refused before any thread reads it.
      assert.throws(() => runJobs([job(ok), job(new Float32Array(10))]), /may move/);
      runJobs([job(ok), job(ok)]); // the pool still works
    } finally {
      useThreads({ ...info, notes: [] }, { threads: 1, why: "test" });
    }
  },
});

Deno.test("GroupNorm: the SIMD passes give the JS loops' bits, forward and backward, with SiLU", async () => {
  tf.setBackend("wasm");
  const simd = groupNormKernelFuncs("wasm", { simd: await compileGroupNormSimd() });
  const js = groupNormKernelFuncs("wasm", {});
  // deno-lint-ignore no-explicit-any
  const backend = tf.backend() as any;
  const read = (infos: tf.TensorInfo[]) =>
    infos.map((i) => {
      const v = Float32Array.from(backend.readSync(i.dataId) as Float32Array);
      backend.disposeData(i.dataId);
      return v;
    });
  const cases = [
    { shape: [3, 5, 7, 12], groups: 3 },
    { shape: [2, 4, 4, 4], groups: 1 },
    { shape: [1, 8, 8, 32], groups: 8 },
    { shape: [2, 3, 3, 96], groups: 32 },
  ];
  for (const [i, c] of cases.entries()) {
    const size = c.shape.reduce((a, b) => a * b, 1), ch = c.shape[3];
    // A large mean (the shifted sums' case) and a spread of magnitudes.
    const x = tf.tensor(randomArray(size, 40 + i).map((v) => 50 + 3 * v), c.shape);
    const gamma = tf.tensor1d(randomArray(ch, 50 + i).map((v) => 1 + v));
    const beta = tf.tensor1d(randomArray(ch, 60 + i));
    const dy = tf.tensor(randomArray(size, 70 + i), c.shape);
    for (const silu of [false, true]) {
      const attrs = { groups: c.groups, eps: 1e-6, silu };
      const fw = (f: typeof js) =>
        read(f.forward({ inputs: { x, gamma, beta }, backend, attrs }) as tf.TensorInfo[]);
      const a = fw(simd), b = fw(js);
      const what = `${c.shape} groups ${c.groups}${silu ? " silu" : ""}`;
      a.forEach((v, k) => assert.deepEqual(v, b[k], `forward output ${k}, ${what}`));
      const stats = tf.tensor(a[1], [c.shape[0], c.groups, 2]);
      const bw = (f: typeof js) =>
        read(
          f.backward({
            inputs: { dy, x, gamma, beta, stats },
            backend,
            attrs,
          }) as tf.TensorInfo[],
        );
      const ga = bw(simd), gb = bw(js);
      ga.forEach((v, k) => assert.deepEqual(v, gb[k], `gradient ${k}, ${what}`));
      stats.dispose();
    }
    tf.dispose([x, gamma, beta, dy]);
  }
});
