// The truncated Gibbs kernel K_ij = exp((u0_i + v0_j - |x_i - y_j|^2) / eps) between two 2-D
// point clouds around base potentials (u0, v0): Sinkhorn half-steps as sparse products instead of
// log-sum-exps, valid while the potentials' drift from the base spans at most 2 DRIFT epsilons.
import type { PointCells } from "./point-cells.ts";
import { softminCells, type SoftminScratch } from "./softmin.ts";
import {
  multiply,
  multiplyTransposed,
  type SparseRows,
  SparseRowsBuilder,
} from "./sparse-kernel.ts";

/**
 * The kernel is rebuilt once the drift d = h - base of the potentials spans more than 2 DRIFT
 * eps (max d - min d; a common shift changes no ratio): a term the kernel left out (at most e^-30
 * of its row's largest at the base) then weighs at most e^(2 DRIFT - 30) of its row's largest,
 * so the mass left out of a row (or, with rows of mass 1/n, of a column) is under 2e-7 of it
 * for 5,000 points.
 * @example
 * withinDrift(g, kernel.v0, eps); // false once g - v0 spans more than 2 DRIFT eps
 */
export const DRIFT = 3;

/** A kernel around base potentials, and the half-steps it computes. */
export interface GibbsKernel {
  K: SparseRows;
  /** Base potentials on the query (row) and source (column) points. */
  u0: Float64Array;
  v0: Float64Array;
  eps: number;
}

/** What buildKernel needs. */
export interface KernelSpec {
  /** Query (row) and source (column) clouds. */
  query: PointCells;
  source: PointCells;
  /** Source potential the kernel is built around. */
  v0: Float64Array;
  eps: number;
  /** Receives the row soft minimum of v0 (written even when no kernel is returned). */
  out: Float64Array;
  /** softminScratch(source). */
  scratch: SoftminScratch;
  /** Most terms the kernel may hold. */
  maxEntries: number;
  /** Row base potential (self transport: the same potential on both sides); default `out`. */
  u0?: Float64Array;
}

/**
 * Build the kernel around the source potential v0, keeping the terms within 30 eps of each row's
 * minimum; the row base is `u0`, else the row soft minimum of v0 (also written to `out`).
 * Returns undefined when it would hold more than maxEntries terms or a row scale overflows.
 * @example
 * const k = buildKernel({ query: A, source: B, v0: g, eps, out: f, scratch, maxEntries: 4e6 });
 */
export function buildKernel(spec: KernelSpec): GibbsKernel | undefined {
  const { query: q, source: s, v0, eps, out, scratch, maxEntries, u0 } = spec;
  const builder = new SparseRowsBuilder(s.n, maxEntries);
  softminCells(out, q, s, v0, eps, scratch, builder);
  if (builder.full) return undefined;
  const { K, rowValue } = builder.build();
  const base = u0 ? Float64Array.from(u0) : Float64Array.from(out);
  // Stored: exp((rowMin_i - |x_i - y_j|^2 + v0_j) / eps); the entry is that times
  // exp((u0_i - rowMin_i) / eps).
  const inv = 1 / eps;
  for (let i = 0; i < K.rows; i++) {
    const scale = Math.exp((base[i] - rowValue[i]) * inv);
    if (!(scale > 0 && scale < Infinity)) return undefined;
    for (let k = K.rowStart[i]; k < K.rowStart[i + 1]; k++) K.val[k] *= scale;
  }
  return { K, u0: base, v0: Float64Array.from(v0), eps };
}

/**
 * Whether the drift h - base spans at most 2 DRIFT eps (and is finite).
 * @example
 * withinDrift(Float64Array.of(5, 5.01), Float64Array.of(0, 0), 0.01); // true: a common shift
 */
export function withinDrift(h: Float64Array, base: Float64Array, eps: number): boolean {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < h.length; i++) {
    const d = h[i] - base[i];
    if (d < lo) lo = d;
    if (d > hi) hi = d;
  }
  return hi - lo <= 2 * DRIFT * eps;
}

/** x = exp((h - base - shift) / eps) with shift = max(h - base), so that x <= 1; returns shift. */
function scaledDrift(h: Float64Array, base: Float64Array, eps: number, x: Float64Array): number {
  let shift = -Infinity;
  for (let i = 0; i < h.length; i++) shift = Math.max(shift, h[i] - base[i]);
  for (let i = 0; i < h.length; i++) x[i] = Math.exp((h[i] - base[i] - shift) / eps);
  return shift;
}

/**
 * out_i = -eps log((1/ns) sum_j exp((v_j - |x_i - y_j|^2) / eps)) over the kernel's terms
 * (the row soft minimum of the source potential v). False when a row is empty or underflows:
 * the kernel no longer fits the potentials.
 * @example
 * if (!rowSoftmin(k, g, f)) rebuild();
 */
export function rowSoftmin(k: GibbsKernel, v: Float64Array, out: Float64Array): boolean {
  const { K, u0, v0, eps } = k;
  const x = new Float64Array(K.cols);
  const shift = scaledDrift(v, v0, eps, x);
  multiply(K, x, out);
  const logN = Math.log(K.cols);
  for (let i = 0; i < K.rows; i++) {
    const t = out[i];
    if (!(t > 1e-300 && t < Infinity)) return false;
    out[i] = u0[i] - shift - eps * (Math.log(t) - logN);
  }
  return true;
}

/**
 * out_j = -eps log((1/nq) sum_i exp((u_i - |x_i - y_j|^2) / eps)) over the kernel's terms (the
 * column soft minimum of the query potential u). False when a column is empty or underflows.
 * @example
 * if (!columnSoftmin(k, f, g)) rebuild();
 */
export function columnSoftmin(k: GibbsKernel, u: Float64Array, out: Float64Array): boolean {
  const { K, u0, v0, eps } = k;
  const x = new Float64Array(K.rows);
  const shift = scaledDrift(u, u0, eps, x);
  multiplyTransposed(K, x, out);
  const logN = Math.log(K.rows);
  for (let j = 0; j < K.cols; j++) {
    const t = out[j];
    if (!(t > 1e-300 && t < Infinity)) return false;
    out[j] = v0[j] - shift - eps * (Math.log(t) - logN);
  }
  return true;
}
