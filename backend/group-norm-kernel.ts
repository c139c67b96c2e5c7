// Fused GroupNorm(+SiLU) kernels of core/ops/group-norm.ts for wasm and cpu: WebAssembly SIMD
// passes on the wasm heap where they apply (backend/group-norm-simd.ts), else JS loops.
import { tf } from "../core/tf.ts";
import {
  GROUP_NORM_GRAD_KERNEL,
  GROUP_NORM_KERNEL,
  type GroupNormAttrs,
} from "../core/ops/group-norm.ts";
import { type HostBackendName, hostKernelFunc } from "./host-kernel.ts";
import { siluFromSigmoid } from "./silu-kernel.ts";
import {
  groupNormAffine,
  groupNormBackward,
  type GroupNormDims,
  groupNormForward,
} from "./group-norm-math.ts";
import { type GroupNormSimd, groupNormSimd } from "./group-norm-simd.ts";

export {
  groupNormAffine,
  groupNormBackward,
  type GroupNormDims,
  groupNormForward,
} from "./group-norm-math.ts";

type Info = tf.TensorInfo;
// deno-lint-ignore no-explicit-any
type WasmBackend = any;

function dims(shapes: number[][], attrs: tf.NamedAttrMap): GroupNormDims {
  const [b, h, w, c] = shapes[0];
  return { b, n: h * w, c, groups: attrs.groups as number };
}

/** The SIMD GroupNorm of the wasm backend's memory (one instance per memory). */
let simd: { memory: WebAssembly.Memory; gn: GroupNormSimd } | undefined;
function simdFor(backend: WasmBackend, module: WebAssembly.Module): GroupNormSimd | undefined {
  const memory = backend.wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  if (simd?.memory !== memory) simd = { memory, gn: groupNormSimd(module, memory) };
  return simd.gn;
}

/**
 * The wasm kernels through the SIMD passes, or undefined (use the JS loops) where they do not
 * apply: channels not a multiple of 4, or tfjs-wasm's memory not reachable.
 */
function simdKernels(module: WebAssembly.Module) {
  const offset = (backend: WasmBackend, i: Info) => backend.dataIdMap.get(i.dataId).memoryOffset;
  /** Run `body` with 3 b c float64 of heap scratch, freed after. */
  const withScratch = (backend: WasmBackend, d: GroupNormDims, body: (at: number) => void) => {
    const scratch = backend.makeOutput([d.b * d.c * 6 + 2], "float32") as Info;
    try {
      const at = offset(backend, scratch);
      body(at % 8 === 0 ? at : at + 4);
    } finally {
      backend.disposeData(scratch.dataId);
    }
  };
  const sigmoidOf = (backend: WasmBackend, x: Info) =>
    tf.getKernel("Sigmoid", "wasm")!.kernelFunc({ inputs: { x }, backend, attrs: {} }) as Info;
  const usable = (args: tf.KernelFunc extends (a: infer A) => unknown ? A : never) => {
    const x = (args.inputs as Record<string, Info>).x;
    return x.dtype === "float32" && x.shape.length === 4 && x.shape[3] % 4 === 0
      ? simdFor(args.backend, module)
      : undefined;
  };
  const forward = (args: Parameters<tf.KernelFunc>[0]): Info[] | undefined => {
    const gn = usable(args);
    if (!gn) return undefined;
    const backend = args.backend as WasmBackend;
    const { x, gamma, beta } = args.inputs as Record<string, Info>;
    const at = args.attrs as unknown as GroupNormAttrs;
    const d = dims([x.shape], args.attrs as tf.NamedAttrMap);
    const y = backend.makeOutput(x.shape, "float32") as Info;
    const stats = backend.makeOutput([d.b, d.groups, 2], "float32") as Info;
    withScratch(backend, d, (scratch) => {
      const o = (i: Info) => offset(backend, i);
      gn.forward(
        { x: o(x), gamma: o(gamma), beta: o(beta), y: o(y), stats: o(stats), scratch },
        d,
        at.eps,
      );
    });
    if (at.silu) {
      const s = sigmoidOf(backend, y);
      const o = (i: Info) => offset(backend, i);
      gn.siluFromSigmoid(o(y), o(s), o(y), d.b * d.n * d.c);
      backend.disposeData(s.dataId);
    }
    return [y, stats];
  };
  const backward = (args: Parameters<tf.KernelFunc>[0]): Info[] | undefined => {
    const gn = usable(args);
    if (!gn) return undefined;
    const backend = args.backend as WasmBackend;
    const { dy, x, gamma, beta, stats } = args.inputs as Record<string, Info>;
    const at = args.attrs as unknown as GroupNormAttrs;
    const d = dims([x.shape], args.attrs as tf.NamedAttrMap);
    const dx = backend.makeOutput(x.shape, "float32") as Info;
    const dgamma = backend.makeOutput([d.c], "float32") as Info;
    const dbeta = backend.makeOutput([d.c], "float32") as Info;
    let s: Info | undefined;
    const o = (i: Info) => offset(backend, i);
    if (at.silu) {
      // z from the statistics (into dx, which the first pass overwrites), then its sigmoid.
      withScratch(backend, d, (scratch) =>
        gn.affine(
          { x: o(x), gamma: o(gamma), beta: o(beta), stats: o(stats), z: o(dx), scratch },
          d,
        ));
      s = sigmoidOf(backend, dx);
    }
    try {
      withScratch(backend, d, (scratch) =>
        gn.backward({
          dy: o(dy),
          x: o(x),
          gamma: o(gamma),
          stats: o(stats),
          dx: o(dx),
          dgamma: o(dgamma),
          dbeta: o(dbeta),
          scratch,
          silu: s ? { z: o(dx), s: o(s) } : undefined,
        }, d));
    } finally {
      if (s) backend.disposeData(s.dataId);
    }
    return [dx, dgamma, dbeta];
  };
  return { forward, backward };
}

