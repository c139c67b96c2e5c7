// Convolution gradients on tfjs-backend-webgpu from its matmul and forward-convolution programs:
// the filter gradient as an im2col matmul split over the batch (tfjs's is one thread per weight
// looping over every pixel), the input gradient of stride-1 convolutions as one forward one.
import { tf } from "../core/tf.ts";
import { convInfo, KernelScope, type Pads } from "./kernel-scope.ts";

type Info = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;
type KernelFunc = tf.KernelConfig["kernelFunc"];
// deno-lint-ignore no-explicit-any
type WebgpuBackend = any;
type Args = { inputs: Record<string, Info>; backend: WebgpuBackend; attrs?: Attrs };

const BACKEND = "webgpu";
/** Bytes of one im2col chunk at most (also capped by the device's storage binding size). */
const IM2COL_BYTES = 256 * 2 ** 20;
/** Workgroups (32x32 output tiles) the filter-gradient matmul aims for, by splitting its sum. */
const TARGET_WORKGROUPS = 512;
/** Fewest summed rows per split of the filter-gradient matmul. */
const MIN_ROWS_PER_SPLIT = 256;

function isNHWC(attrs: Attrs): boolean {
  return attrs.dataFormat === undefined || attrs.dataFormat === "NHWC";
}

/**
 * How many equal parts to split a sum over n rows into, so that `tiles` output tiles per part
 * give about TARGET_WORKGROUPS (512) workgroups: the largest divisor of n not above the wish,
 * which keeps at least 256 rows per part.
 * @example
 * splitCount(4096, 16); // 16
 * splitCount(100, 4); // 1: too few rows to split
 */
export function splitCount(n: number, tiles: number): number {
  const wish = Math.max(
    1,
    Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.floor(n / MIN_ROWS_PER_SPLIT)),
  );
  for (let s = wish; s > 1; s--) if (n % s === 0) return s;
  return 1;
}

function storageLimit(backend: WebgpuBackend): number {
  const lim = Number(backend?.device?.limits?.maxStorageBufferBindingSize ?? 128 * 2 ** 20);
  return Math.min(IM2COL_BYTES, lim);
}

/**
 * dW[i, j, ci, co] = sum_{b, y, x} xpad[b, y*sh + i, x*sw + j, ci] dy[b, y, x, co]: the kh*kw
 * shifted (strided) views of the padded input side by side on the channel axis (im2col) give
 * P [N, kh*kw*Ci] with N = B*Ho*Wo, and dW = P^T dy, a matmul whose long sum over N is split
 * into S batch entries (then summed) so the GPU has enough workgroups. Batches are processed in
 * chunks so that P stays under IM2COL_BYTES.
 */
function makeConv2DBackpropFilter(fallback: KernelFunc) {
  return (args: Args): Info => {
    const { inputs: { x, dy }, backend } = args;
    const attrs = args.attrs ?? {};
    if (!isNHWC(attrs)) return fallback(args) as Info;
    const info = convInfo(x.shape, attrs.filterShape as number[], attrs);
    const [B, H, W, Ci] = x.shape;
    const { outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
    const kh = info.filterHeight, kw = info.filterWidth;
    const sh = info.strideHeight, sw = info.strideWidth;
    const { top, left } = info.padInfo;
    const bottom = Math.max(0, (Ho - 1) * sh + kh - H - top);
    const right = Math.max(0, (Wo - 1) * sw + kw - W - left);
    const K = kh * kw * Ci;
    const perImage = Ho * Wo * K * 4;
    const chunk = Math.max(1, Math.min(B, Math.floor(storageLimit(backend) / perImage)));
    const s = new KernelScope(BACKEND, backend);
    try {
      let acc: Info | null = null;
      for (let b0 = 0; b0 < B; b0 += chunk) {
        const bc = Math.min(chunk, B - b0);
        const xc = s.slice(x, [b0, 0, 0, 0], [bc, H, W, Ci]);
        const dyc = s.slice(dy, [b0, 0, 0, 0], [bc, Ho, Wo, Co]);
        const xp = s.pad(xc, [[0, 0], [top, bottom], [left, right], [0, 0]]);
        const taps: Info[] = [];
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            taps.push(
              sh === 1 && sw === 1
                ? s.slice(xp, [0, i, j, 0], [bc, Ho, Wo, Ci])
                : s.run("StridedSlice", { x: xp }, {
                  begin: [0, i, j, 0],
                  end: [bc, i + (Ho - 1) * sh + 1, j + (Wo - 1) * sw + 1, Ci],
                  strides: [1, sh, sw, 1],
                  beginMask: 0,
                  endMask: 0,
                  ellipsisMask: 0,
                  newAxisMask: 0,
                  shrinkAxisMask: 0,
                }),
            );
          }
        }
        const p = taps.length === 1
          ? taps[0]
          : s.run("Concat", taps as unknown as Record<string, Info>, { axis: 3 });
        const n = bc * Ho * Wo;
        const S = splitCount(n, Math.ceil(K / 32) * Math.ceil(Co / 32));
        const a3 = s.reshape(p, [S, n / S, K]);
        const b3 = s.reshape(dyc, [S, n / S, Co]);
        const m = s.run("BatchMatMul", { a: a3, b: b3 }, { transposeA: true, transposeB: false });
        const part = S > 1
          ? s.run("Sum", { x: m }, { axis: [0], keepDims: false })
          : s.reshape(m, [K, Co]);
        acc = acc === null ? part : s.run("Add", { a: acc, b: part });
      }
      return s.release(s.reshape(acc!, [kh, kw, Ci, Co]));
    } finally {
      s.dispose();
    }
  };
}

