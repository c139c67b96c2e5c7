// Sum and Mean on the wasm backend through BLAS: a reduction over any set of axes becomes products
// with a vector of ones, without the transposes wasm's own kernels make for non-innermost axes.
import { tf } from "../core/tf.ts";
import type { Blas } from "./native-blas.ts";
import { heapView } from "./wasm-blas-matmul.ts";

type Info = tf.TensorInfo;
// deno-lint-ignore no-explicit-any
type WasmBackend = any;
type KernelFunc = tf.KernelConfig["kernelFunc"];

/** Reductions with more separate outer blocks than this (and a kept inner run) use the original kernel. */
const MAX_OUTER_CALLS = 512;

let ones = new Float32Array(0);

function onesOf(n: number): Float32Array {
  // At least 1 KiB: off V8's moving heap, so helper threads can read it by address.
  if (ones.length < n) ones = new Float32Array(Math.max(n, 2 * ones.length, 256)).fill(1);
  return ones.subarray(0, n);
}

/**
 * The shape as runs of consecutive kept or reduced axes, e.g. [2, 3, 4, 5] reducing axes [1, 2]
 * gives [{ size: 2, reduced: false }, { size: 12, reduced: true }, { size: 5, reduced: false }].
 * @example
 * axisRuns([2, 3, 4, 5], [1, 2]);
 */
export function axisRuns(
  shape: number[],
  axes: number[],
): Array<{ size: number; reduced: boolean }> {
  const runs: Array<{ size: number; reduced: boolean }> = [];
  shape.forEach((d, i) => {
    const reduced = axes.includes(i);
    const last = runs[runs.length - 1];
    if (last && last.reduced === reduced) last.size *= d;
    else runs.push({ size: d, reduced });
  });
  return runs;
}

/** One pass: out[o, i] = alpha * sum_r src[o, r, i], as sgemm calls with a ones vector. */
function reducePass(
  blas: Blas,
  src: Float32Array,
  out: Float32Array,
  o: number,
  r: number,
  inner: number,
  alpha: number,
): void {
  const e = onesOf(r);
  if (inner === 1) {
    blas.sgemm(false, false, o, 1, r, alpha, src, r, e, 1, 0, out, 1);
    return;
  }
  for (let k = 0; k < o; k++) {
    const s = o === 1 ? src : src.subarray(k * r * inner, (k + 1) * r * inner);
    const d = o === 1 ? out : out.subarray(k * inner, (k + 1) * inner);
    blas.sgemm(false, false, 1, inner, r, alpha, e, r, s, inner, 0, d, inner);
  }
}

/**
 * A Sum (mean = false) or Mean (mean = true) kernel function over BLAS (products with a vector
 * of ones); non-float32 or empty inputs go to `fallback`.
 * @example
 * const cfg = tf.getKernel("Mean", "wasm")!;
 * tf.registerKernel({ ...cfg, kernelFunc: makeBlasReduce(blas, cfg.kernelFunc, true) });
 */
export function makeBlasReduce(blas: Blas, fallback: KernelFunc, mean: boolean): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: Info };
    const backend = args.backend as WasmBackend;
    const attrs = args.attrs as { axis: number | number[]; keepDims?: boolean };
    if (x.dtype !== "float32") return fallback(args);
    const axes = [...new Set(tf.util.parseAxisParam(attrs.axis, x.shape))].sort((a, b) => a - b);
    const size = x.shape.reduce((p, d) => p * d, 1);
    if (axes.length === 0 || size === 0) return fallback(args);
    // Plan the passes: each removes the first reduced run of the remaining shape.
    const passes: Array<{ o: number; r: number; inner: number }> = [];
    let plan = axisRuns(x.shape, axes);
    while (plan.some((q) => q.reduced)) {
      const j = plan.findIndex((q) => q.reduced);
      const o = plan.slice(0, j).reduce((p, q) => p * q.size, 1);
      const inner = plan.slice(j + 1).reduce((p, q) => p * q.size, 1);
      if (inner > 1 && o > MAX_OUTER_CALLS) return fallback(args);
      passes.push({ o, r: plan[j].size, inner });
      plan = axisRuns(
        plan.filter((_, k) => k !== j).map((q) => q.size),
        plan.flatMap((q, k) => (k !== j && q.reduced ? [k < j ? k : k - 1] : [])),
      );
    }
    const outShape = attrs.keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    const out = backend.makeOutput(outShape, "float32") as Info;
    let src = heapView(backend, x);
    passes.forEach((p, k) => {
      const last = k === passes.length - 1;
      const dst = last ? heapView(backend, out) : new Float32Array(p.o * p.inner);
      reducePass(blas, src, dst, p.o, p.r, p.inner, mean ? 1 / p.r : 1);
      src = dst;
    });
    return out;
  };
}

let registered = false;

/**
 * Replace wasm's Sum and Mean by the BLAS reductions (idempotent); the kernels registered before
 * stay as the fallback for other dtypes.
 * @example
 * const { blas } = loadBlas();
 * if (blas) registerBlasReduce(blas);
 */
export function registerBlasReduce(blas: Blas): void {
  if (registered) return;
  for (const [name, mean] of [["Sum", false], ["Mean", true]] as const) {
    const cfg = tf.getKernel(name, "wasm");
    if (!cfg) throw new Error(`wasm-blas-reduce: wasm ${name} missing; set the wasm backend first`);
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ ...cfg, kernelFunc: makeBlasReduce(blas, cfg.kernelFunc, mean) });
  }
  registered = true;
}
