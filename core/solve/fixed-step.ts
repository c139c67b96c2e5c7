// Shared explicit Runge-Kutta machinery: Butcher tableaux, one RK step, and the fixed-grid loop.
import { defineSolver } from "../define.ts";
import { type Tensor, tf } from "../tf.ts";
import type { SolveOptions, Solver, SolveResult, VelocityField } from "../types.ts";
import { SolverError } from "./errors.ts";
import { timeGrid } from "./time-grid.ts";

/** An explicit Butcher tableau: nodes c, lower-triangular stage weights a, output weights b. */
export interface Tableau {
  c: number[];
  /** a[j] has j entries: the weights of stages 0..j-1 in stage j's input. */
  a: number[][];
  b: number[];
}

/**
 * x + h * sum_j w[j] * ks[j] as a new tensor (zero weights are skipped).
 * @example
 * const y = combine(x, 0.1, [0.5, 0.5], [k1, k2]);
 */
export function combine(x: Tensor, h: number, w: number[], ks: Tensor[]): Tensor {
  return tf.tidy(() => {
    const terms: Tensor[] = [];
    for (let j = 0; j < w.length; j++) if (w[j] !== 0) terms.push(tf.mul(ks[j], h * w[j]));
    if (terms.length === 0) return tf.clone(x);
    return tf.add(x, terms.length === 1 ? terms[0] : tf.addN(terms));
  });
}

/**
 * The stage derivatives k_j = f(x + h sum_l a[j][l] k_l, t + c[j] h) of one explicit RK step.
 * `k0`, when given, is reused as the first stage (FSAL) and stays owned by the caller; the
 * other returned stages are new tensors the caller must dispose.
 * @example
 * const ks = rkStages(f, x, 0, 0.1, { c: [0, 0.5], a: [[], [0.5]], b: [0, 1] });
 * const y = combine(x, 0.1, [0, 1], ks); // the midpoint step; dispose ks after
 */
export function rkStages(
  f: VelocityField,
  x: Tensor,
  t: number,
  h: number,
  tab: Tableau,
  k0?: Tensor,
): Tensor[] {
  const ks: Tensor[] = [];
  try {
    for (let j = 0; j < tab.c.length; j++) {
      if (j === 0 && k0) {
        ks.push(k0);
        continue;
      }
      const aj = tab.a[j] ?? [];
      if (aj.every((w) => w === 0)) {
        ks.push(f(x, t + tab.c[j] * h));
        continue;
      }
      const xj = combine(x, h, aj, ks);
      try {
        ks.push(f(xj, t + tab.c[j] * h));
      } finally {
        xj.dispose();
      }
    }
  } catch (e) {
    for (const k of ks) if (k !== k0) k.dispose();
    throw e;
  }
  return ks;
}

/**
 * One explicit RK step from (x, t) with step h; returns the new state (x is kept).
 * @example
 * const y = rkStep(f, x, 0, 0.25, { c: [0], a: [[]], b: [1] }); // x + 0.25 f(x, 0)
 */
export function rkStep(f: VelocityField, x: Tensor, t: number, h: number, tab: Tableau): Tensor {
  const ks = rkStages(f, x, t, h, tab);
  try {
    return combine(x, h, tab.b, ks);
  } finally {
    for (const k of ks) k.dispose();
  }
}

/**
 * The time grid a fixed-step solve uses: `opts.grid` (checked: monotone, from t0 to t1) or
 * `timeGrid(opts.gridKind ?? "uniform", opts.steps, t0, t1)`.
 * @example
 * resolveGrid("euler", { t0: 0, t1: 1, steps: 4 }); // [0, 0.25, 0.5, 0.75, 1]
 */
