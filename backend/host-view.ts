// Zero-copy reads of a tensor's float32 data on the CPU backends (the wasm heap, the cpu backend's
// arrays), and a copy on any other backend: for optimizer updates done in JS.
import { tf } from "../core/tf.ts";

/**
 * True when tensor data lives in host memory that JS can read without a device transfer (the
 * wasm and cpu backends).
 * @example
 * await tf.setBackend("cpu");
 * onHostBackend(); // true
 */
export function onHostBackend(): boolean {
  const b = tf.getBackend();
  return b === "wasm" || b === "cpu";
}

/**
 * The float32 values of `t`: on wasm a view into the heap (valid until the next tensor
 * allocation), on cpu the backend's own array (do not write to either), else a copy.
 * @example
 * const g = hostView(grad); // read only
 */
export function hostView(t: tf.Tensor): Float32Array {
  if (t.dtype !== "float32") return Float32Array.from(t.dataSync() as ArrayLike<number>);
  const name = tf.getBackend();
  // deno-lint-ignore no-explicit-any
  const backend = tf.backend() as any;
  if (name === "wasm") {
    const { memoryOffset } = backend.dataIdMap.get(t.dataId);
    return new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset, t.size);
  }
  if (name === "cpu") {
    const values = backend.data.get(t.dataId)?.values;
    if (values instanceof Float32Array && values.length === t.size) return values;
  }
  return t.dataSync() as Float32Array;
}
