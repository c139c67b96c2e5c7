// Soft minima (the c-transforms of entropic optimal transport) between 2-D point clouds for the
// squared Euclidean cost: dense over weighted clusters, and over cells with provably negligible
// terms skipped (harness/metrics/sinkhorn-divergence.ts).
import type { PointCells } from "./point-cells.ts";
import type { SparseRowsBuilder } from "./sparse-kernel.ts";

/**
 * Terms at least CUT epsilons above a row's minimum are skipped: each weighs at most e^-30 of the
 * largest, so with up to 10^6 terms the sum is off by under 1e-7 relative and the soft minimum
 * by under 1e-7 epsilon.
 */
const CUT = 30;

/**
 * out[i] = -eps log sum_j exp(logW[j] + (h[j] - |x_i - y_j|^2) / eps) for every query point x_i
 * (xq row-major 2-D) over every source point y_j (ys), all pairs computed.
 * @example
 * const out = new Float64Array(1);
 * softminDense(out, new Float64Array([0, 0]), new Float64Array([1, 0]), new Float64Array([0]), new Float64Array([0]), 0.1);
 * // out[0] = 1 (one source at squared distance 1, weight 1, potential 0)
 */
export function softminDense(
  out: Float64Array,
  xq: Float64Array,
  ys: Float64Array,
  logW: Float64Array,
  h: Float64Array,
  eps: number,
): void {
  const nq = xq.length / 2, ns = ys.length / 2;
  const z = new Float64Array(ns);
  for (let i = 0; i < nq; i++) {
    const x0 = xq[2 * i], x1 = xq[2 * i + 1];
    let min = Infinity;
    for (let j = 0; j < ns; j++) {
      const d0 = x0 - ys[2 * j], d1 = x1 - ys[2 * j + 1];
      const v = d0 * d0 + d1 * d1 - h[j] - eps * logW[j];
      z[j] = v;
      if (v < min) min = v;
    }
    let s = 0;
    const cut = CUT * eps, inv = 1 / eps;
    for (let j = 0; j < ns; j++) {
      const d = z[j] - min;
      if (d < cut) s += Math.exp(-d * inv);
    }
    out[i] = min - eps * Math.log(s);
  }
}

/** Reusable work space of softminCells for one source cloud. */
export interface SoftminScratch {
  z: Float64Array;
  idx: Int32Array;
  w: Float64Array;
  lb: Float64Array;
  candidates: Int32Array;
  fit: Float64Array;
}

/**
 * Work space for softminCells over the source cloud `src`.
 * @example
 * const scratch = softminScratch(cellsOfB);
 */
export function softminScratch(src: PointCells): SoftminScratch {
  return {
    z: new Float64Array(src.n),
    idx: new Int32Array(src.n),
    w: new Float64Array(src.n),
    lb: new Float64Array(src.cells),
    candidates: new Int32Array(src.cells),
    fit: new Float64Array(4 * src.cells),
  };
}

/**
 * Per cell, a plane a + b.(y - centroid) + r that lies above every h_j of the cell: a is the
 * mean, b the least-squares slope, r the largest residual. Stored as [a + r, b0, b1, j] at 4c,
 * j being the cell's point with the largest h.
 */
function fitPlanes(src: PointCells, h: Float64Array, fit: Float64Array): void {
  const { xy, start, centroid } = src;
  for (let c = 0; c < src.cells; c++) {
    const k0 = start[c], k1 = start[c + 1];
    const cx = centroid[2 * c], cy = centroid[2 * c + 1];
    let a = 0, top = k0;
    for (let k = k0; k < k1; k++) {
      a += h[k];
      if (h[k] > h[top]) top = k;
    }
    a /= k1 - k0;
    let sxx = 0, sxy = 0, syy = 0, tx = 0, ty = 0;
    for (let k = k0; k < k1; k++) {
      const dx = xy[2 * k] - cx, dy = xy[2 * k + 1] - cy, dh = h[k] - a;
      sxx += dx * dx;
      sxy += dx * dy;
      syy += dy * dy;
      tx += dx * dh;
      ty += dy * dh;
    }
    // A tiny ridge keeps one-point and collinear cells solvable (any slope is valid: r absorbs it).
    const ridge = 1e-12 + 1e-9 * (sxx + syy);
    sxx += ridge;
    syy += ridge;
    const det = sxx * syy - sxy * sxy;
    const b0 = (syy * tx - sxy * ty) / det, b1 = (sxx * ty - sxy * tx) / det;
    let r = 0;
    for (let k = k0; k < k1; k++) {
      const e = h[k] - a - b0 * (xy[2 * k] - cx) - b1 * (xy[2 * k + 1] - cy);
      if (e > r) r = e;
    }
    fit[4 * c] = a + r;
    fit[4 * c + 1] = b0;
    fit[4 * c + 2] = b1;
    fit[4 * c + 3] = top;
  }
}

/** Distance from v to the interval [lo, hi]. */
function gap(v: number, lo: number, hi: number): number {
  return v < lo ? lo - v : v > hi ? v - hi : 0;
}

/**
 * The source cells that can hold a term within CUT eps of the row minimum of any query point in
 * the query box [x0, x1] x [y0, y1]: lower bounds of |x - y|^2 - h(y) over box x cell against
 * the least upper bound (the squared distance to the box's far corner from one point per cell).
 * Returns their count (in scratch.candidates).
 */
