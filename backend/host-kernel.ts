// Float32 kernels written as JS loops over host memory, registered on wasm (heap views) and cpu.
import { tf } from "../core/tf.ts";

type Info = tf.TensorInfo;
// deno-lint-ignore no-explicit-any
type AnyBackend = any;

/**
 * The CPU backends whose tensor data JS reads and writes in place.
 * @example
 * const name: HostBackendName = "wasm";
 */
export type HostBackendName = "wasm" | "cpu";

/**
 * What a host kernel's body works on: views of the float32 inputs (in the order given to
 * {@link hostKernelFunc}) and of the outputs (one per output shape, not initialised on wasm:
 * write every element), and `sigmoidOf`, the elementwise logistic sigmoid of one of them by the
 * backend's own Sigmoid kernel (XNNPACK on wasm). `sigmoidOf` may move the wasm heap: read
 * `ins` and `outs` again after calling it.
 * @example
 * const body = (io: HostIO) => {
 *   const s = io.sigmoidOf("in", 0); // then io.ins / io.outs afresh
 *   const [x] = io.ins, [y] = io.outs;
 *   for (let i = 0; i < x.length; i++) y[i] = x[i] * s[i];
 * };
 */
export interface HostIO {
  ins: Float32Array[];
  outs: Float32Array[];
  attrs: tf.NamedAttrMap;
  shapes: number[][];
  sigmoidOf(which: "in" | "out", index: number): Float32Array;
}

/**
 * Elementwise logistic sigmoid on the cpu backend (where there is no faster kernel to call), in
 * double precision: e^-z = 2^k e^r with k = round(-z log2 e), |r| <= ln 2 / 2 and e^r by its
 * degree-7 Taylor polynomial (relative error below 1e-8, so exact to float32 rounding).
 * @example
 * sigmoid(0); // 0.5
 */
export function sigmoid(z: number): number {
  let t = -z * Math.LOG2E;
  if (t > T_MAX) t = T_MAX;
  else if (t < -T_MAX) t = -T_MAX;
  const k = (t + ROUND) - ROUND; // round to nearest, without Math.round's slow path
  const r = (t - k) * Math.LN2;
  const p = 1 +
    r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r / 5040))))));
  return 1 / (1 + p * POW2[(k | 0) + 1022]);
}

/** 2^k for k in [-1022, 1023], at index k + 1022. */
const POW2 = Float64Array.from({ length: 2046 }, (_, i) => 2 ** (i - 1022));
/** |t| bound of the base-2 exponent (sigmoid is 0 or 1 in float32 long before). */
const T_MAX = 1000;
/** 1.5 * 2^52: adding and subtracting it rounds a double of magnitude < 2^51 to an integer. */
const ROUND = 6755399441055744;

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/**
 * A tfjs kernel function on a CPU backend that runs `body` on views of its inputs' data and of
 * freshly allocated outputs (wasm: the heap, zero-copy; cpu: the backend's arrays), so a kernel
 * costs one dispatch and the loops in `body`. `outShapes` gives the outputs' shapes from the
 * inputs' shapes and the attributes; one output is returned as a tensor, several as an array.
 * @example
 * const double = hostKernelFunc("cpu", ["x"], (s) => [s[0]], ({ ins: [x], outs: [y] }) => {
 *   for (let i = 0; i < x.length; i++) y[i] = 2 * x[i];
 * });
 * tf.registerKernel({ kernelName: "Double", backendName: "cpu", kernelFunc: double });
 */
export function hostKernelFunc(
  backendName: HostBackendName,
  inputNames: string[],
  outShapes: (shapes: number[][], attrs: tf.NamedAttrMap) => number[][],
  body: (io: HostIO) => void,
): tf.KernelFunc {
  return (args) => {
    const backend = args.backend as AnyBackend;
    const attrs = (args.attrs ?? {}) as tf.NamedAttrMap;
    const infos = inputNames.map((n) => {
      const info = (args.inputs as Record<string, Info | undefined>)[n];
      if (!info) throw new Error(`host kernel: input "${n}" missing`);
      if (info.dtype !== "float32") throw new Error(`host kernel: "${n}" must be float32`);
      return info;
    });
    const shapes = infos.map((i) => i.shape);
    const oShapes = outShapes(shapes, attrs);
    if (backendName === "wasm") {
      // Allocate every output before taking any view: an allocation can grow (and so detach) the heap.
      const outs = oShapes.map((s) => backend.makeOutput(s, "float32") as Info);
      const view = (i: Info) => {
        const { memoryOffset } = backend.dataIdMap.get(i.dataId);
        return new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset, size(i.shape));
      };
      const temps: Info[] = [];
      const sigmoidKernel = tf.getKernel("Sigmoid", "wasm")!;
      const io: HostIO = {
        ins: infos.map(view),
        outs: outs.map(view),
        attrs,
        shapes,
        sigmoidOf(which, index) {
          const x = (which === "in" ? infos : outs)[index];
          const s = sigmoidKernel.kernelFunc({ inputs: { x }, backend, attrs: {} }) as Info;
          temps.push(s);
          io.ins = infos.map(view);
          io.outs = outs.map(view);
          return view(s);
        },
      };
      try {
        body(io);
      } finally {
        for (const t of temps) backend.disposeData(t.dataId);
      }
      return outs.length === 1 ? outs[0] : outs;
    }
    const ins = infos.map((i) => {
      const values = backend.data.get(i.dataId)?.values;
      if (values instanceof Float32Array) return values;
      return backend.readSync(i.dataId) as Float32Array;
    });
    const outViews = oShapes.map((s) => new Float32Array(size(s)));
    body({
      ins,
      outs: outViews,
      attrs,
      shapes,
      sigmoidOf(which, index) {
        const src = (which === "in" ? ins : outViews)[index];
        const s = new Float32Array(src.length);
        for (let i = 0; i < src.length; i++) s[i] = sigmoid(src[i]);
        return s;
      },
    });
    const outs = oShapes.map((s, k) => backend.makeTensorInfo(s, "float32", outViews[k]) as Info);
    return outs.length === 1 ? outs[0] : outs;
  };
}
