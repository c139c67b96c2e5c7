// Dense float64 linear algebra for the Frechet distance, written for speed on Float64Array:
// a cache-blocked matrix product, pivoted Cholesky, and symmetric eigenvalues by Householder
// tridiagonalisation and the implicit QL method.

/** Rows of the k- and j-tiles of the blocked product (chosen by timing at d = 2048). */
const KB = 128;
const JB = 512;

/**
 * C[i][j] += sum_k A[i][k] B[k][j] over i in [i0, i1), k in [k0, k1), j in [j0, j1), row-major
 * with row lengths lda, ldb, ldc. Four rows and four k at a time: each loaded B value is used 4
 * times and each C value is loaded once per 4 k.
 */
function gemmTile(
  c: Float64Array,
  ldc: number,
  a: Float64Array,
  lda: number,
  b: Float64Array,
  ldb: number,
  i0: number,
  i1: number,
  k0: number,
  k1: number,
  j0: number,
  j1: number,
): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const a0 = i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
    const c0 = i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    let k = k0;
    for (; k + 4 <= k1; k += 4) {
      const x0 = a[a0 + k], x1 = a[a1 + k], x2 = a[a2 + k], x3 = a[a3 + k];
      const y0 = a[a0 + k + 1], y1 = a[a1 + k + 1], y2 = a[a2 + k + 1], y3 = a[a3 + k + 1];
      const z0 = a[a0 + k + 2], z1 = a[a1 + k + 2], z2 = a[a2 + k + 2], z3 = a[a3 + k + 2];
      const w0 = a[a0 + k + 3], w1 = a[a1 + k + 3], w2 = a[a2 + k + 3], w3 = a[a3 + k + 3];
      const b0 = k * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
      for (let j = j0; j < j1; j++) {
        const p = b[b0 + j], q = b[b1 + j], r = b[b2 + j], s = b[b3 + j];
        c[c0 + j] += x0 * p + y0 * q + z0 * r + w0 * s;
        c[c1 + j] += x1 * p + y1 * q + z1 * r + w1 * s;
        c[c2 + j] += x2 * p + y2 * q + z2 * r + w2 * s;
        c[c3 + j] += x3 * p + y3 * q + z3 * r + w3 * s;
      }
    }
    for (; k < k1; k++) {
      const x0 = a[a0 + k], x1 = a[a1 + k], x2 = a[a2 + k], x3 = a[a3 + k];
      const bk = k * ldb;
      for (let j = j0; j < j1; j++) {
        const p = b[bk + j];
        c[c0 + j] += x0 * p;
        c[c1 + j] += x1 * p;
        c[c2 + j] += x2 * p;
        c[c3 + j] += x3 * p;
      }
    }
  }
  for (; i < i1; i++) {
    const ai = i * lda, ci = i * ldc;
    for (let k = k0; k < k1; k++) {
      const x = a[ai + k];
      const bk = k * ldb;
      for (let j = j0; j < j1; j++) c[ci + j] += x * b[bk + j];
    }
  }
}

/**
 * Row-major C = A B for A [m x k] and B [k x n], cache-blocked.
 * @example
 * matmul(Float64Array.of(1, 2, 3, 4), Float64Array.of(5, 6, 7, 8), 2, 2, 2); // [19, 22, 43, 50]
 */
export function matmul(
  a: Float64Array,
  b: Float64Array,
  m: number,
  k: number,
  n: number,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let k0 = 0; k0 < k; k0 += KB) {
    const k1 = Math.min(k, k0 + KB);
    for (let j0 = 0; j0 < n; j0 += JB) {
      gemmTile(c, n, a, k, b, n, 0, m, k0, k1, j0, Math.min(n, j0 + JB));
    }
  }
  return c;
}

/** A PSD matrix factored as S[perm[i]][perm[j]] ~ sum_k L[i][k] L[j][k], L lower-trapezoidal. */
export interface PivotedCholesky {
  /** d x rank, row-major; L[i][k] = 0 for k > i. */
  l: Float64Array;
  /** perm[i] is the original index of row i of L. */
  perm: Int32Array;
  rank: number;
  /** The pivot threshold: the Schur complement left out has every diagonal entry <= tol. */
  tol: number;
}

/**
 * Cholesky with complete (diagonal) pivoting of a symmetric PSD d x d matrix, stopping when the
 * largest remaining diagonal is at most `tol` (default d * eps * max diagonal, LAPACK dpstrf's
 * default): exact for PD matrices, and rank-revealing for singular ones (e.g. a covariance of
 * fewer than d samples), whose dropped remainder is round-off.
 * @example
 * const f = pivotedCholesky(Float64Array.of(4, 2, 2, 3), 2); // rank 2, perm [0, 1], l [2, 0, 1, 1.414...]
 */