function candidateCells(
  src: PointCells,
  h: Float64Array,
  q: Float64Array,
  qo: number,
  cut: number,
  scratch: SoftminScratch,
): number {
  const { xy, box, centroid, cells } = src;
  const { lb, candidates, fit } = scratch;
  const x0 = q[qo], x1 = q[qo + 1], y0 = q[qo + 2], y1 = q[qo + 3];
  let upper = Infinity;
  for (let c = 0; c < cells; c++) {
    const o = 4 * c, b0 = fit[o + 1], b1 = fit[o + 2];
    // Over the box: |x - y|^2 - h(y) >= |y - x - b/2|^2 - b.x - |b|^2/4 + b.centroid - (a + r).
    const e0 = Math.max(0, box[o] - x1 - 0.5 * b0, x0 + 0.5 * b0 - box[o + 1]);
    const e1 = Math.max(0, box[o + 2] - y1 - 0.5 * b1, y0 + 0.5 * b1 - box[o + 3]);
    lb[c] = e0 * e0 + e1 * e1 - (b0 > 0 ? b0 * x1 : b0 * x0) - (b1 > 0 ? b1 * y1 : b1 * y0) -
      0.25 * (b0 * b0 + b1 * b1) + b0 * centroid[2 * c] + b1 * centroid[2 * c + 1] - fit[o];
    const j = fit[o + 3], yx = xy[2 * j], yy = xy[2 * j + 1];
    const u0 = Math.max(Math.abs(x0 - yx), Math.abs(x1 - yx));
    const u1 = Math.max(Math.abs(y0 - yy), Math.abs(y1 - yy));
    const ub = u0 * u0 + u1 * u1 - h[j];
    if (ub < upper) upper = ub;
  }
  let count = 0;
  for (let c = 0; c < cells; c++) if (lb[c] <= upper + cut) candidates[count++] = c;
  return count;
}

/**
 * out[k] = -eps log((1/ns) sum_j exp((h[j] - |x_k - y_j|^2) / eps)) for every query point x_k
 * of `query` (in its cell order) over the ns points of `src` (h in src's cell order), uniform
 * weights. Source cells that provably hold only terms CUT eps or more above a row's minimum are
 * skipped (bounds from a plane above h on each cell, per query cell, then per point): the result
 * equals the dense sum to ~1e-7 eps. With `collect`, each row's kept terms (those within CUT eps
 * of its minimum) are added to it as one row: source index j, exp((min - |x - y_j|^2 + h_j) /
 * eps), and the row minimum as the row's number.
 * @example
 * softminCells(f, cellsOfA, cellsOfB, g, 0.0025, softminScratch(cellsOfB));
 */
export function softminCells(
  out: Float64Array,
  query: PointCells,
  src: PointCells,
  h: Float64Array,
  eps: number,
  scratch: SoftminScratch,
  collect?: SparseRowsBuilder,
): void {
  const { xy, start, box, centroid } = src;
  const { z, idx, w, lb, candidates, fit } = scratch;
  fitPlanes(src, h, fit);
  const xq = query.xy;
  const cut = CUT * eps, inv = 1 / eps, logN = Math.log(src.n);
  for (let qc = 0; qc < query.cells; qc++) {
    const nc = candidateCells(src, h, query.box, 4 * qc, cut, scratch);
    for (let i = query.start[qc]; i < query.start[qc + 1]; i++) {
      const x0 = xq[2 * i], x1 = xq[2 * i + 1];
      let best = Infinity, cb = 0;
      for (let t = 0; t < nc; t++) {
        const c = candidates[t], o = 4 * c;
        const b0 = fit[o + 1], b1 = fit[o + 2];
        const e0 = gap(x0 + 0.5 * b0, box[o], box[o + 1]);
        const e1 = gap(x1 + 0.5 * b1, box[o + 2], box[o + 3]);
        const v = e0 * e0 + e1 * e1 - b0 * x0 - b1 * x1 - 0.25 * (b0 * b0 + b1 * b1) +
          b0 * centroid[2 * c] + b1 * centroid[2 * c + 1] - fit[o];
        lb[c] = v;
        if (v < best) {
          best = v;
          cb = c;
        }
      }
      // Exact values, the most promising cell first so that the running minimum prunes the rest.
      let min = Infinity, count = 0;
      for (let t = -1; t < nc; t++) {
        const c = t < 0 ? cb : candidates[t];
        if (t >= 0 && (c === cb || lb[c] > min + cut)) continue;
        for (let k = start[c]; k < start[c + 1]; k++) {
          const d0 = x0 - xy[2 * k], d1 = x1 - xy[2 * k + 1];
          const v = d0 * d0 + d1 * d1 - h[k];
          idx[count] = k;
          z[count++] = v;
          if (v < min) min = v;
        }
      }
      let s = 0, kept = 0;
      for (let k = 0; k < count; k++) {
        const d = z[k] - min;
        if (d < cut) {
          const e = Math.exp(-d * inv);
          s += e;
          idx[kept] = idx[k];
          w[kept++] = e;
        }
      }
      collect?.addRow(idx, w, kept, min);
      out[i] = min - eps * (Math.log(s) - logN);
    }
  }
}