/**
 * Whether fmbench's Conv2DBackpropInput computes this convolution's input gradient (stride 1,
 * both channel counts multiples of 4); otherwise tfjs's kernel does.
 * @example
 * ownsInputGrad(32, 32, 1); // true
 * ownsInputGrad(32, 32, 2); // false: tfjs's kernel
 */
export function ownsInputGrad(inChannels: number, outChannels: number, stride: number): boolean {
  return stride === 1 && inChannels % 4 === 0 && outChannels % 4 === 0;
}

/**
 * dx = full correlation of dy with the spatially flipped filter, its in/out channels swapped:
 * one stride-1 forward convolution (tfjs's vectorised Conv2DMMProgram). Strided convolutions
 * (whose dy would have to be zero-dilated: 3/4 of the products wasted at stride 2) and channel
 * counts that are not multiples of 4 (no vec4 path) stay with tfjs's own matmul-based kernel,
 * which was faster for them on the software adapter (probes/conv-grads-micro.ts).
 */
function makeConv2DBackpropInput(fallback: KernelFunc) {
  return (args: Args): Info => {
    const { inputs: { dy, filter }, backend } = args;
    const attrs = args.attrs ?? {};
    if (!isNHWC(attrs)) return fallback(args) as Info;
    const info = convInfo(attrs.inputShape as number[], filter.shape, attrs);
    const kh = info.filterHeight, kw = info.filterWidth;
    const sh = info.strideHeight, sw = info.strideWidth;
    const top = kh - 1 - info.padInfo.top, left = kw - 1 - info.padInfo.left;
    const own = sh === sw && ownsInputGrad(info.inChannels, info.outChannels, sh);
    // Padding wider than the filter never comes from "same"/"valid"; keep tfjs's kernel.
    if (top < 0 || left < 0 || !own) return fallback(args) as Info;
    const B = dy.shape[0], Ci = info.inChannels, H = info.inHeight, W = info.inWidth;
    const s = new KernelScope(BACKEND, backend);
    try {
      const flipped = s.run("Reverse", { x: filter }, { dims: [0, 1] });
      const wt = s.transpose(flipped, [0, 1, 3, 2]); // [kh, kw, Co, Ci]
      const bottom = Math.max(0, H + kh - 1 - dy.shape[1] - top);
      const right = Math.max(0, W + kw - 1 - dy.shape[2] - left);
      const pads: Pads = [[0, 0], [top, bottom], [left, right], [0, 0]];
      const r = s.conv(dy, wt, pads);
      return s.release(s.slice(r, [0, 0, 0, 0], [B, H, W, Ci]));
    } finally {
      s.dispose();
    }
  };
}

let originals: { filter: KernelFunc; input: KernelFunc } | null = null;
let active: "fmbench" | "tfjs" = "fmbench";

/**
 * tfjs-backend-webgpu's own convolution-gradient kernels, as they were before
 * registerWebgpuConvGrads replaced them (null before that); probes/conv-grads-micro.ts times them.
 * @example
 * registerWebgpuConvGrads();
 * const { filter, input } = tfjsWebgpuConvGrads()!;
 */
export function tfjsWebgpuConvGrads(): { filter: KernelFunc; input: KernelFunc } | null {
  return originals;
}

/**
 * Which convolution-gradient kernels webgpu uses: FMBENCH_WEBGPU_CONV_GRADS=fmbench|tfjs
 * ("fmbench" when unset, empty or unreadable; any other value throws).
 * @example
 * webgpuConvGradsChoice(); // "fmbench" with FMBENCH_WEBGPU_CONV_GRADS unset
 */
export function webgpuConvGradsChoice(): "fmbench" | "tfjs" {
  let v: string | undefined;
  try {
    v = Deno.env.get("FMBENCH_WEBGPU_CONV_GRADS");
  } catch {
    v = undefined; // no --allow-env: the default
  }
  if (v === undefined || v === "" || v === "fmbench") return "fmbench";
  if (v === "tfjs") return "tfjs";
  throw new Error(`FMBENCH_WEBGPU_CONV_GRADS must be "fmbench" or "tfjs", got "${v}"`);
}

/**
 * Replace tfjs-backend-webgpu's Conv2DBackpropFilter and Conv2DBackpropInput with fmbench's
 * (idempotent), unless FMBENCH_WEBGPU_CONV_GRADS=tfjs keeps tfjs's (for side-by-side timings of
 * a whole training step). Call after the webgpu backend is set. NCHW inputs and explicit
 * paddings wider than the filter go to tfjs's kernels. Returns which kernels are in use.
 * @example
 * await tf.setBackend("webgpu");
 * registerWebgpuConvGrads(); // "fmbench"
 */
export function registerWebgpuConvGrads(): "fmbench" | "tfjs" {
  const choice = webgpuConvGradsChoice();
  if (originals) return active;
  const filter = tf.getKernel("Conv2DBackpropFilter", BACKEND);
  const input = tf.getKernel("Conv2DBackpropInput", BACKEND);
  if (!filter || !input) {
    throw new Error(
      "webgpu-conv-grads: webgpu has no Conv2DBackpropFilter/Input kernel; " +
        'import "@tensorflow/tfjs-backend-webgpu" and set the backend first',
    );
  }
  originals = { filter: filter.kernelFunc, input: input.kernelFunc };
  active = choice;
  if (choice === "tfjs") return active;
  tf.unregisterKernel("Conv2DBackpropFilter", BACKEND);
  tf.registerKernel({
    ...filter,
    kernelFunc: makeConv2DBackpropFilter(filter.kernelFunc) as KernelFunc,
  });
  tf.unregisterKernel("Conv2DBackpropInput", BACKEND);
  tf.registerKernel({
    ...input,
    kernelFunc: makeConv2DBackpropInput(input.kernelFunc) as KernelFunc,
  });
  return active;
}