export function resolveGrid(solver: string, opts: SolveOptions): number[] {
  const { t0, t1 } = opts;
  if (!Number.isFinite(t0) || !Number.isFinite(t1)) {
    throw new Error(`${solver}: t0 and t1 must be finite, got t0=${t0}, t1=${t1}`);
  }
  if (opts.grid !== undefined) {
    const g = opts.grid;
    if (!Array.isArray(g) || g.length < 2) {
      throw new Error(`${solver}: grid must be an array of at least 2 times from t0 to t1`);
    }
    const tol = 1e-9 * Math.max(1, Math.abs(t0), Math.abs(t1));
    if (Math.abs(g[0] - t0) > tol || Math.abs(g[g.length - 1] - t1) > tol) {
      throw new Error(
        `${solver}: grid must run from t0=${t0} to t1=${t1}, got ${g[0]} .. ${g[g.length - 1]}`,
      );
    }
    const dir = Math.sign(t1 - t0);
    for (let i = 1; i < g.length; i++) {
      if (!(Number.isFinite(g[i]) && (g[i] - g[i - 1]) * dir > 0)) {
        throw new Error(
          `${solver}: grid must be strictly ${dir > 0 ? "increasing" : "decreasing"}; ` +
            `bad value ${g[i]} at index ${i}`,
        );
      }
    }
    return g;
  }
  if (opts.steps === undefined) {
    throw new Error(`${solver}: fixed-step solvers need opts.steps (a positive integer) or grid`);
  }
  return timeGrid(opts.gridKind ?? "uniform", opts.steps, t0, t1, opts.rho);
}

/**
 * Throw SolverError if x holds NaN or Inf (one scalar read from the device).
 * @example
 * await assertFinite("euler", x, 0.5, 0.125); // throws SolverError if x holds NaN or Inf
 */
export async function assertFinite(solver: string, x: Tensor, t: number, h: number) {
  const ok = tf.tidy(() => tf.all(tf.isFinite(x)));
  const v = (await ok.data())[0];
  ok.dispose();
  if (!v) throw new SolverError(solver, "state became NaN/Inf", t, h);
}

/**
 * Integrate dx/dt = f(x, t) over a fixed grid with an explicit RK tableau. Works on any tensor
 * shape and in either time direction; x0 is left untouched and the result is a new tensor.
 * The final state is checked once for NaN/Inf (SolverError).
 * @example
 * const { x } = await integrateFixed("euler", { c: [0], a: [[]], b: [1] }, f, x0, {
 *   t0: 0, t1: 1, steps: 8,
 * });
 */
export async function integrateFixed(
  solver: string,
  tab: Tableau,
  f: VelocityField,
  x0: Tensor,
  opts: SolveOptions,
): Promise<SolveResult> {
  if (opts.t0 === opts.t1 && opts.grid === undefined) return { x: tf.clone(x0) };
  const grid = resolveGrid(solver, opts);
  let x = x0;
  try {
    for (let i = 0; i + 1 < grid.length; i++) {
      const next = rkStep(f, x, grid[i], grid[i + 1] - grid[i], tab);
      if (x !== x0) x.dispose();
      x = next;
    }
    const n = grid.length - 1;
    await assertFinite(solver, x, grid[n], grid[n] - grid[n - 1]);
  } catch (e) {
    if (x !== x0) x.dispose();
    throw e;
  }
  return { x, stats: { accepted: grid.length - 1, rejected: 0 } };
}

/** What a fixed-step solver plugin states about itself: everything but how it integrates. */
export interface FixedStepSolverInput {
  name: string;
  description: string;
  /** Convergence order of the method. */
  order: number;
  tableau: Tableau;
}

/**
 * A fixed-step solver plugin from its Butcher tableau: one velocity evaluation per stage, on the
 * grid built from `steps` (and `gridKind`) or given as `grid`.
 * @example
 * export default fixedStepSolver({
 *   name: "euler", description: "Explicit Euler", order: 1,
 *   tableau: { c: [0], a: [[]], b: [1] },
 * });
 */
export function fixedStepSolver(s: FixedStepSolverInput): Solver {
  const { tableau, ...meta } = s;
  return defineSolver({
    ...meta,
    adaptive: false,
    evalsPerStep: tableau.c.length,
    integrate: (f, x0, opts) => integrateFixed(s.name, tableau, f, x0, opts),
  });
}
