// The truncated Gibbs kernel K_ij = exp((u0_i + v0_j - |x_i - y_j|^2) / eps) between two 2-D
// point clouds around base potentials (u0, v0): Sinkhorn half-steps as sparse products instead of
// log-sum-exps, valid while the potentials stay within DRIFT epsilons of the base.
import type { PointCells } from "./point-cells.ts";
import { softminCells, type SoftminScratch } from "./softmin.ts";
import {
  multiply,
  multiplyTransposed,
  type SparseRows,
  SparseRowsBuilder,
} from "./sparse-kernel.ts";

/**
 * Largest drift |h - base| / eps of the potentials before the kernel must be rebuilt: a term the
 * kernel left out (at most e^-30 of its row's largest at the base) then weighs at most
 * e^(2 DRIFT - 30) of its row's largest, so the mass left out of a row (or, with rows of mass
 * 1/n, of a column) is under 2e-7 of it for 5,000 points.
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

/**
 * Build the kernel for queries q and sources s at eps around the source potential v0, keeping the
 * terms within 30 eps of each row's minimum. The row base u0 is `u0` when given (self transport:
 * the same potential on both sides), else the soft minimum of v0, which is also written to
 * `out`. Returns undefined when it would hold more than maxEntries terms (`out` is written
 * anyway).
 * @example
 * const k = buildKernel(A, B, g, eps, f, scratchB, 4e6); // f <- softmin of g; k: the kernel
 */
export function buildKernel(
  q: PointCells,
  s: PointCells,
  v0: Float64Array,
  eps: number,
  out: Float64Array,
  scratch: SoftminScratch,
  maxEntries: number,
  u0?: Float64Array,
): GibbsKernel | undefined {
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

/** Whether every |h_i - base_i| is within DRIFT eps. */
export function withinDrift(h: Float64Array, base: Float64Array, eps: number): boolean {
  const lim = DRIFT * eps;
  for (let i = 0; i < h.length; i++) if (!(Math.abs(h[i] - base[i]) <= lim)) return false;
  return true;
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
  for (let j = 0; j < K.cols; j++) x[j] = Math.exp((v[j] - v0[j]) / eps);
  multiply(K, x, out);
  const logN = Math.log(K.cols);
  for (let i = 0; i < K.rows; i++) {
    const t = out[i];
    if (!(t > 1e-300 && t < Infinity)) return false;
    out[i] = u0[i] - eps * (Math.log(t) - logN);
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
  for (let i = 0; i < K.rows; i++) x[i] = Math.exp((u[i] - u0[i]) / eps);
  multiplyTransposed(K, x, out);
  const logN = Math.log(K.rows);
  for (let j = 0; j < K.cols; j++) {
    const t = out[j];
    if (!(t > 1e-300 && t < Infinity)) return false;
    out[j] = v0[j] - eps * (Math.log(t) - logN);
  }
  return true;
}
