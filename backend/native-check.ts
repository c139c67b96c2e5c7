// The start-up check of the native kernels: matrix products (transposes, accumulation, inner
// dimensions chunked and not) and convolutions (both routes, strided, dilated, padded, bias and
// ReLU) on small seeded inputs against float64 loops in JS, on one thread and on several, with a
// rounding-error bound per element; a few milliseconds. A BLAS that fails it is not used.
import type { Blas } from "./native-blas.ts";
import { im2colConv } from "./wasm-blas-im2col.ts";
import { type ConvGeometry, convGeometry } from "./conv-geometry.ts";
import { gridConvForward } from "./wasm-blas-conv.ts";
import { lcgUniform } from "../core/rng.ts";

/** One failed comparison: the case, the thread count, the worst element's error and its bound. */
export interface CheckFailure {
  what: string;
  threads: number;
  /** Largest |native - reference| / bound over the elements (> 1 fails). */
  ratio: number;
  error: number;
  bound: number;
}

/** What checkNativeKernels found. */
export interface NativeCheck {
  ok: boolean;
  /** The thread counts checked. */
  threads: number[];
  /** Comparisons made (per thread count). */
  cases: number;
  /** Largest error / bound ratio over every comparison that passed (a margin figure). */
  worstRatio: number;
  failures: CheckFailure[];
  /** Whether every result on several threads was bit-identical to the one-thread result. */
  identical: boolean;
  ms: number;
}

/** float32 unit roundoff. */
const U = 2 ** -24;

/**
 * Compare `got` with the float64 reference: element i may differ by at most
 * 2 (terms + 2) u sum_i, where sum_i is the sum of the absolute values of its terms (the classic
 * bound of a float32 dot product, doubled), plus a tiny absolute floor.
 */
function compare(
  got: Float32Array,
  ref: Float64Array,
  abs: Float64Array,
  terms: number,
): { ratio: number; error: number; bound: number } {
  let worst = { ratio: 0, error: 0, bound: 0 };
  for (let i = 0; i < got.length; i++) {
    const error = Math.abs(got[i] - ref[i]);
    const bound = 2 * (terms + 2) * U * abs[i] + 1e-30;
    const ratio = Number.isFinite(error) ? error / bound : Infinity;
    if (ratio > worst.ratio || !(ratio === ratio)) worst = { ratio, error, bound };
  }
  return worst;
}

/**
 * ref[at] += s0 + sum_p a[ao + p sa] b[bo + p sb], abs[at] += |s0| + sum of the terms' |values|
 * (a small function, so that V8 optimises it after a few calls rather than running it cold).
 */
function dot(
  a: Float32Array,
  ao: number,
  sa: number,
  b: Float32Array,
  bo: number,
  sb: number,
  k: number,
  s0: number,
  ref: Float64Array,
  abs: Float64Array,
  at: number,
): void {
  let s = s0, t = Math.abs(s0);
  for (let p = 0; p < k; p++) {
    const v = a[ao + p * sa] * b[bo + p * sb];
    s += v;
    t += Math.abs(v);
  }
  ref[at] += s;
  abs[at] += t;
}

interface GemmCase {
  m: number;
  n: number;
  k: number;
  ta: boolean;
  tb: boolean;
  beta: number;
}

/**
 * The products checked: small and odd-sized, every transpose, accumulation into C, inner
 * dimensions below and above KCHUNK, and one large enough to be shared by 2 threads (MIN_SHARE_WORK
 * per thread).
 */
const GEMMS: GemmCase[] = [
  { m: 37, n: 29, k: 53, ta: false, tb: false, beta: 0 },
  { m: 29, n: 37, k: 61, ta: true, tb: false, beta: 1 },
  { m: 33, n: 17, k: 300, ta: false, tb: true, beta: 0 },
  { m: 19, n: 31, k: 270, ta: true, tb: true, beta: 1 },
  { m: 1, n: 45, k: 77, ta: false, tb: false, beta: 0 },
  { m: 128, n: 64, k: 290, ta: false, tb: false, beta: 0 },
];

function gemmCase(blas: Blas, c: GemmCase, seed: number) {
  const { m, n, k, ta, tb, beta } = c;
  const a = lcgUniform(m * k, seed),
    b = lcgUniform(k * n, seed + 1),
    c0 = lcgUniform(m * n, seed + 2);
  const out = Float32Array.from(c0);
  const lda = ta ? m : k, ldb = tb ? k : n;
  blas.sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, out, n);
  const ref = new Float64Array(m * n), abs = new Float64Array(m * n);
  // Element (i, j) is a dot product of strided runs: A's row i (or column), B's column j (or row).
  const sa = ta ? lda : 1, sb = tb ? 1 : ldb;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const at = i * n + j;
      dot(a, ta ? i : i * lda, sa, b, tb ? j * ldb : j, sb, k, beta * c0[at], ref, abs, at);
    }
  }
  const what = `sgemm ${m}x${n}x${k}${ta ? " A^T" : ""}${tb ? " B^T" : ""}${beta ? " +C" : ""}`;
  return { what, out, ...compare(out, ref, abs, k + 1) };
}

