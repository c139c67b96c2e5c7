// The Frechet distance between two Gaussians in float64 (pivoted Cholesky of S1, eigenvalues of
// L^T S2 L; by the system LAPACK where one loads, else in JS), and streaming mean/covariance
// statistics of feature batches.
import {
  congruenceLower,
  type PivotedCholesky,
  pivotedCholesky,
  symmetricEigenvalues,
} from "./linalg.ts";
import { loadLapack } from "./lapack.ts";

/** The three linear-algebra steps of the trace term, by one implementation. */
export interface FrechetLinalg {
  /** "lapack <path>" or "js". */
  name: string;
  pivotedCholesky(s: Float64Array, d: number, tol?: number): PivotedCholesky;
  congruenceLower(s: Float64Array, l: Float64Array, d: number, r: number): Float64Array;
  symmetricEigenvalues(a: Float64Array, n: number): Float64Array;
}

/**
 * The JS route (features/linalg.ts): the fallback, and the reference the LAPACK route is tested
 * against.
 * @example
 * frechetParts(a, b, { linalg: JS_LINALG });
 */
export const JS_LINALG: FrechetLinalg = {
  name: "js",
  pivotedCholesky,
  congruenceLower,
  symmetricEigenvalues,
};

/**
 * The route used by default: the system LAPACK (features/lapack.ts, several times faster at
 * d = 2048) where it loads, else JS_LINALG.
 * @example
 * defaultLinalg().name; // "lapack libopenblas.so.0" with OpenBLAS and --allow-ffi, else "js"
 */
export function defaultLinalg(): FrechetLinalg {
  const { lapack } = loadLapack();
  if (!lapack) return JS_LINALG;
  return {
    name: `lapack ${lapack.path}`,
    pivotedCholesky: lapack.pivotedCholesky,
    congruenceLower: lapack.congruenceLower,
    symmetricEigenvalues: lapack.symmetricEigenvalues,
  };
}

/** Which linear algebra a Frechet computation uses (default: defaultLinalg()). */
export interface LinalgOption {
  linalg?: FrechetLinalg;
}

/** Mean and covariance (unbiased, N - 1) of n feature vectors of dimension dim. */
export interface GaussianStats {
  dim: number;
  n: number;
  mu: Float64Array;
  /** Row-major dim x dim, symmetric. */
  sigma: Float64Array;
}

/** The terms of the Frechet distance, for reporting. */
export interface FrechetParts {
  /** ||mu1 - mu2||^2 */
  meanTerm: number;
  trace1: number;
  trace2: number;
  /** tr((S1 S2)^{1/2}) */
  traceSqrt: number;
  /** meanTerm + trace1 + trace2 - 2 traceSqrt */
  fid: number;
}

/**
 * Accumulates mean and covariance in float64 from batches of rows, merging each batch's centred
 * scatter into the running one (Chan et al.), so any number of rows can stream through.
 * @example
 * const s = new RunningStats(2);
 * s.add([1, 2, 3, 6]); // two rows: [1, 2] and [3, 6]
 * s.finalize(); // { dim: 2, n: 2, mu: [2, 4], sigma: [2, 4, 4, 8] }
 */
export class RunningStats {
  private count = 0;
  private readonly mean: Float64Array;
  /** Upper triangle (j >= i) of the centred scatter matrix. */
  private readonly m2: Float64Array;

