// The sampler parity cases: fmbench's side of bench/samplers_parity.ts and its fixture test (the
// toy MLP field from recorded weights, and one case solved by the plugin through the harness).
import { countNfe } from "../core/solve/nfe.ts";
import { type Tensor, tf } from "../core/tf.ts";
import type { Path, Solver, VelocityField } from "../core/types.ts";
import { solveOptions } from "../harness/evaluate.ts";
import type { SolverSetting } from "../harness/suites/types.ts";
import mlp from "../plugins/models/mlp.ts";

/** One layer of the MLP: w [in, out] and b [out], as plugins/models/mlp.ts multiplies them. */
export interface Layer {
  w: number[][];
  b: number[];
}

/** A parity case: which plugin and setting, which reference, and (in the fixture) its answer. */
export interface ParityCase {
  id: string;
  solver: string;
  path: string;
  setting: SolverSetting;
  seed?: number;
  /** The reference implementation, e.g. "LuChengTHU/dpm-solver dpm_solver_pytorch.py". */
  reference: string;
  steps: number;
  grid?: string;
  order?: number;
  churn?: { churn: number; sMin: number; sMax: number; sNoise: number };
  /** EDM's per-step standard normal draws (edm-stochastic), flattened. */
  noise?: number[][];
  /** The reference's model evaluations and final state (fixture only). */
  nfe?: number;
  x1?: number[][];
}

/**
 * The MLP preset `preset` with the given weights, as a velocity field (the cfm loss's).
 * @example
 * const { f, dispose } = mlpField(fixture.weights, "tiny");
 */
export function mlpField(layers: Layer[], preset: string): { f: VelocityField; dispose(): void } {
  const model = mlp.create({ shape: [2], preset, seed: 0 });
  const vars = model.variables();
  layers.forEach((l, i) => {
    vars[2 * i].assign(tf.tensor2d(l.w));
    vars[2 * i + 1].assign(tf.tensor1d(l.b));
  });
  return {
    f: (x, t) => tf.tidy(() => model.apply(x, tf.fill([x.shape[0]], t) as tf.Tensor1D)),
    dispose: () => model.dispose(),
  };
}

/**
 * Solve one case with its plugin as the harness does (solveOptions of the path and setting, the
 * case's seed), counting NFE by wrapping the field.
 * @example
 * const { x, nfe } = await solveCase(c, f);
 */
export async function solveCase(
  c: ParityCase,
  f: VelocityField,
  x0: Tensor,
): Promise<{ x: number[][]; nfe: number }> {
  const path = (await import(`../plugins/paths/${c.path}.ts`)).default as Path;
  const solver = (await import(`../plugins/solvers/${c.solver}.ts`)).default as Solver;
  const counted = countNfe(f);
  const opts = { ...solveOptions(path, c.setting), seed: c.seed ?? 0 };
  const { x } = await solver.integrate(counted.f, x0, opts);
  const out = await x.array() as number[][];
  x.dispose();
  return { x: out, nfe: counted.count() };
}

/**
 * The largest absolute difference between two states of the same shape.
 * @example
 * maxAbsDiff([[1, 2]], [[1, 2.5]]); // 0.5
 */
export function maxAbsDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}
