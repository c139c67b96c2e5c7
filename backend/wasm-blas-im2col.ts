// Conv2D and FusedConv2D (bias, ReLU) of any stride, dilation and padding on the wasm backend
// through BLAS: im2col (blocks of output pixels gather their input patches into rows, one sgemm
// per block), one sgemm for 1x1 convs, or per-tap sgemms on the padded grid for stride-1 convs on
// large images (backend/wasm-blas-conv.ts), whichever does less work.
import { tf } from "../core/tf.ts";
import type { Blas } from "./native-blas.ts";
import { gridConvForward, gridOverhead } from "./wasm-blas-conv.ts";
import { heapView } from "./wasm-blas-matmul.ts";
import { type ConvGeometry, convGeometry } from "./conv-geometry.ts";

type Info = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;
// deno-lint-ignore no-explicit-any
type WasmBackend = any;
type KernelFunc = tf.KernelConfig["kernelFunc"];

/** Floats of patch rows gathered per sgemm (4 MiB): large enough for BLAS, small for the cache. */
const PATCH_FLOATS = 1 << 20;

let patchBuffer = new Float32Array(0);

/**
 * Gather the input patches of output pixels [p0, p0 + m) into `rows` ([m, kh kw ci], row-major,
 * zeros where a tap falls in the padding). Without dilation, a filter row's kw taps are kw ci
 * consecutive input values, copied as one run where they are all inside the image.
 */
function gather(g: ConvGeometry, x: Float32Array, rows: Float32Array, p0: number, m: number): void {
  const { h, w, ci, kh, kw, sh, sw, dh, dw, top, left, ho, wo } = g;
  const k = kh * kw * ci, run = kw * ci;
  for (let r = 0; r < m; r++) {
    const p = p0 + r;
    const ox = p % wo, q = (p - ox) / wo, oy = q % ho, bi = (q - oy) / ho;
    const ix0 = ox * sw - left;
    const whole = dw === 1 && ix0 >= 0 && ix0 + kw <= w;
    let dst = r * k;
    for (let i = 0; i < kh; i++) {
      const iy = oy * sh - top + i * dh;
      if (iy < 0 || iy >= h) {
        rows.fill(0, dst, dst + run);
        dst += run;
        continue;
      }
      const rowBase = (bi * h + iy) * w;
      if (whole) {
        // A plain loop: set(subarray) allocates a view per run, slower for short runs.
        const src = (rowBase + ix0) * ci;
        for (let c = 0; c < run; c++) rows[dst + c] = x[src + c];
        dst += run;
        continue;
      }
      for (let j = 0; j < kw; j++, dst += ci) {
        const ix = ix0 + j * dw;
        if (ix < 0 || ix >= w) {
          rows.fill(0, dst, dst + ci);
          continue;
        }
        const src = (rowBase + ix) * ci;
        for (let c = 0; c < ci; c++) rows[dst + c] = x[src + c];
      }
    }
  }
}

/**
 * Fill m rows of co channels with the bias (or zeros), so that sgemm adds the product to it
 * (beta = 1): copies that double in length run at memmove speed.
 */
function initRows(y: Float32Array, m: number, co: number, bias: Float32Array | undefined): number {
  if (!bias) return 0;
  const n = m * co;
  y.set(bias.subarray(0, co));
  for (let k = co; k < n; k *= 2) y.copyWithin(k, 0, Math.min(k, n - k));
  return 1;
}

/** ReLU in place on the float bits: a negative float (sign bit set) becomes +0, without branches. */
function reluBits(y: Float32Array): void {
  const v = new Int32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < v.length; i++) v[i] &= ~(v[i] >> 31);
}

/**
 * y = act(conv(x, filter) + bias) by im2col and sgemm: a 1x1 stride-1 unpadded conv is one
 * sgemm on x itself; otherwise blocks of output pixels gather their patches first.
 * @example
 * im2colConv(blas, g, { x, filter, y, bias, relu: true }); // y: [b, ho, wo, co] floats
 */
export function im2colConv(
  blas: Blas,
  g: ConvGeometry,
  a: {
    x: Float32Array;
    filter: Float32Array;
    y: Float32Array;
    bias?: Float32Array;
    relu?: boolean;
  },
): void {
  const { co } = g;
  const k = g.kh * g.kw * g.ci;
  const pixels = g.b * g.ho * g.wo;
  const relu = !!a.relu;
  const direct = g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.top === 0 &&
    g.left === 0 && g.ho === g.h && g.wo === g.w;
  if (direct) {
    const beta = initRows(a.y, pixels, co, a.bias);
    blas.sgemm(false, false, pixels, co, k, 1, a.x, k, a.filter, co, beta, a.y, co);
    if (relu) reluBits(a.y);
    return;
  }
  const block = Math.max(16, Math.min(pixels, Math.floor(PATCH_FLOATS / k)));
  // At least 1 KiB: off V8's moving heap, so helper threads can read it by address.
  if (patchBuffer.length < block * k) patchBuffer = new Float32Array(Math.max(block * k, 256));
  for (let p0 = 0; p0 < pixels; p0 += block) {
    const m = Math.min(block, pixels - p0);
    const rows = patchBuffer.subarray(0, m * k);
    gather(g, a.x, rows, p0, m);
    const yb = a.y.subarray(p0 * co, (p0 + m) * co);
    const beta = initRows(yb, m, co, a.bias);
    blas.sgemm(false, false, m, co, k, 1, rows, k, a.filter, co, beta, yb, co);
    if (relu) reluBits(yb);
  }
}

