// Soft minima (the c-transforms of entropic optimal transport) between 2-D point clouds for the
// squared Euclidean cost: dense over weighted clusters, and over cells with provably negligible
// terms skipped (harness/metrics/sinkhorn-divergence.ts).
import type { PointCells } from "./point-cells.ts";

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

/** Reusable work space of softminCells for sources of up to `points` points in `cells` cells. */
export interface SoftminScratch {
  z: Float64Array;
  lb: Float64Array;
  fit: Float64Array;
}

/**
 * Work space for softminCells.
 * @example
 * const scratch = softminScratch(cellsOfB);
 */
export function softminScratch(src: PointCells): SoftminScratch {
  return {
    z: new Float64Array(src.n),
    lb: new Float64Array(src.cells),
    fit: new Float64Array(4 * src.cells),
  };
}

/**
 * Per cell, a plane a + b.(y - centroid) + r that lies above every h_j of the cell: a is the
 * mean, b the least-squares slope, r the largest residual. Stored as [a + r, b0, b1, -] at 4c.
 */
function fitPlanes(src: PointCells, h: Float64Array, fit: Float64Array): void {
  const { xy, start, centroid } = src;
  for (let c = 0; c < src.cells; c++) {
    const k0 = start[c], k1 = start[c + 1];
    const cx = centroid[2 * c], cy = centroid[2 * c + 1];
    let a = 0;
    for (let k = k0; k < k1; k++) a += h[k];
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
  }
}

/**
 * out[i] = -eps log((1/ns) sum_j exp((h[j] - |x_i - y_j|^2) / eps)) for every query point x_i
 * (xq row-major 2-D) over the ns source points of `src` (h in src's cell order), uniform weights.
 * A cell is skipped when a lower bound of |x_i - y|^2 - h over it (from a plane above h on the
 * cell) exceeds the row's minimum by CUT eps: the result equals the dense sum to ~1e-7 eps.
 * @example
 * softminCells(f, cellsOfA.xy, cellsOfB, g, 0.0025, softminScratch(cellsOfB));
 */
export function softminCells(
  out: Float64Array,
  xq: Float64Array,
  src: PointCells,
  h: Float64Array,
  eps: number,
  scratch: SoftminScratch,
): void {
  const { xy, start, box, centroid, cells } = src;
  const { z, lb, fit } = scratch;
  fitPlanes(src, h, fit);
  const nq = xq.length / 2;
  const cut = CUT * eps, inv = 1 / eps, logN = Math.log(src.n);
  for (let i = 0; i < nq; i++) {
    const x0 = xq[2 * i], x1 = xq[2 * i + 1];
    // |x - y|^2 - h(y) >= |x - y|^2 - b.(y - c) - (a + r) = |y - x - b/2|^2 - b.x - |b|^2/4
    // + b.c - (a + r), whose first term is bounded below by the box's distance to x + b/2.
    let best = Infinity, cb = 0;
    for (let c = 0; c < cells; c++) {
      const b0 = fit[4 * c + 1], b1 = fit[4 * c + 2];
      const s0 = x0 + 0.5 * b0, s1 = x1 + 0.5 * b1;
      const o = 4 * c;
      const e0 = s0 < box[o] ? box[o] - s0 : s0 > box[o + 1] ? s0 - box[o + 1] : 0;
      const e1 = s1 < box[o + 2] ? box[o + 2] - s1 : s1 > box[o + 3] ? s1 - box[o + 3] : 0;
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
    for (let t = -1; t < cells; t++) {
      const c = t < 0 ? cb : t;
      if (t >= 0 && (c === cb || lb[c] > min + cut)) continue;
      for (let k = start[c]; k < start[c + 1]; k++) {
        const d0 = x0 - xy[2 * k], d1 = x1 - xy[2 * k + 1];
        const v = d0 * d0 + d1 * d1 - h[k];
        z[count++] = v;
        if (v < min) min = v;
      }
    }
    const st = ((globalThis as any).STATS ??= { q: 0, kept: 0, cells: 0 });
    st.q++; st.kept += count; st.cells += cells;
    let s = 0;
    for (let k = 0; k < count; k++) {
      const d = z[k] - min;
      if (d < cut) s += Math.exp(-d * inv);
    }
    out[i] = min - eps * (Math.log(s) - logN);
  }
}
