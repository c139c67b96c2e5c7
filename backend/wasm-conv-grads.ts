// Convolution training on tfjs-backend-wasm: adds the missing Conv2DBackpropFilter and replaces the
// scalar-loop Conv2DBackpropInput (both become XNNPACK Conv2D calls); splits slow batched matmuls.
import { tf } from "../core/tf.ts";
import { convInfo, KernelScope, type Pads } from "./kernel-scope.ts";

type Info = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;
// deno-lint-ignore no-explicit-any
type WasmBackend = any;

let registered = false;

function checkNHWC(kernel: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== "NHWC") {
    throw new Error(`wasm ${kernel}: dataFormat "${dataFormat}" is not supported; use "NHWC"`);
  }
}

/**
 * dW[i, j, ci, co] = sum_{b, y, x} xpad[b, y*sh + i, x*sw + j, ci] dy[b, y, x, co].
 * With ci as the batch, b as the input channel and dy as a (Ho x Wo) filter dilated by the
 * stride, that is one stride-1 convolution: conv(x^T [Ci,H,W,B], dy^T [Ho,Wo,B,Co]).
 */
function conv2DBackpropFilter(
  args: { inputs: Record<string, Info>; backend: WasmBackend; attrs?: Attrs },
): Info {
  const { inputs: { x, dy }, backend } = args;
  const attrs = args.attrs ?? {};
  checkNHWC("Conv2DBackpropFilter", attrs.dataFormat);
  const filterShape = attrs.filterShape as number[];
  const info = convInfo(x.shape, filterShape, attrs);
  const { top, left } = info.padInfo;
  const kh = info.filterHeight, kw = info.filterWidth;
  const bottom = kh + (info.outHeight - 1) * info.strideHeight - info.inHeight - top;
  const right = kw + (info.outWidth - 1) * info.strideWidth - info.inWidth - left;
  const s = new KernelScope("wasm", backend);
  try {
    const xt = s.transpose(x, [3, 1, 2, 0]); // [Ci, H, W, B]
    const f = s.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, B, Co]
    const pad: Pads = [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]];
    const r = s.conv(xt, f, pad, [info.strideHeight, info.strideWidth]); // [Ci, >=kh, >=kw, Co]
    const rc = s.crop(r, [info.inChannels, kh, kw, info.outChannels]);
    return s.release(s.transpose(rc, [1, 2, 0, 3]));
  } finally {
    s.dispose();
  }
}

/**
 * dx = full correlation of dy (zero-dilated by the stride) with the spatially flipped filter,
 * its in/out channels swapped: one stride-1 XNNPACK convolution instead of the scalar loop.
 */
function makeConv2DBackpropInput(fallback: tf.KernelConfig["kernelFunc"]) {
  return (args: { inputs: Record<string, Info>; backend: WasmBackend; attrs?: Attrs }): Info => {
    const { inputs: { dy, filter }, backend } = args;
    const attrs = args.attrs ?? {};
    checkNHWC("Conv2DBackpropInput", attrs.dataFormat);
    const inputShape = attrs.inputShape as number[];
    const info = convInfo(inputShape, filter.shape, attrs);
    const kh = info.filterHeight, kw = info.filterWidth;
    const sh = info.strideHeight, sw = info.strideWidth;
    const top = kh - 1 - info.padInfo.top, left = kw - 1 - info.padInfo.left;
    // Padding wider than the filter never comes from "same"/"valid"; keep the original kernel.
    if (top < 0 || left < 0) return fallback(args) as Info;
    const [B, Ho, Wo, Co] = dy.shape;
    const Ci = info.inChannels, H = info.inHeight, W = info.inWidth;
    const s = new KernelScope("wasm", backend);
    try {
      let d = dy;
      if (sw > 1) {
        const r = s.reshape(d, [B * Ho, Wo, 1, Co]);
        const p = s.run("PadV2", { x: r }, {
          paddings: [[0, 0], [0, 0], [0, sw - 1], [0, 0]],
          constantValue: 0,
        });
        d = s.reshape(p, [B, Ho, Wo * sw, Co]);
      }
      if (sh > 1) {
        const rowLen = d.shape[2] * Co;
        const r = s.reshape(d, [B, Ho, 1, rowLen]);
        const p = s.run("PadV2", { x: r }, {
          paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0]],
          constantValue: 0,
        });
        d = s.reshape(p, [B, Ho * sh, d.shape[2], Co]);
      }
      const flipped = s.run("Reverse", { x: filter }, { dims: [0, 1] });
      const wt = s.transpose(flipped, [0, 1, 3, 2]); // [kh, kw, Co, Ci]
      const bottom = Math.max(0, H + kh - 1 - d.shape[1] - top);
      const right = Math.max(0, W + kw - 1 - d.shape[2] - left);
      const r = s.conv(d, wt, [[0, 0], [top, bottom], [left, right], [0, 0]]);
      return s.release(s.crop(r, [B, H, W, Ci]));
    } finally {
      s.dispose();
    }
  };
}