/**
 * The kernel functions of FmbGroupNorm and FmbGroupNormGrad on a CPU backend: with `simd` (a
 * compiled backend/group-norm-simd.ts module) on wasm, the passes over the data run as
 * WebAssembly SIMD where they apply, bit-identical to the JS loops used otherwise.
 * @example
 * const { forward, backward } = groupNormKernelFuncs("wasm", { simd: await compileGroupNormSimd() });
 */
export function groupNormKernelFuncs(
  backendName: HostBackendName,
  o: { simd?: WebAssembly.Module } = {},
): { forward: tf.KernelFunc; backward: tf.KernelFunc } {
  const fast = backendName === "wasm" && o.simd ? simdKernels(o.simd) : undefined;
  const jsForward = hostKernelFunc(
    backendName,
    ["x", "gamma", "beta"],
    (s, attrs) => [s[0], [s[0][0], attrs.groups as number, 2]],
    (io) => {
      const at = io.attrs as unknown as GroupNormAttrs;
      const [x, gamma, beta] = io.ins, [y, stats] = io.outs;
      groupNormForward(x, gamma, beta, dims(io.shapes, io.attrs), at.eps, y, stats);
      if (!at.silu) return;
      const s = io.sigmoidOf("out", 0);
      siluFromSigmoid(io.outs[0], s, io.outs[0]);
    },
  );
  const jsBackward = hostKernelFunc(
    backendName,
    ["dy", "x", "gamma", "beta", "stats"],
    (s) => [s[1], s[2], s[3]],
    (io) => {
      const at = io.attrs as unknown as GroupNormAttrs;
      const d = dims(io.shapes.slice(1), io.attrs);
      let silu: { z: Float32Array; s: Float32Array } | undefined;
      if (at.silu) {
        // z from the statistics (into dx, which the first pass overwrites), then its sigmoid.
        const [, x, gamma, beta, stats] = io.ins;
        groupNormAffine(x, gamma, beta, stats, d, io.outs[0]);
        const s = io.sigmoidOf("out", 0);
        silu = { z: io.outs[0], s };
      }
      const [dy, x, gamma, , stats] = io.ins, [dx, dgamma, dbeta] = io.outs;
      groupNormBackward(dy, x, gamma, stats, d, dx, dgamma, dbeta, silu);
    },
  );
  return {
    forward: (args) => fast?.forward(args) ?? jsForward(args),
    backward: (args) => fast?.backward(args) ?? jsBackward(args),
  };
}

/**
 * Register the fused GroupNorm kernels (FmbGroupNorm, FmbGroupNormGrad) on a CPU backend, so
 * core's groupNorm() runs one kernel forward and one backward there. With SiLU fused, the
 * sigmoid of z is the backend's own kernel on wasm (XNNPACK), and the backward recomputes z.
 * With `simd` on wasm, the passes run as WebAssembly SIMD ({@link groupNormKernelFuncs}).
 * Idempotent.
 * @example
 * registerGroupNormKernels("wasm", { simd: await compileGroupNormSimd() });
 */
export function registerGroupNormKernels(
  backendName: HostBackendName,
  o: { simd?: WebAssembly.Module } = {},
): void {
  if (tf.getKernel(GROUP_NORM_KERNEL, backendName)) return;
  const { forward, backward } = groupNormKernelFuncs(backendName, o);
  tf.registerKernel({ kernelName: GROUP_NORM_KERNEL, backendName, kernelFunc: forward });
  tf.registerKernel({ kernelName: GROUP_NORM_GRAD_KERNEL, backendName, kernelFunc: backward });
}