/** The convolutions checked, as (x shape, filter shape, attributes, bias, relu). */
const CONVS: Array<{
  x: number[];
  f: number[];
  attrs: Record<string, unknown>;
  bias: boolean;
  relu: boolean;
  route: "grid" | "im2col";
}> = [
  {
    x: [2, 9, 9, 8],
    f: [3, 3, 8, 12],
    attrs: { strides: 1, pad: "same" },
    bias: false,
    relu: false,
    route: "grid",
  },
  {
    x: [2, 9, 9, 8],
    f: [3, 3, 8, 12],
    attrs: { strides: 1, pad: "same" },
    bias: true,
    relu: true,
    route: "grid",
  },
  {
    // Enough grid rows (50 x 50 - 102 = 2398: 3 blocks of 1024) for the forward to be shared.
    x: [1, 48, 48, 4],
    f: [3, 3, 4, 4],
    attrs: { strides: 1, pad: "same" },
    bias: true,
    relu: false,
    route: "grid",
  },
  {
    x: [2, 11, 10, 5],
    f: [3, 3, 5, 7],
    attrs: { strides: 2, pad: "valid" },
    bias: true,
    relu: true,
    route: "im2col",
  },
  {
    x: [1, 12, 12, 6],
    f: [3, 2, 6, 4],
    attrs: { strides: 1, pad: [[0, 0], [2, 1], [0, 3], [0, 0]], dilations: 2 },
    bias: false,
    relu: false,
    route: "im2col",
  },
  {
    x: [2, 7, 7, 40],
    f: [1, 1, 40, 24],
    attrs: { strides: 1, pad: "valid" },
    bias: true,
    relu: false,
    route: "im2col",
  },
  {
    x: [1, 8, 8, 20],
    f: [1, 7, 20, 9],
    attrs: { strides: 1, pad: "same" },
    bias: true,
    relu: true,
    route: "im2col",
  },
];

/** Direct float64 convolution of the geometry (NHWC, HWIO), with |terms| sums. */
function referenceConv(
  g: ConvGeometry,
  x: Float32Array,
  f: Float32Array,
  bias: Float32Array | undefined,
): { ref: Float64Array; abs: Float64Array } {
  const ref = new Float64Array(g.b * g.ho * g.wo * g.co), abs = new Float64Array(ref.length);
  for (let b = 0; b < g.b; b++) {
    for (let oy = 0; oy < g.ho; oy++) {
      for (let ox = 0; ox < g.wo; ox++) {
        const at = ((b * g.ho + oy) * g.wo + ox) * g.co;
        for (let o = 0; o < g.co; o++) {
          ref[at + o] = bias ? bias[o] : 0;
          abs[at + o] = Math.abs(ref[at + o]);
        }
        for (let i = 0; i < g.kh; i++) {
          const iy = oy * g.sh - g.top + i * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (let j = 0; j < g.kw; j++) {
            const ix = ox * g.sw - g.left + j * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            const xo = ((b * g.h + iy) * g.w + ix) * g.ci, fo = (i * g.kw + j) * g.ci * g.co;
            for (let o = 0; o < g.co; o++) {
              dot(x, xo, 1, f, fo + o, g.co, g.ci, 0, ref, abs, at + o);
            }
          }
        }
      }
    }
  }
  return { ref, abs };
}

function convCase(blas: Blas, c: (typeof CONVS)[number], seed: number) {
  const attrs = c.attrs as Parameters<typeof convGeometry>[2];
  const g = convGeometry(c.x, c.f, attrs)!;
  // Buffers of at least 1 KiB, as fmbench's own are: helper threads read them by address.
  const offHeap = (a: Float32Array) => {
    const big = new Float32Array(Math.max(a.length, 256));
    big.set(a);
    return big.subarray(0, a.length);
  };
  const x = offHeap(lcgUniform(c.x.reduce((p, d) => p * d, 1), seed));
  const filter = offHeap(lcgUniform(c.f.reduce((p, d) => p * d, 1), seed + 1));
  const bias = c.bias ? offHeap(lcgUniform(g.co, seed + 2)) : undefined;
  const y = new Float32Array(g.b * g.ho * g.wo * g.co);
  if (c.route === "grid") {
    gridConvForward(blas, { xShape: c.x, filterShape: c.f, attrs }, { x, filter, y, bias });
    if (c.relu) { for (let i = 0; i < y.length; i++) y[i] = Math.max(y[i], 0); }
  } else im2colConv(blas, g, { x, filter, y, bias, relu: c.relu });
  const { ref, abs } = referenceConv(g, x, filter, bias);
  if (c.relu) { for (let i = 0; i < ref.length; i++) ref[i] = Math.max(ref[i], 0); }
  const what = `conv ${c.route} x[${c.x}] w[${c.f}] ${JSON.stringify(c.attrs)}` +
    `${c.bias ? " +bias" : ""}${c.relu ? " relu" : ""}`;
  return { what, out: y, ...compare(y, ref, abs, g.kh * g.kw * g.ci + 1) };
}