/**
 * The shipped wasm BatchMatMul is ~15x slower per FLOP with more than one batch matrix than with
 * one (only the latter reaches XNNPACK); attention's per-example q k^T and w v hit that path.
 * Split such calls into one 2-D product per batch entry (transposes done once up front).
 */
/** Multiply-adds per matrix product below which splitting costs more than it saves. */
const SPLIT_MIN_MACS = 32 * 32 * 32;

function makeBatchSplitMatMul(inner: tf.KernelConfig["kernelFunc"]) {
  return (args: { inputs: Record<string, Info>; backend: WasmBackend; attrs?: Attrs }): Info => {
    const { inputs: { a, b }, backend } = args;
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
    const batch = outerA.reduce((p, d) => p * d, 1);
    const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
    const [m, k] = attrs.transposeA ? [a.shape.at(-1)!, a.shape.at(-2)!] : a.shape.slice(-2);
    const n = attrs.transposeB ? b.shape.at(-2)! : b.shape.at(-1)!;
    const small = m * k * n < SPLIT_MIN_MACS; // per-call overhead would dominate
    if (batch <= 1 || !sameOuter || small || a.dtype !== "float32" || b.dtype !== "float32") {
      return inner(args) as Info;
    }
    const s = new KernelScope("wasm", backend);
    try {
      const as3 = (x: Info, transposed?: boolean) => {
        const r = s.reshape(x, [batch, x.shape[x.shape.length - 2], x.shape[x.shape.length - 1]]);
        return transposed ? s.transpose(r, [0, 2, 1]) : r;
      };
      const a3 = as3(a, attrs.transposeA), b3 = as3(b, attrs.transposeB);
      const parts: Info[] = [];
      const entry = (x3: Info, i: number) => {
        const [, r, c] = x3.shape;
        return s.reshape(s.run("Slice", { x: x3 }, { begin: [i, 0, 0], size: [1, r, c] }), [r, c]);
      };
      for (let i = 0; i < batch; i++) {
        const ai = entry(a3, i), bi = entry(b3, i);
        const oi = inner({
          ...args,
          inputs: { a: ai, b: bi },
          attrs: { transposeA: false, transposeB: false },
        }) as Info;
        s.track(oi);
        parts.push(s.reshape(oi, [1, m, n]));
      }
      const cat = s.run("Concat", parts as unknown as Record<string, Info>, { axis: 0 });
      return s.release(s.reshape(cat, [...outerA, m, n]));
    } finally {
      s.dispose();
    }
  };
}

/**
 * Register convolution gradient kernels for the wasm backend (idempotent). tfjs-backend-wasm
 * 4.22 has no Conv2DBackpropFilter and a scalar-loop Conv2DBackpropInput (~10x slower than the
 * forward); both become XNNPACK Conv2D calls here. BatchMatMul with several batch matrices (as in
 * attention) is split into 2-D products, ~4x faster. Call after the wasm backend is set.
 * Still missing on wasm (unused by fmbench models): DepthwiseConv2dNativeBackpropFilter/Input.
 * @example
 * await tf.setBackend("wasm");
 * registerWasmConvGrads(); // tf.getKernel("Conv2DBackpropFilter", "wasm") is now defined
 */
export function registerWasmConvGrads(): void {
  if (registered) return;
  const original = tf.getKernel("Conv2DBackpropInput", "wasm");
  if (!tf.getKernel("Conv2D", "wasm")) {
    throw new Error(
      `wasm-conv-grads: kernel "Conv2D" is not registered for wasm; ` +
        `import "@tensorflow/tfjs-backend-wasm" (and set the backend) first`,
    );
  }
  if (!original) throw new Error("wasm-conv-grads: wasm Conv2DBackpropInput missing");
  if (!tf.getKernel("Conv2DBackpropFilter", "wasm")) {
    tf.registerKernel({
      kernelName: "Conv2DBackpropFilter",
      backendName: "wasm",
      kernelFunc: conv2DBackpropFilter as tf.KernelConfig["kernelFunc"],
    });
  }
  const matMul = tf.getKernel("BatchMatMul", "wasm");
  if (matMul) {
    tf.unregisterKernel("BatchMatMul", "wasm");
    tf.registerKernel({
      ...matMul,
      kernelFunc: makeBatchSplitMatMul(matMul.kernelFunc) as tf.KernelConfig["kernelFunc"],
    });
  }
  tf.unregisterKernel("Conv2DBackpropInput", "wasm");
  tf.registerKernel({
    ...original, // keeps its setupFunc, which the fallback path needs
    kernelFunc: makeConv2DBackpropInput(original.kernelFunc) as tf.KernelConfig["kernelFunc"],
  });
  registered = true;
}