  constructor(readonly dim: number) {
    if (!Number.isInteger(dim) || dim < 1) {
      throw new Error(`RunningStats: dim must be a positive integer, got ${dim}`);
    }
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dim * dim);
  }

  /** Rows seen so far. */
  get n(): number {
    return this.count;
  }

  /** Add a batch of rows given as a row-major [rows, dim] array. */
  add(rows: ArrayLike<number>): void {
    const d = this.dim;
    if (rows.length % d !== 0) {
      throw new Error(`RunningStats.add: ${rows.length} values is not a multiple of dim ${d}`);
    }
    const b = rows.length / d;
    if (b === 0) return;
    const bmean = new Float64Array(d);
    for (let r = 0; r < b; r++) {
      for (let i = 0; i < d; i++) bmean[i] += rows[r * d + i];
    }
    for (let i = 0; i < d; i++) bmean[i] /= b;
    const centred = new Float64Array(b * d);
    for (let r = 0; r < b; r++) {
      for (let i = 0; i < d; i++) {
        const v = rows[r * d + i];
        if (!Number.isFinite(v)) {
          throw new Error(`RunningStats.add: non-finite value ${v} at row ${r}, column ${i}`);
        }
        centred[r * d + i] = v - bmean[i];
      }
    }
    addScatter(this.m2, centred, b, d);
    const n = this.count;
    const total = n + b;
    const delta = new Float64Array(d);
    for (let i = 0; i < d; i++) delta[i] = bmean[i] - this.mean[i];
    const w = (n * b) / total;
    for (let i = 0; i < d; i++) {
      const di = delta[i] * w;
      if (di === 0) continue;
      const base = i * d;
      for (let j = i; j < d; j++) this.m2[base + j] += di * delta[j];
    }
    for (let i = 0; i < d; i++) this.mean[i] += delta[i] * (b / total);
    this.count = total;
  }

  /** The mean and the unbiased covariance (divides by n - 1); needs n >= 2. */
  finalize(): GaussianStats {
    const d = this.dim;
    if (this.count < 2) {
      throw new Error(
        `RunningStats.finalize: need at least 2 rows for a covariance, got ${this.count}`,
      );
    }
    const sigma = new Float64Array(d * d);
    const inv = 1 / (this.count - 1);
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const v = this.m2[i * d + j] * inv;
        sigma[i * d + j] = v;
        sigma[j * d + i] = v;
      }
    }
    return { dim: d, n: this.count, mu: Float64Array.from(this.mean), sigma };
  }
}

/** m2 (upper triangle) += sum over rows of x x^T, eight rows at a time to save memory traffic. */
function addScatter(m2: Float64Array, x: Float64Array, rows: number, d: number): void {
  let r = 0;
  for (; r + 8 <= rows; r += 8) {
    const o0 = r * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
    const o4 = o3 + d, o5 = o4 + d, o6 = o5 + d, o7 = o6 + d;
    for (let i = 0; i < d; i++) {
      const a0 = x[o0 + i], a1 = x[o1 + i], a2 = x[o2 + i], a3 = x[o3 + i];
      const a4 = x[o4 + i], a5 = x[o5 + i], a6 = x[o6 + i], a7 = x[o7 + i];
      const base = i * d;
      for (let j = i; j < d; j++) {
        m2[base + j] += a0 * x[o0 + j] + a1 * x[o1 + j] + a2 * x[o2 + j] + a3 * x[o3 + j] +
          a4 * x[o4 + j] + a5 * x[o5 + j] + a6 * x[o6 + j] + a7 * x[o7 + j];
      }
    }
  }
  for (; r < rows; r++) {
    const o = r * d;
    for (let i = 0; i < d; i++) {
      const a = x[o + i];
      if (a === 0) continue;
      const base = i * d;
      for (let j = i; j < d; j++) m2[base + j] += a * x[o + j];
    }
  }
}

/**
 * Mean and unbiased covariance of a row-major [rows, dim] array in one go.
 * @example
 * batchStats([1, 2, 3, 6], 2); // { dim: 2, n: 2, mu: [2, 4], sigma: [2, 4, 4, 8] }
 */
export function batchStats(rows: ArrayLike<number>, dim: number): GaussianStats {
  const s = new RunningStats(dim);
  s.add(rows);
  return s.finalize();
}

/** Gaussian statistics with a factor of the covariance precomputed (reusable, cacheable). */
export interface PreparedGaussian extends GaussianStats {
  /** sigma[perm[i]][perm[j]] = (L L^T)[i][j] up to round-off (see pivotedCholesky). */
  factor: PivotedCholesky;
}

/**
 * Factor sigma once (pivoted Cholesky, d^3/3 flops), e.g. for reference statistics compared
 * against many times.
 * @example
 * const ref = prepareGaussian(stats); // frechetDistance(ref, other) reuses ref.factor
 */