/**
 * Check the native kernels against float64 JS loops at each thread count in `threads` (restoring
 * the BLAS's count afterwards). Each element must be within twice the classic float32 rounding
 * bound of its dot product; on more than one thread the results must also equal the one-thread
 * results bit for bit for `identical` to hold (a difference is reported, not a failure).
 * @example
 * const r = checkNativeKernels(blas, { threads: [1, navigator.hardwareConcurrency] });
 * if (!r.ok) console.error(describeCheck(r));
 */
export function checkNativeKernels(blas: Blas, opts: { threads: number[] }): NativeCheck {
  const t0 = performance.now();
  const before = blas.threads;
  const failures: CheckFailure[] = [];
  let worstRatio = 0, cases = 0, identical = true;
  const first = new Map<string, Float32Array>();
  const counts = [...new Set(opts.threads)].filter((t) => t === 1 || blas.threads > 0);
  try {
    for (const threads of counts) {
      if (blas.threads > 0) blas.setThreads(threads);
      const results = [
        ...GEMMS.map((c, i) => gemmCase(blas, c, 17 + 7 * i)),
        ...CONVS.map((c, i) => convCase(blas, c, 101 + 7 * i)),
      ];
      for (const r of results) {
        cases++;
        if (!(r.ratio <= 1)) {
          failures.push({ what: r.what, threads, ratio: r.ratio, error: r.error, bound: r.bound });
        } else worstRatio = Math.max(worstRatio, r.ratio);
        const one = first.get(r.what);
        if (!one) first.set(r.what, r.out);
        else if (!one.every((v, i) => Object.is(v, r.out[i]))) identical = false;
      }
    }
  } finally {
    if (blas.threads > 0 && before > 0) blas.setThreads(before);
  }
  return {
    ok: failures.length === 0,
    threads: counts,
    cases,
    worstRatio,
    failures,
    identical,
    ms: performance.now() - t0,
  };
}

/**
 * One line for the run's notes: what was checked and how it went, with the figures of a failure.
 * @example
 * describeCheck(checkNativeKernels(blas, { threads: [1, 2] }));
 * // "native kernels checked against JS float64 loops on 1 and 2 threads: 24 comparisons, ..."
 */
export function describeCheck(r: NativeCheck): string {
  const on = `on ${r.threads.join(" and ")} thread${
    r.threads.length > 1 || r.threads[0] > 1 ? "s" : ""
  }`;
  if (r.ok) {
    return `native kernels checked against JS float64 loops ${on}: ${r.cases} comparisons, ` +
      `worst error ${(100 * r.worstRatio).toFixed(1)}% of its rounding bound` +
      (r.threads.length > 1
        ? r.identical
          ? `; threaded results bit-identical to one thread`
          : `; threaded results differ from one thread in the last bits`
        : "") +
      ` (${r.ms.toFixed(0)} ms)`;
  }
  const f = r.failures[0];
  return `native kernels FAILED their check against JS float64 loops ${on}: ` +
    `${r.failures.length} of ${r.cases} comparisons out of bounds, first ${f.what} on ` +
    `${f.threads} thread${f.threads > 1 ? "s" : ""}: error ${f.error.toExponential(2)} > bound ` +
    `${f.bound.toExponential(2)} (${f.ratio.toPrecision(3)}x)`;
}

/**
 * A BLAS whose products are subtly wrong (one element of every product off by `relative`), for
 * testing that the check catches a broken kernel; `onlyThreaded` breaks it on > 1 thread only.
 * @example
 * checkNativeKernels(faultyBlas(blas, { relative: 1e-4 }), { threads: [1] }).ok; // false
 */
export function faultyBlas(
  blas: Blas,
  o: { relative: number; onlyThreaded?: boolean },
): Blas {
  return {
    path: blas.path,
    core: blas.core,
    coreChosen: blas.coreChosen,
    get threads() {
      return blas.threads;
    },
    setThreads: (n) => blas.setThreads(n),
    oneThread: (fn) => blas.oneThread(fn),
    sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      blas.sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      if (o.onlyThreaded && blas.threads <= 1) return;
      const i = Math.floor((m - 1) / 2) * ldc + Math.floor((n - 1) / 2);
      c[i] += o.relative * (Math.abs(c[i]) + 1);
    },
  };
}
