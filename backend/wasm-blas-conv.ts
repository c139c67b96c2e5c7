// Stride-1 convolutions and their gradients on the wasm backend through BLAS: with the input
// zero-padded and the output laid on the same padded pixel grid, tap (i, j) of the filter is a
// fixed row shift, so y and dx accumulate one sgemm per tap and dW[i, j] is one sgemm each (per
// block of grid rows, for cache reuse across the taps).
import { tf } from "../core/tf.ts";
import type { Blas } from "./native-blas.ts";
import { type ConvGeometry, convGeometry } from "./conv-geometry.ts";
import { heapView } from "./wasm-blas-matmul.ts";
import {
  filterGradTaps,
  forwardShare,
  type GridPlace,
  inputGradShare,
  ROW_BLOCK,
  toGridImages,
} from "./conv-grid-taps.ts";
import type { Job } from "./helper-jobs.ts";
import { helperThreads, runJobs } from "./helper-pool.ts";
import { MIN_SHARE_WORK } from "./shared-blas.ts";

type Info = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;
// deno-lint-ignore no-explicit-any
type WasmBackend = any;
type KernelFunc = tf.KernelConfig["kernelFunc"];

/**
 * Grid rows per block of the forward pass: a 1024-row block of the output (up to 1 MiB at 256
 * channels) stays in a core's L2 cache across the taps; measured on the U-Nets' 3x3 convs at
 * 32x32 and 16x16, 5-12% faster than 4096 rows. The forward's arithmetic does not depend on it
 * (each output row sums its taps in the same order in any block); the gradients keep ROW_BLOCK.
 * With helper threads, each thread takes whole blocks.
 */
const FORWARD_ROW_BLOCK = 1024;

/** Reused scratch buffers, so a training step does not churn the GC. */
const scratch: Float32Array[] = [new Float32Array(0), new Float32Array(0)];

/** Scratch slot `slot` as n floats, contents undefined. */
function scratchOf(slot: number, n: number): Float32Array {
  // At least 1 KiB: off V8's moving heap, so helper threads can read it by address.
  if (scratch[slot].length < n) scratch[slot] = new Float32Array(Math.max(n, 256));
  return scratch[slot].subarray(0, n);
}

/**
 * The geometry of a stride-1, dilation-1 NHWC convolution on the padded pixel grid (its strides
 * and dilations are all 1).
 */
interface Grid extends ConvGeometry {
  /** Padded grid: hp = ho + kh - 1 rows, wp = wo + kw - 1 columns. */
  hp: number;
  wp: number;
  /** Grid rows that can hold an output pixel: b hp wp minus the largest tap shift. */
  rows: number;
}

/** The grid of a convolution, or undefined when it is not stride 1, dilation 1, NHWC. */
function grid(xShape: number[], filterShape: number[], attrs: Attrs): Grid | undefined {
  const c = convGeometry(xShape, filterShape, attrs);
  if (!c || c.sh !== 1 || c.sw !== 1 || c.dh !== 1 || c.dw !== 1) return undefined;
  const hp = c.ho + c.kh - 1, wp = c.wo + c.kw - 1;
  // The padded input must contain the input (true for "same", "valid" and explicit pads >= 0).
  if (c.top < 0 || c.left < 0 || c.top + c.h > hp || c.left + c.w > wp) return undefined;
  return { ...c, hp, wp, rows: c.b * hp * wp - ((c.kh - 1) * wp + (c.kw - 1)) };
}

/**
 * Padded grids of several tensors, each [B, H, W, C] at its `place` (into scratch slot `slot`):
 * with helper threads, shared out by ranges of images (one wait for all of them).
 */
function toGrids(
  blas: Blas,
  g: Grid,
  parts: Array<{ x: Float32Array; place: GridPlace; slot: number }>,
): Float32Array[] {
  const grids = parts.map((p) => scratchOf(p.slot, g.b * g.hp * g.wp * p.place.c));
  const floats = grids.reduce((n, a) => n + a.length, 0);
  const shares = floats < SHARE_MIN_FLOATS ? 1 : Math.min(helperThreads(), g.b);
  if (shares <= 1) {
    parts.forEach((p, i) => toGridImages(p.x, grids[i], p.place, [0, g.b]));
    return grids;
  }
  const jobs: Job[] = parts.flatMap((p, i) =>
    Array.from({ length: shares }, (_, j) => ({
      kind: "toGridImages" as const,
      arrays: [p.x, grids[i]],
      nums: [
        ...[p.place.c, p.place.hp, p.place.wp, p.place.top, p.place.left, p.place.h, p.place.w],
        Math.floor((j * g.b) / shares),
        Math.floor(((j + 1) * g.b) / shares),
      ],
    }))
  );
  blas.oneThread(() => runJobs(jobs));
  return grids;
}