export function pivotedCholesky(s: Float64Array, d: number, tol?: number): PivotedCholesky {
  // Work on a copy of the lower triangle; the Schur complement is updated in place.
  const a = Float64Array.from(s);
  const perm = Int32Array.from({ length: d }, (_, i) => i);
  let maxDiag = 0;
  for (let i = 0; i < d; i++) maxDiag = Math.max(maxDiag, a[i * d + i]);
  const threshold = tol ?? d * Number.EPSILON * maxDiag;
  /** Symmetric swap of rows/columns i < j, touching only the lower triangle. */
  const swap = (i: number, j: number) => {
    const t = (x: number, y: number) => {
      const v = a[x];
      a[x] = a[y];
      a[y] = v;
    };
    t(i * d + i, j * d + j);
    for (let k = 0; k < i; k++) t(i * d + k, j * d + k);
    for (let k = i + 1; k < j; k++) t(k * d + i, j * d + k);
    for (let k = j + 1; k < d; k++) t(k * d + i, k * d + j);
    const p = perm[i];
    perm[i] = perm[j];
    perm[j] = p;
  };
  const col = new Float64Array(d);
  let rank = 0;
  for (let k = 0; k < d; k++) {
    let best = k;
    for (let i = k + 1; i < d; i++) if (a[i * d + i] > a[best * d + best]) best = i;
    const pivot = a[best * d + best];
    if (!(pivot > threshold)) break;
    if (best !== k) swap(k, best);
    const lkk = Math.sqrt(pivot);
    a[k * d + k] = lkk;
    for (let i = k + 1; i < d; i++) col[i] = a[i * d + k] /= lkk;
    // Rank-1 update of the trailing lower triangle.
    for (let i = k + 1; i < d; i++) {
      const lik = col[i];
      if (lik === 0) continue;
      const ri = i * d;
      for (let j = k + 1; j <= i; j++) a[ri + j] -= lik * col[j];
    }
    rank++;
  }
  const l = new Float64Array(d * rank);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < Math.min(i + 1, rank); k++) l[i * rank + k] = a[i * d + k];
  }
  return { l, perm, rank, tol: threshold };
}

/**
 * L^T S L (r x r, symmetric) for a symmetric d x d S and a lower-trapezoidal d x r L, skipping
 * L's zero blocks: about (1 + 2/3) d^2 r flops instead of 4 d^2 r.
 * @example
 * const f = pivotedCholesky(s1, d); // then permute s2 by f.perm
 * const m = congruenceLower(s2Permuted, f.l, d, f.rank); // f.rank x f.rank
 */
export function congruenceLower(
  s: Float64Array,
  l: Float64Array,
  d: number,
  r: number,
): Float64Array {
  // W = S L (d x r): L[k][j] = 0 for j > k, so a k-tile only reaches columns j < k1.
  const w = new Float64Array(d * r);
  for (let k0 = 0; k0 < d; k0 += KB) {
    const k1 = Math.min(d, k0 + KB);
    const jEnd = Math.min(r, k1);
    for (let j0 = 0; j0 < jEnd; j0 += JB) {
      gemmTile(w, r, s, d, l, r, 0, d, k0, k1, j0, Math.min(jEnd, j0 + JB));
    }
  }
  // M = L^T W (r x r): row i of L^T is zero before column i; only j >= i is needed.
  const lt = new Float64Array(r * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < r; k++) lt[k * d + i] = l[i * r + k];
  const m = new Float64Array(r * r);
  const IB = 64;
  for (let i0 = 0; i0 < r; i0 += IB) {
    const i1 = Math.min(r, i0 + IB);
    for (let k0 = i0; k0 < d; k0 += KB) {
      const k1 = Math.min(d, k0 + KB);
      for (let j0 = i0; j0 < r; j0 += JB) {
        gemmTile(m, r, lt, d, w, r, i0, i1, k0, k1, j0, Math.min(r, j0 + JB));
      }
    }
  }
  for (let i = 0; i < r; i++) for (let j = i + 1; j < r; j++) m[j * r + i] = m[i * r + j];
  return m;
}

/**
 * Householder reduction of a symmetric n x n matrix (row-major; only the lower triangle is read,
 * and it is overwritten) to tridiagonal form: returns the diagonal and the subdiagonal
 * (off[i] = T[i+1][i], off[n-1] = 0). Each step's rank-2 update is fused with the next step's
 * matrix-vector product, so the trailing triangle is swept once per column.
 * @example
 * const { diag, off } = tridiagonalize(Float64Array.of(2, 1, 0, 1, 2, 1, 0, 1, 2), 3);
 */