/**
 * Largest padded-grid / output size ratio at which a stride-1 conv runs per tap on the grid
 * (no patch copies) rather than by im2col: measured on the FID Inception's and the U-Nets' convs,
 * the grid wins on large images (1.01 at 147x147, 1.12 at 35x35, 1.27 for 3x3 at 16x16: 10-25%
 * faster) and loses on small ones (1.35 for a 1x7 conv at 17x17: 15% slower; 1.56 for 3x3 at 8x8
 * about even; 2.25 at 4x4: 50% slower). Stride-1 convs of the U-Nets at 32x32 and 16x16 therefore
 * compute exactly as before im2col existed.
 */
const GRID_MAX_OVERHEAD = 1.3;

/**
 * Which route a conv takes: "grid" (per-tap sgemms on the padded grid), or "im2col" (one sgemm on
 * x itself for a 1x1 stride-1 unpadded conv).
 * @example
 * convRoute([16, 147, 147, 32], [3, 3, 32, 64], { strides: 1, pad: "same" }); // "grid"
 */
export function convRoute(
  xShape: number[],
  filterShape: number[],
  attrs: Attrs,
): "grid" | "im2col" {
  if (filterShape[0] * filterShape[1] === 1) return "im2col";
  const overhead = gridOverhead(xShape, filterShape, attrs);
  return overhead !== undefined && overhead <= GRID_MAX_OVERHEAD ? "grid" : "im2col";
}

/** y = act(conv(x, filter) + bias) by the route convRoute picks. */
function convForward(
  blas: Blas,
  backend: WasmBackend,
  o: { x: Info; filter: Info; out: Info; attrs: Attrs; bias?: Info; relu: boolean },
): void {
  const g = convGeometry(o.x.shape, o.filter.shape, o.attrs)!;
  // Views are made after the output is allocated (an allocation may grow the heap).
  const a = {
    x: heapView(backend, o.x),
    filter: heapView(backend, o.filter),
    y: heapView(backend, o.out),
    bias: o.bias ? heapView(backend, o.bias) : undefined,
  };
  const shapes = { xShape: o.x.shape, filterShape: o.filter.shape, attrs: o.attrs };
  if (
    convRoute(o.x.shape, o.filter.shape, o.attrs) === "grid" && gridConvForward(blas, shapes, a)
  ) {
    if (o.relu) reluBits(a.y);
    return;
  }
  im2colConv(blas, g, { ...a, relu: o.relu });
}

/** Conv2D through BLAS (float32, NHWC); anything else goes to `fallback`. */
function makeConv2D(blas: Blas, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter } = args.inputs as { x: Info; filter: Info };
    const attrs = (args.attrs ?? {}) as Attrs;
    const g = x.dtype === "float32" && filter.dtype === "float32"
      ? convGeometry(x.shape, filter.shape, attrs)
      : undefined;
    if (!g || g.b * g.ho * g.wo * g.co === 0) return fallback(args);
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput([g.b, g.ho, g.wo, g.co], "float32") as Info;
    convForward(blas, backend, { x, filter, out, attrs, relu: false });
    return out;
  };
}

/**
 * FusedConv2D through BLAS with a rank-1 bias (or none) and a linear or ReLU activation; other
 * activations, PReLU weights, dtypes and layouts go to `fallback`.
 */
function makeFusedConv2D(blas: Blas, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as {
      x: Info;
      filter: Info;
      bias?: Info;
      preluActivationWeights?: Info;
    };
    const attrs = (args.attrs ?? {}) as Attrs;
    const act = (attrs.activation ?? "linear") as string;
    const ok = x.dtype === "float32" && filter.dtype === "float32" &&
      (act === "linear" || act === "relu") && !preluActivationWeights &&
      (!bias || (bias.dtype === "float32" && bias.shape.length === 1));
    const g = ok ? convGeometry(x.shape, filter.shape, attrs) : undefined;
    if (!g || g.b * g.ho * g.wo * g.co === 0 || (bias && bias.shape[0] !== g.co)) {
      return fallback(args);
    }
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput([g.b, g.ho, g.wo, g.co], "float32") as Info;
    convForward(blas, backend, { x, filter, out, attrs, bias, relu: act === "relu" });
    return out;
  };
}

let registered = false;

/**
 * Route Conv2D and FusedConv2D (bias, ReLU) of every stride, dilation and padding through BLAS
 * (idempotent); the kernels registered before stay as the fallback for what it does not cover.
 * @example
 * const { blas } = loadBlas();
 * if (blas) registerBlasIm2col(blas);
 */
export function registerBlasIm2col(blas: Blas): void {
  if (registered) return;
  for (const [name, make] of [["Conv2D", makeConv2D], ["FusedConv2D", makeFusedConv2D]] as const) {
    const cfg = tf.getKernel(name, "wasm");
    if (!cfg) throw new Error(`wasm-blas-im2col: wasm ${name} missing; set the wasm backend first`);
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ ...cfg, kernelFunc: make(blas, cfg.kernelFunc) });
  }
  registered = true;
}
