// The Frechet distance between two Gaussians in float64 (symmetric eigendecomposition route), and
// streaming mean/covariance statistics of feature batches.
import { EigenvalueDecomposition, Matrix } from "ml-matrix";

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

/** Mean and unbiased covariance of a row-major [rows, dim] array in one go. */
export function batchStats(rows: ArrayLike<number>, dim: number): GaussianStats {
  const s = new RunningStats(dim);
  s.add(rows);
  return s.finalize();
}

function toMatrix(a: Float64Array, d: number): Matrix {
  const m = new Matrix(d, d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) m.set(i, j, a[i * d + j]);
  }
  return m;
}

/** Eigenvalues and eigenvectors (columns of v, row-major) of a symmetric matrix. */
function symmetricEig(a: Float64Array, d: number): { values: number[]; v: Float64Array } {
  const evd = new EigenvalueDecomposition(toMatrix(a, d), { assumeSymmetric: true });
  const vm = evd.eigenvectorMatrix;
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) v[i * d + j] = vm.get(i, j);
  }
  return { values: evd.realEigenvalues, v };
}

/**
 * Row-major c = a b for d x d matrices (i-k-j order, k unrolled by 4). With `upperOnly` only
 * entries j >= i are computed (the rest stay 0): enough when c is known to be symmetric.
 */
function matmul(a: Float64Array, b: Float64Array, d: number, upperOnly = false): Float64Array {
  const c = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const ci = i * d;
    const j0 = upperOnly ? i : 0;
    let k = 0;
    for (; k + 4 <= d; k += 4) {
      const a0 = a[ci + k], a1 = a[ci + k + 1], a2 = a[ci + k + 2], a3 = a[ci + k + 3];
      const b0 = k * d, b1 = b0 + d, b2 = b1 + d, b3 = b2 + d;
      for (let j = j0; j < d; j++) {
        c[ci + j] += a0 * b[b0 + j] + a1 * b[b1 + j] + a2 * b[b2 + j] + a3 * b[b3 + j];
      }
    }
    for (; k < d; k++) {
      const aik = a[ci + k];
      const bk = k * d;
      for (let j = j0; j < d; j++) c[ci + j] += aik * b[bk + j];
    }
  }
  return c;
}

/** The PSD square root V diag(sqrt(max(l, 0))) V^T of a symmetric matrix. */
export function symmetricSqrt(a: Float64Array, d: number): Float64Array {
  const { values, v } = symmetricEig(a, d);
  // R = W V^T with W = V diag(sqrt(l)).
  const w = new Float64Array(d * d);
  const vt = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const s = Math.sqrt(Math.max(values[k], 0));
    for (let i = 0; i < d; i++) {
      w[i * d + k] = v[i * d + k] * s;
      vt[k * d + i] = v[i * d + k];
    }
  }
  const r = matmul(w, vt, d, true);
  mirrorUpper(r, d);
  return r;
}

/** Copy the upper triangle onto the lower one. */
function mirrorUpper(m: Float64Array, d: number): void {
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) m[j * d + i] = m[i * d + j];
  }
}

/** Gaussian statistics with the PSD square root of the covariance precomputed (reusable). */
export interface PreparedGaussian extends GaussianStats {
  /** sqrt(sigma), row-major, symmetric. */
  sqrtSigma: Float64Array;
}

/** Precompute sqrt(sigma) once, e.g. for reference statistics compared against many times. */
export function prepareGaussian(stats: GaussianStats): PreparedGaussian {
  if ("sqrtSigma" in stats) return stats as PreparedGaussian;
  return { ...stats, sqrtSigma: symmetricSqrt(stats.sigma, stats.dim) };
}

/**
 * tr((S1 S2)^{1/2}) for symmetric PSD S1, S2 given R = sqrt(S1): R S2 R is symmetric PSD and has
 * the eigenvalues of S1 S2, so the trace is the sum of the square roots of its eigenvalues
 * (negative round-off eigenvalues clipped to 0).
 */
export function traceSqrtProduct(sqrtS1: Float64Array, s2: Float64Array, d: number): number {
  // M = R (S2 R); only its upper triangle is formed, then mirrored.
  const m = matmul(sqrtS1, matmul(s2, sqrtS1, d), d, true);
  mirrorUpper(m, d);
  const { values } = symmetricEig(m, d);
  return values.reduce((acc, l) => acc + Math.sqrt(Math.max(l, 0)), 0);
}

/**
 * The Frechet distance and its terms between N(mu1, S1) and N(mu2, S2). Pass `a` as a
 * PreparedGaussian (see prepareGaussian) to reuse its square root across calls.
 */
export function frechetParts(a: GaussianStats | PreparedGaussian, b: GaussianStats): FrechetParts {
  const d = a.dim;
  if (b.dim !== d || a.mu.length !== d || b.mu.length !== d) {
    throw new Error(`frechetDistance: dimensions differ (${a.dim} vs ${b.dim})`);
  }
  if (a.sigma.length !== d * d || b.sigma.length !== d * d) {
    throw new Error(`frechetDistance: covariances must be ${d}x${d}`);
  }
  let meanTerm = 0, trace1 = 0, trace2 = 0;
  for (let i = 0; i < d; i++) {
    meanTerm += (a.mu[i] - b.mu[i]) ** 2;
    trace1 += a.sigma[i * d + i];
    trace2 += b.sigma[i * d + i];
  }
  const traceSqrt = traceSqrtProduct(prepareGaussian(a).sqrtSigma, b.sigma, d);
  return { meanTerm, trace1, trace2, traceSqrt, fid: meanTerm + trace1 + trace2 - 2 * traceSqrt };
}

/** ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2}), in float64. */
export function frechetDistance(a: GaussianStats | PreparedGaussian, b: GaussianStats): number {
  return frechetParts(a, b).fid;
}
