// Speed fixes for tfjs-backend-wasm: its matmul with transposeA/transposeB is 10-20x slower than an
// explicit Transpose followed by a plain matmul (every backward pass uses transposed matmuls), and
// its Identity copies the data where sharing it is enough (the gradient tape clones every tensor
// it saves for the backward pass).
import { tf } from "../core/tf.ts";

type KernelFunc = tf.KernelConfig["kernelFunc"];
type Info = tf.TensorInfo;

let applied = false;

/**
 * Re-register wasm BatchMatMul and _FusedMatMul so transposes happen explicitly first, and make
 * Identity and same-dtype Cast share their input's data (idempotent; a no-op before the wasm
 * kernels are registered).
 * @example
 * await tf.setBackend("wasm");
 * applyWasmMatMulFix(); // tf.matMul(a, b, true) now runs Transpose, then a plain matmul
 */
export function applyWasmMatMulFix(): void {
  if (applied) return;
  const transpose = tf.getKernel("Transpose", "wasm")?.kernelFunc;
  if (!transpose) return;
  for (const name of ["BatchMatMul", "_FusedMatMul"]) {
    const cfg = tf.getKernel(name, "wasm");
    if (!cfg) continue;
    const inner = cfg.kernelFunc;
    const wrapped: KernelFunc = (args) => {
      const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
      if (!attrs.transposeA && !attrs.transposeB) return inner(args);
      // deno-lint-ignore no-explicit-any
      const backend = args.backend as any;
      const inputs = { ...args.inputs } as Record<string, Info>;
      const temps: Info[] = [];
      const flip = (key: "a" | "b") => {
        const x = inputs[key];
        const perm = x.shape.map((_, i) => i);
        const n = perm.length;
        [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
        const y = transpose({ inputs: { x }, backend, attrs: { perm } }) as Info;
        temps.push(y);
        inputs[key] = y;
      };
      if (attrs.transposeA) flip("a");
      if (attrs.transposeB) flip("b");
      const out = inner({
        ...args,
        inputs,
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      });
      for (const t of temps) backend.disposeData(t.dataId);
      return out;
    };
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ ...cfg, kernelFunc: wrapped });
  }
  shareIdentity();
  applied = true;
}

/**
 * Identity (what tf.clone and the tape's saved tensors run) and Cast to the same dtype (the
 * gradient of a clone) share the input's data with a reference count, as the cpu backend does,
 * instead of copying it: tensors are immutable, and an assigned variable gets new data rather
 * than writes into the old.
 */
function shareIdentity(): void {
  for (const name of ["Identity", "Cast"]) {
    const cfg = tf.getKernel(name, "wasm");
    if (!cfg) continue;
    const copy = cfg.kernelFunc;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({
      ...cfg,
      kernelFunc: (args) => {
        const x = (args.inputs as { x: Info }).x;
        const dtype = (args.attrs as { dtype?: string } | undefined)?.dtype ?? x.dtype;
        if (x.dtype === "string" || dtype !== x.dtype) return copy(args);
        // deno-lint-ignore no-explicit-any
        (args.backend as any).incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      },
    });
  }
}