export function tridiagonalize(
  a: Float64Array,
  n: number,
): { diag: Float64Array; off: Float64Array } {
  const diag = new Float64Array(n);
  const off = new Float64Array(n);
  if (n === 1) diag[0] = a[0];
  if (n <= 2) {
    if (n === 2) {
      diag[0] = a[0];
      diag[1] = a[3];
      off[0] = a[2];
    }
    return { diag, off };
  }
  let v = new Float64Array(n);
  let vNext = new Float64Array(n);
  const w = new Float64Array(n);
  const p = new Float64Array(n);
  /** Householder vector of column k below the diagonal into vec; returns beta (0: nothing to do). */
  const house = (k: number, vec: Float64Array): number => {
    const m = k + 1;
    let norm2 = 0;
    for (let i = m; i < n; i++) {
      const x = a[i * n + k];
      vec[i] = x;
      norm2 += x * x;
    }
    const x0 = vec[m];
    const tail = norm2 - x0 * x0;
    if (tail === 0) {
      // Already zero below the subdiagonal: no reflection.
      off[k] = x0;
      return 0;
    }
    const norm = Math.sqrt(norm2);
    const alpha = x0 >= 0 ? -norm : norm;
    off[k] = alpha;
    vec[m] = x0 - alpha;
    return 2 / (tail + vec[m] * vec[m]);
  };
  /** p[i] = sum_j A[i][j] vec[j] over the trailing block rows/columns >= m (lower triangle). */
  const symv = (m: number, vec: Float64Array) => {
    p.fill(0, m, n);
    for (let i = m; i < n; i++) {
      const r = i * n, vi = vec[i];
      let s = 0;
      for (let j = m; j < i; j++) {
        const aij = a[r + j];
        s += aij * vec[j];
        p[j] += aij * vi;
      }
      p[i] += s + a[r + i] * vi;
    }
  };
  let beta = house(0, v);
  if (beta !== 0) symv(1, v);
  for (let k = 0; k < n - 2; k++) {
    diag[k] = a[k * n + k];
    const m = k + 1;
    if (beta !== 0) {
      // w = beta p - (beta^2 / 2)(p.v) v, so that A <- A - v w^T - w v^T.
      let pv = 0;
      for (let i = m; i < n; i++) {
        p[i] *= beta;
        pv += p[i] * v[i];
      }
      const half = 0.5 * beta * pv;
      for (let i = m; i < n; i++) w[i] = p[i] - half * v[i];
      // Update column m first: the next reflection is built from it.
      const wm = w[m], vm = v[m];
      for (let i = m; i < n; i++) a[i * n + m] -= v[i] * wm + w[i] * vm;
    }
    if (k === n - 3) {
      if (beta !== 0) {
        const i = n - 1, r = i * n;
        a[r + i] -= 2 * v[i] * w[i];
      }
      break;
    }
    const betaNext = house(m, vNext);
    const m2 = m + 1;
    p.fill(0, m2, n);
    if (beta !== 0) {
      // Fused: apply this step's update to the trailing block and multiply by the next vector.
      for (let i = m2; i < n; i++) {
        const r = i * n, vi = v[i], wi = w[i], ui = vNext[i];
        let s = 0;
        for (let j = m2; j < i; j++) {
          const aij = a[r + j] - vi * w[j] - wi * v[j];
          a[r + j] = aij;
          s += aij * vNext[j];
          p[j] += aij * ui;
        }
        const aii = a[r + i] - 2 * vi * wi;
        a[r + i] = aii;
        p[i] += s + aii * ui;
      }
    } else if (betaNext !== 0) {
      symv(m2, vNext);
    }
    [v, vNext] = [vNext, v];
    beta = betaNext;
  }
  diag[n - 2] = a[(n - 2) * n + n - 2];
  diag[n - 1] = a[n * n - 1];
  off[n - 2] = a[(n - 1) * n + n - 2];
  return { diag, off };
}

/**
 * Eigenvalues (ascending) of a symmetric tridiagonal matrix by the implicit QL method with
 * Wilkinson-type shifts (as EISPACK's tql1).
 * @example
 * tridiagonalEigenvalues(Float64Array.of(2, 2), Float64Array.of(1, 0)); // [1, 3]
 */
export function tridiagonalEigenvalues(diag: Float64Array, off: Float64Array): Float64Array {
  const n = diag.length;
  const d = Float64Array.from(diag);
  const e = new Float64Array(n);
  for (let i = 0; i + 1 < n; i++) e[i] = off[i];
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (++iter > 100) throw new Error(`tridiagonal QL: no convergence for eigenvalue ${l}`);
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Deflate: the split makes the remaining rotation unnecessary.
          d[i + 1] -= p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (underflow) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d.sort();
}

/**
 * All eigenvalues (ascending) of a symmetric n x n matrix given row-major (only the lower
 * triangle is read; the input is left untouched).
 * @example
 * symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2); // [1, 3]
 */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  const { diag, off } = tridiagonalize(Float64Array.from(a), n);
  return tridiagonalEigenvalues(diag, off);
}
