// The exact probability-flow field of Gaussian data N(m, s^2) on an affine path, as a tensor
// velocity field, with its closed-form solution: the analytic problem for sampler convergence.
import { tf } from "../core/tf.ts";
import type { Path, Schedule, SolveOptions, Solver, VelocityField } from "../core/types.ts";
import { countNfe } from "../core/solve/nfe.ts";

/** Gaussian data N(m, s^2 I) under a path with source N(0, std^2 I). */
export interface GaussianFlow {
  f: VelocityField;
  /** The exact state at t1 of the trajectory through x at t0 (per element). */
  exact(x: number[], t0: number, t1: number): number[];
}

/**
 * The marginal velocity u = a' m + (d/dt log S_t)(x - a m), S_t^2 = a^2 s^2 + sg^2 std^2, and its
 * flow x(t1) = a(t1) m + (S_t1 / S_t0)(x(t0) - a(t0) m).
 * @example
 * const { f, exact } = gaussianFlow(ve.schedule!, { m: 1.5, s: 0.5, std: 10 });
 */
export function gaussianFlow(
  sch: Schedule,
  { m, s, std }: { m: number; s: number; std: number },
): GaussianFlow {
  const S2 = (t: number) => sch.alpha(t) ** 2 * s * s + sch.sigma(t) ** 2 * std * std;
  return {
    f: (x, t) =>
      tf.tidy(() => {
        const a = sch.alpha(t), da = sch.dAlpha(t);
        const k = (da * a * s * s + sch.dSigma(t) * sch.sigma(t) * std * std) / S2(t);
        return tf.add(tf.mul(tf.sub(x, a * m), k), da * m);
      }),
    exact: (x, t0, t1) =>
      x.map((v) => sch.alpha(t1) * m + Math.sqrt(S2(t1) / S2(t0)) * (v - sch.alpha(t0) * m)),
  };
}

/**
 * The least-squares slope of log(error) against log(1 / steps): the measured order.
 * @example
 * convergenceSlope([8, 16], [1e-2, 2.5e-3]); // 2
 */
export function convergenceSlope(steps: number[], errors: number[]): number {
  const xs = steps.map((n) => -Math.log(n)), ys = errors.map((e) => Math.log(e));
  const mx = xs.reduce((a, b) => a + b) / xs.length, my = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0, den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i] - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

/**
 * A sampler's error on an analytic field: `solver` in `steps` steps on the exact flow of the data
 * N(1.5, 0.5^2) on `path`, from four points of the source; the largest |error| at the path's end
 * and the velocity evaluations it made.
 * @example
 * const { error, nfe } = await endError({ path: condOt, solver: dpm, steps: 16 });
 */
export async function endError(o: {
  path: Path;
  solver: Solver;
  steps: number;
  extra?: Partial<SolveOptions>;
}): Promise<{ error: number; nfe: number }> {
  const { path, solver } = o;
  const std = path.sourceStd, [t0, t1] = path.tRange;
  const flow = gaussianFlow(path.schedule!, { m: 1.5, s: 0.5, std });
  const start = [-2, -0.5, 0.3, 1.7].map((z) => z * std);
  const exact = flow.exact(start, t0, t1);
  const counted = countNfe(flow.f);
  const x0 = tf.tensor2d(start, [4, 1]);
  try {
    const { x } = await solver.integrate(counted.f, x0, {
      t0,
      t1,
      steps: o.steps,
      schedule: path.schedule,
      sourceStd: std,
      ...o.extra,
    });
    const got = await x.data();
    x.dispose();
    return { error: Math.max(...exact.map((e, i) => Math.abs(e - got[i]))), nfe: counted.count() };
  } finally {
    x0.dispose();
  }
}
