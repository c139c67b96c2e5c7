// BatchMatMul on the wasm backend through a native BLAS (backend/native-blas.ts): one
// cblas_sgemm per batch matrix, reading and writing the wasm heap in place, transposes included.
import { tf } from "../core/tf.ts";
import { type Blas, KCHUNK } from "./native-blas.ts";
import type { Job } from "./helper-jobs.ts";
import { helperThreads, runJobs } from "./helper-pool.ts";
import { MIN_SHARE_WORK } from "./shared-blas.ts";

type Info = tf.TensorInfo;
// deno-lint-ignore no-explicit-any
type WasmBackend = any;
type KernelFunc = tf.KernelConfig["kernelFunc"];

/**
 * A float32 view of a tensor's data on the wasm heap, `offset` elements in, `length` long (by
 * default to the end of the tensor). Valid until the next allocation; used inside wasm kernels.
 * @example
 * const out = heapView(backend, y, 0, m * n); // write the product in place
 */
export function heapView(backend: WasmBackend, x: Info, offset = 0, length?: number): Float32Array {
  const { memoryOffset } = backend.dataIdMap.get(x.dataId);
  const size = length ?? x.shape.reduce((p: number, d: number) => p * d, 1) - offset;
  return new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset + 4 * offset, size);
}

/**
 * The BatchMatMul kernel function: batch dimensions equal or one side without batch (broadcast);
 * anything else (other dtypes, general broadcasting, empty tensors) goes to `fallback`.
 * @example
 * const cfg = tf.getKernel("BatchMatMul", "wasm")!;
 * tf.registerKernel({ ...cfg, kernelFunc: makeBlasBatchMatMul(blas, cfg.kernelFunc) });
 */
export function makeBlasBatchMatMul(blas: Blas, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: Info; b: Info };
    const backend = args.backend as WasmBackend;
    const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
    const ta = !!attrs.transposeA, tb = !!attrs.transposeB;
    if (a.dtype !== "float32" || b.dtype !== "float32") return fallback(args);
    const ra = a.shape.length, rb = b.shape.length;
    const m = ta ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = ta ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
    const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
    const batchA = outerA.reduce((p, d) => p * d, 1), batchB = outerB.reduce((p, d) => p * d, 1);
    const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
    const broadcast = (batchA === 1 && outerA.length <= outerB.length) ||
      (batchB === 1 && outerB.length <= outerA.length);
    if (k !== kb || !(sameOuter || broadcast) || m * n * k === 0) return fallback(args);
    const outer = batchA >= batchB && outerA.length >= outerB.length ? outerA : outerB;
    const batch = Math.max(batchA, batchB);
    const out = backend.makeOutput([...outer, m, n], "float32") as Info;
    // Views are made after the output is allocated (an allocation may grow the heap).
    const av = heapView(backend, a), bv = heapView(backend, b), cv = heapView(backend, out);
    const lda = ta ? m : k, ldb = tb ? k : n;
    const sa = batchA === 1 ? 0 : m * k, sb = batchB === 1 ? 0 : k * n;
    const shares = Math.min(helperThreads(), batch);
    if (shares > 1 && batch * m * n * Math.min(k, KCHUNK) >= shares * MIN_SHARE_WORK) {
      // Whole products per thread: each is the one-thread product, bit for bit.
      const jobs: Job[] = Array.from({ length: shares }, (_, j) => {
        const i0 = Math.floor((j * batch) / shares), i1 = Math.floor(((j + 1) * batch) / shares);
        return {
          kind: "sgemmBatch",
          arrays: [av.subarray(i0 * sa), bv.subarray(i0 * sb), cv.subarray(i0 * m * n)],
          nums: [+ta, +tb, m, n, k, lda, ldb, i1 - i0, sa, sb],
        };
      });
      blas.oneThread(() => runJobs(jobs));
      return out;
    }
    for (let i = 0; i < batch; i++) {
      const ai = batchA === 1 ? av : av.subarray(i * m * k, (i + 1) * m * k);
      const bi = batchB === 1 ? bv : bv.subarray(i * k * n, (i + 1) * k * n);
      const ci = batch === 1 ? cv : cv.subarray(i * m * n, (i + 1) * m * n);
      blas.sgemm(ta, tb, m, n, k, 1, ai, lda, bi, ldb, 0, ci, n);
    }
    return out;
  };
}

let registered: Blas | undefined;

/**
 * Replace wasm's BatchMatMul by the BLAS one (idempotent); the kernel registered before stays as
 * the fallback. Call after the wasm backend is set and its other fixes are registered.
 * @example
 * const { blas } = loadBlas();
 * if (blas) registerBlasMatMul(blas);
 */
export function registerBlasMatMul(blas: Blas): void {
  if (registered) return;
  const cfg = tf.getKernel("BatchMatMul", "wasm");
  if (!cfg) {
    throw new Error("wasm-blas-matmul: wasm BatchMatMul missing; set the wasm backend first");
  }
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({ ...cfg, kernelFunc: makeBlasBatchMatMul(blas, cfg.kernelFunc) });
  registered = blas;
}