/** Grid floats below which copying them is not worth waking a helper (~10 us each way). */
const SHARE_MIN_FLOATS = 1 << 16;

/** Where x (ci channels) and the output gradient (co channels) lie in the conv's grid. */
function places(g: Grid): { input: GridPlace; output: GridPlace } {
  return {
    input: { c: g.ci, hp: g.hp, wp: g.wp, top: g.top, left: g.left, h: g.h, w: g.w },
    output: { c: g.co, hp: g.hp, wp: g.wp, top: 0, left: 0, h: g.ho, w: g.wo },
  };
}

/**
 * Run `one` over rows [0, total) on this thread, or, with helper threads, `job` for pieces of
 * `block` rows (fewer rows, down to MIN_PIECE_ROWS, where that leaves under 4 pieces per thread),
 * claimed one by one so that the threads end together (OpenBLAS on one thread meanwhile). Each
 * row's result does not depend on its piece.
 */
function rowShares(
  blas: Blas,
  total: number,
  block: number,
  one: (rows: [number, number]) => void,
  job: (rows: [number, number]) => Job,
): void {
  const threads = helperThreads();
  const size = Math.max(
    MIN_PIECE_ROWS,
    Math.min(block, Math.ceil(total / (4 * threads) / MIN_PIECE_ROWS) * MIN_PIECE_ROWS),
  );
  const pieces = Math.ceil(total / size);
  if (threads <= 1 || pieces <= 1) return one([0, total]);
  const jobs = Array.from(
    { length: pieces },
    (_, i) => job([i * size, Math.min(total, (i + 1) * size)]),
  );
  blas.oneThread(() => runJobs(jobs));
}

/** The fewest grid rows in a piece of a shared convolution (a multiple of 64). */
const MIN_PIECE_ROWS = 256;

/**
 * dW[i, j] = sum over grid rows of xpad[r + shift(i, j)]^T dz[r]: one sgemm per tap and block of
 * rows. With helper threads, each thread takes a range of taps (OpenBLAS on one thread meanwhile);
 * a tap's products are the same calls in the same order on any thread, so dW is bit-identical.
 */
function makeFilterGrad(blas: Blas, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs as { x: Info; dy: Info };
    const attrs = (args.attrs ?? {}) as Attrs;
    const filterShape = attrs.filterShape as number[];
    const g = x.dtype === "float32" ? grid(x.shape, filterShape, attrs) : undefined;
    if (!g) return fallback(args);
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput(filterShape, "float32") as Info;
    const { input, output } = places(g);
    const [xp, dz] = toGrids(blas, g, [
      { x: heapView(backend, x), place: input, slot: 0 },
      { x: heapView(backend, dy), place: output, slot: 1 },
    ]);
    const dw = heapView(backend, out);
    const taps = g.kh * g.kw;
    const work = taps * g.ci * g.co * g.rows;
    const shares = Math.min(taps, helperThreads(), Math.floor(work / MIN_SHARE_WORK));
    if (shares <= 1) {
      filterGradTaps(blas, g, { xp, dz, dw }, [0, taps]);
      return out;
    }
    const jobs: Job[] = Array.from({ length: shares }, (_, i) => ({
      kind: "filterGradTaps",
      arrays: [xp, dz, dw],
      nums: [
        g.ci,
        g.co,
        g.kh,
        g.kw,
        g.wp,
        g.rows,
        Math.floor((i * taps) / shares),
        Math.floor(((i + 1) * taps) / shares),
      ],
    }));
    blas.oneThread(() => runJobs(jobs));
    return out;
  };
}

/**
 * dxpad[q] = sum over taps of dz[q - shift(i, j)] W[i, j]^T (gathered per block of grid rows),
 * then dx is cropped from dxpad. With helper threads, each thread takes whole blocks; a row's
 * taps are summed in the same order on any thread, so dx is bit-identical.
 */
