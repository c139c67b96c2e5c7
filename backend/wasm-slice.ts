// Slice and SplitV on the wasm backend as block copies on the heap: each output is a set of
// contiguous runs of the input, copied with TypedArray.set (wasm's own kernels are ~20x slower on
// strided slices such as the channel split in a U-Net's skip-connection gradient).
import { tf } from "../core/tf.ts";
import { heapView } from "./wasm-blas-matmul.ts";

type Info = tf.TensorInfo;
// deno-lint-ignore no-explicit-any
type WasmBackend = any;

/**
 * Copy the block x[begin : begin + size] of a row-major array of `shape` into `out` (densely).
 * Runs of whole trailing dimensions are merged, so each .set copies one contiguous run.
 * @example
 * copyBlock(src, [2, 3], [0, 1], [2, 2], dst); // dst = [src[1], src[2], src[4], src[5]]
 */
export function copyBlock(
  src: Float32Array,
  shape: number[],
  begin: number[],
  size: number[],
  out: Float32Array,
): void {
  const r = shape.length;
  if (r === 0) {
    out[0] = src[0];
    return;
  }
  // The contiguous run: the innermost sliced axis times all full axes after it.
  let d = r - 1;
  while (d > 0 && size[d] === shape[d] && begin[d] === 0) d--;
  const strides = new Array(r).fill(1);
  for (let i = r - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  const run = size[d] * strides[d];
  const outer = size.slice(0, d).reduce((p, s) => p * s, 1);
  const idx = new Array(d).fill(0);
  let o = 0;
  for (let k = 0; k < outer; k++) {
    let off = begin[d] * strides[d];
    for (let i = 0; i < d; i++) off += (begin[i] + idx[i]) * strides[i];
    out.set(src.subarray(off, off + run), o);
    o += run;
    for (let i = d - 1; i >= 0; i--) {
      if (++idx[i] < size[i]) break;
      idx[i] = 0;
    }
  }
}

function sliceInfo(backend: WasmBackend, x: Info, begin: number[], size: number[]): Info {
  const out = backend.makeOutput(size, x.dtype) as Info;
  const n = size.reduce((p, s) => p * s, 1);
  if (n > 0) {
    const total = x.shape.reduce((p, s) => p * s, 1);
    copyBlock(heapView(backend, x, 0, total), x.shape, begin, size, heapView(backend, out, 0, n));
  }
  return out;
}

let registered = false;

/**
 * Replace wasm's Slice and SplitV by block copies for float32 (other dtypes keep the original
 * kernels). Idempotent; call after the wasm backend is set.
 * @example
 * registerWasmSlice();
 */
export function registerWasmSlice(): void {
  if (registered) return;
  const slice = tf.getKernel("Slice", "wasm"), split = tf.getKernel("SplitV", "wasm");
  if (!slice || !split) throw new Error("wasm-slice: set the wasm backend first");
  tf.unregisterKernel("Slice", "wasm");
  tf.registerKernel({
    ...slice,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: Info }).x;
      if (x.dtype !== "float32") return slice.kernelFunc(args);
      const a = args.attrs as { begin: number | number[]; size: number | number[] };
      const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, a.begin, a.size);
      return sliceInfo(args.backend, x, begin, size);
    },
  });
  tf.unregisterKernel("SplitV", "wasm");
  tf.registerKernel({
    ...split,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: Info }).x;
      if (x.dtype !== "float32") return split.kernelFunc(args);
      const a = args.attrs as { numOrSizeSplits: number | number[]; axis: number | number[] };
      const axis = tf.util.parseAxisParam(a.axis, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, a.numOrSizeSplits, axis);
      const begin = x.shape.map(() => 0);
      return sizes.map((s) => {
        const size = [...x.shape];
        size[axis] = s;
        const out = sliceInfo(args.backend, x, [...begin], size);
        begin[axis] += s;
        return out;
      });
    },
  });
  registered = true;
}