export function prepareGaussian(stats: GaussianStats, o: LinalgOption = {}): PreparedGaussian {
  if ("factor" in stats) return stats as PreparedGaussian;
  const linalg = o.linalg ?? defaultLinalg();
  return { ...stats, factor: linalg.pivotedCholesky(stats.sigma, stats.dim) };
}

/**
 * tr((S1 S2)^{1/2}) for symmetric PSD S1, S2 given S1's pivoted Cholesky factor: with
 * P^T S1 P = L L^T, S1 S2 is similar to L^T (P^T S2 P) L, which is symmetric PSD, so the trace is
 * the sum of the square roots of its eigenvalues (negative round-off eigenvalues clipped to 0).
 * Cost: (5/3) d^2 r flops for the product and (4/3) r^3 for the tridiagonalisation.
 * @example
 * traceSqrtProduct(prepareGaussian(a).factor, b.sigma, b.dim);
 */
export function traceSqrtProduct(
  f: PivotedCholesky,
  s2: Float64Array,
  d: number,
  o: LinalgOption = {},
): number {
  const linalg = o.linalg ?? defaultLinalg();
  const r = f.rank;
  if (r === 0) return 0;
  const s2p = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const src = f.perm[i] * d;
    for (let j = 0; j < d; j++) s2p[i * d + j] = s2[src + f.perm[j]];
  }
  const values = linalg.symmetricEigenvalues(linalg.congruenceLower(s2p, f.l, d, r), r);
  let acc = 0;
  for (const l of values) acc += Math.sqrt(Math.max(l, 0));
  return acc;
}

/**
 * The Frechet distance and its terms between N(mu1, S1) and N(mu2, S2). Pass `a` as a
 * PreparedGaussian (see prepareGaussian) to reuse its factor across calls.
 * @example
 * const ref = prepareGaussian(referenceStats); // factor once
 * const { fid, traceSqrt } = frechetParts(ref, generatedStats);
 */
export function frechetParts(
  a: GaussianStats | PreparedGaussian,
  b: GaussianStats,
  o: LinalgOption = {},
): FrechetParts {
  const d = checkDims(a, b);
  const { meanTerm, trace1, trace2 } = cheapTerms(a, b);
  const traceSqrt = traceSqrtProduct(prepareGaussian(a, o).factor, b.sigma, d, o);
  return { meanTerm, trace1, trace2, traceSqrt, fid: meanTerm + trace1 + trace2 - 2 * traceSqrt };
}

/**
 * ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2}), in float64.
 * @example
 * frechetDistance(a, b); // ||mu1 - mu2||^2 + tr S1 + tr S2 - 2 tr sqrt(S1 S2)
 */
export function frechetDistance(a: GaussianStats | PreparedGaussian, b: GaussianStats): number {
  return frechetParts(a, b).fid;
}

/**
 * The common dimension of two statistics; an error naming both when they differ.
 * @example
 * checkDims(a, b); // 2048, or an error naming both dimensions
 */
export function checkDims(a: GaussianStats, b: GaussianStats): number {
  const d = a.dim;
  if (b.dim !== d || a.mu.length !== d || b.mu.length !== d) {
    throw new Error(`frechetDistance: dimensions differ (${a.dim} vs ${b.dim})`);
  }
  if (a.sigma.length !== d * d || b.sigma.length !== d * d) {
    throw new Error(`frechetDistance: covariances must be ${d}x${d}`);
  }
  return d;
}

/**
 * The mean term and the two traces.
 * @example
 * const { meanTerm, trace1, trace2 } = cheapTerms(a, b);
 */
export function cheapTerms(
  a: GaussianStats,
  b: GaussianStats,
): { meanTerm: number; trace1: number; trace2: number } {
  const d = a.dim;
  let meanTerm = 0, trace1 = 0, trace2 = 0;
  for (let i = 0; i < d; i++) {
    meanTerm += (a.mu[i] - b.mu[i]) ** 2;
    trace1 += a.sigma[i * d + i];
    trace2 += b.sigma[i * d + i];
  }
  return { meanTerm, trace1, trace2 };
}
