// The previous Frechet route, kept as a reference for tests and `deno task bench:micro`: sqrt(S1)
// from a full symmetric eigendecomposition (ml-matrix), then the eigenvalues of
// sqrt(S1) S2 sqrt(S1). Exact but slow at d = 2048 (tens of seconds per distance).
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import {
  cheapTerms,
  checkDims,
  type FrechetParts,
  type GaussianStats,
} from "../features/frechet.ts";

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

/**
 * The PSD square root V diag(sqrt(max(l, 0))) V^T of a symmetric matrix.
 * @example
 * symmetricSqrt(Float64Array.of(4, 0, 0, 9), 2); // [2, 0, 0, 3]
 */
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

/**
 * tr((S1 S2)^{1/2}) for symmetric PSD S1, S2 given R = sqrt(S1): R S2 R is symmetric PSD and has
 * the eigenvalues of S1 S2, so the trace is the sum of the square roots of its eigenvalues
 * (negative round-off eigenvalues clipped to 0).
 * @example
 * traceSqrtProductEigen(symmetricSqrt(s1, d), s2, d);
 */
export function traceSqrtProductEigen(sqrtS1: Float64Array, s2: Float64Array, d: number): number {
  // M = R (S2 R); only its upper triangle is formed, then mirrored.
  const m = matmul(sqrtS1, matmul(s2, sqrtS1, d), d, true);
  mirrorUpper(m, d);
  const { values } = symmetricEig(m, d);
  return values.reduce((acc, l) => acc + Math.sqrt(Math.max(l, 0)), 0);
}

/**
 * The Frechet distance by the previous route: sqrt(S1) by eigendecomposition (pass `sqrtS1` to
 * reuse one), then the eigenvalues of sqrt(S1) S2 sqrt(S1).
 * @example
 * const old = frechetPartsEigen(a, b); // same value as frechetParts(a, b), much slower
 */
export function frechetPartsEigen(
  a: GaussianStats,
  b: GaussianStats,
  sqrtS1?: Float64Array,
): FrechetParts {
  const d = checkDims(a, b);
  const { meanTerm, trace1, trace2 } = cheapTerms(a, b);
  const traceSqrt = traceSqrtProductEigen(sqrtS1 ?? symmetricSqrt(a.sigma, d), b.sigma, d);
  return { meanTerm, trace1, trace2, traceSqrt, fid: meanTerm + trace1 + trace2 - 2 * traceSqrt };
}