function makeInputGrad(blas: Blas, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: Info; filter: Info };
    const attrs = (args.attrs ?? {}) as Attrs;
    const inputShape = attrs.inputShape as number[];
    const g = dy.dtype === "float32" ? grid(inputShape, filter.shape, attrs) : undefined;
    if (!g) return fallback(args);
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput(inputShape, "float32") as Info;
    const { input: place, output } = places(g);
    const [dz] = toGrids(blas, g, [{ x: heapView(backend, dy), place: output, slot: 1 }]);
    const dxp = scratchOf(0, g.b * g.hp * g.wp * g.ci);
    const a = { dz, filter: heapView(backend, filter), dxp, dx: heapView(backend, out) };
    rowShares(
      blas,
      g.b * g.hp * g.wp,
      ROW_BLOCK,
      (rows) => inputGradShare(blas, g, a, place, rows, ROW_BLOCK),
      (rows) => ({
        kind: "inputGradShare",
        arrays: [a.dz, a.filter, a.dxp, a.dx],
        nums: [
          ...[g.ci, g.co, g.kh, g.kw, g.wp, g.rows, rows[0], rows[1], ROW_BLOCK],
          ...[g.hp, g.top, g.left, g.h, g.w],
        ],
      }),
    );
    return out;
  };
}

/**
 * y = conv(x, filter) (+ bias) on the padded grid: z[r] = bias + sum over taps of
 * xpad[r + shift(i, j)] W[i, j], then y is cropped from z. False (nothing written) when the conv
 * is not stride 1, dilation 1, NHWC. Views must be valid (made after the last allocation).
 * @example
 * gridConvForward(blas, { xShape, filterShape, attrs }, { x, filter, y }); // true: y written
 */
export function gridConvForward(
  blas: Blas,
  shapes: { xShape: number[]; filterShape: number[]; attrs: Attrs },
  a: { x: Float32Array; filter: Float32Array; y: Float32Array; bias?: Float32Array },
): boolean {
  const g = grid(shapes.xShape, shapes.filterShape, shapes.attrs);
  if (!g) return false;
  const [xp] = toGrids(blas, g, [{ x: a.x, place: places(g).input, slot: 0 }]);
  const z = scratchOf(1, g.b * g.hp * g.wp * g.co);
  const f = { xp, filter: a.filter, z, y: a.y, bias: a.bias };
  const out = { hp: g.hp, ho: g.ho, wo: g.wo };
  rowShares(
    blas,
    g.rows,
    FORWARD_ROW_BLOCK,
    (rows) => forwardShare(blas, g, f, out, rows, FORWARD_ROW_BLOCK),
    (rows) => ({
      kind: "forwardShare",
      arrays: a.bias ? [xp, a.filter, z, a.y, a.bias] : [xp, a.filter, z, a.y],
      nums: [
        ...[g.ci, g.co, g.kh, g.kw, g.wp, g.rows, rows[0], rows[1], FORWARD_ROW_BLOCK],
        ...[g.hp, g.ho, g.wo],
      ],
    }),
  );
  return true;
}

/**
 * The padded grid's size over the output's: the share of wasted rows the per-tap route computes
 * (e.g. 1.56 for a 3x3 conv on 8x8, 1.12 on 35x35); undefined when the route does not apply.
 * @example
 * gridOverhead([16, 35, 35, 64], [3, 3, 64, 96], { strides: 1, pad: "same" }); // 1.117...
 */
export function gridOverhead(
  xShape: number[],
  filterShape: number[],
  attrs: Attrs,
): number | undefined {
  const g = grid(xShape, filterShape, attrs);
  return g ? (g.hp * g.wp) / (g.ho * g.wo) : undefined;
}

let registered = false;

/**
 * Route stride-1 Conv2DBackpropFilter and Conv2DBackpropInput through BLAS (idempotent); other
 * strides, dilations and layouts keep the kernels registered before (backend/
 * wasm-conv-grads.ts). Call after registerWasmConvGrads. The forward pass is
 * backend/wasm-blas-im2col.ts's, which uses gridConvForward where it pays.
 * @example
 * const { blas } = loadBlas();
 * if (blas) registerBlasConvGrads(blas);
 */
export function registerBlasConvGrads(blas: Blas): void {
  if (registered) return;
  for (
    const [name, make] of [
      ["Conv2DBackpropFilter", makeFilterGrad],
      ["Conv2DBackpropInput", makeInputGrad],
    ] as const
  ) {
    const cfg = tf.getKernel(name, "wasm");
    if (!cfg) {
      throw new Error(`wasm-blas-conv: wasm ${name} missing; register the conv grads first`);
    }
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ ...cfg, kernelFunc: make(blas, cfg.kernelFunc) });
  }
  registered = true;
}
