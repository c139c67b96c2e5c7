// Adaptive Dormand-Prince 5(4) with FSAL, error-norm step control and Hairer's initial step.
import {
  defineSolver,
  type SolveOptions,
  SolverError,
  type SolveResult,
  type Tensor,
  tf,
  type VelocityField,
} from "../../core/mod.ts";
import { checkOptions, startNorms, trialStep } from "./_dopri5.ts";

const NAME = "dopri5";

/** dopri5 options: SolveOptions plus step-control knobs (all optional). */
export type Dopri5Options = SolveOptions & {
  /** Safety factor on the optimal step (default 0.9). */
  safety?: number;
  /** Bounds on the step-size change factor per step (defaults 0.2 and 10). */
  minFactor?: number;
  maxFactor?: number;
  /** First step size; chosen by Hairer's algorithm when absent. */
  firstStep?: number;
};

/** 5th minus embedded 4th-order weights over the seven stages: the local error estimate. */
const E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];
const ORDER = 5;

/** Hairer, Norsett & Wanner's starting step (Solving ODEs I, II.4), clamped to the span. */
async function initialStep(
  f: VelocityField,
  y0: Tensor,
  f0: Tensor,
  t0: number,
  span: number,
  dir: number,
  rtol: number,
  atol: number,
): Promise<number> {
  const { h0, d1, d2 } = await startNorms(NAME, f, y0, f0, t0, dir, rtol, atol, span);
  const m = Math.max(d1, d2);
  let h1: number;
  if (!Number.isFinite(d2)) h1 = h0;
  else if (m <= 1e-15) h1 = Math.max(1e-6, h0 * 1e-3);
  else h1 = Math.pow(0.01 / m, 1 / ORDER);
  return Math.min(100 * h0, h1, span);
}

/**
 * Integrate with Dormand-Prince 5(4). The error of each trial step is the RMS over all elements
 * of err / (atol + rtol max(|y|, |y_new|)), reduced on the device (one scalar read per step);
 * steps with norm <= 1 are accepted. A trial whose state or velocity is NaN/Inf is rejected with the smallest factor.
 */
async function integrate(
  f: VelocityField,
  x0: Tensor,
  opts: Dopri5Options,
): Promise<SolveResult> {
  const { t0, t1 } = opts;
  const { rtol, atol, maxSteps } = checkOptions(NAME, opts);
  const safety = opts.safety ?? 0.9, minF = opts.minFactor ?? 0.2, maxF = opts.maxFactor ?? 10;
  if (t0 === t1) return { x: tf.clone(x0), stats: { accepted: 0, rejected: 0 } };

  const dir = Math.sign(t1 - t0), span = Math.abs(t1 - t0);
  let y = tf.clone(x0);
  let k1: Tensor | null = null;
  let t = t0, accepted = 0, rejected = 0, lastRejected = false, lastNonFinite = false;
  try {
    k1 = f(y, t0);
    let h = opts.firstStep ?? await initialStep(f, y, k1, t0, span, dir, rtol, atol);
    while (dir * (t1 - t) > 0) {
      if (accepted + rejected >= maxSteps) {
        throw new SolverError(
          NAME,
          `exceeded maxSteps=${maxSteps} (${accepted} accepted, ${rejected} rejected)`,
          t,
          dir * h,
        );
      }
      if (!(h > 8 * Number.EPSILON * Math.max(Math.abs(t), Math.abs(t1), 1e-300))) {
        const why = lastNonFinite ? "; the state or velocity became NaN/Inf" : "";
        throw new SolverError(NAME, `step size underflow${why}`, t, dir * h);
      }
      let hs = dir * h, last = false;
      if (dir * (t + hs - t1) >= -1e-10 * h) {
        hs = t1 - t;
        last = true;
      }
      const { ks, yNew, norm } = await trialStep(f, y, t, hs, k1, E, rtol, atol);
      const k7 = ks[6];
      for (let j = 1; j < 6; j++) ks[j].dispose();
      if (norm <= 1) {
        t = last ? t1 : t + hs;
        y.dispose();
        k1.dispose();
        y = yNew;
        k1 = k7;
        accepted++;
        let factor = norm === 0 ? maxF : Math.min(maxF, safety * Math.pow(norm, -1 / ORDER));
        if (lastRejected) factor = Math.min(1, factor);
        h = Math.abs(hs) * Math.max(factor, minF);
        lastRejected = lastNonFinite = false;
      } else {
        yNew.dispose();
        k7.dispose();
        rejected++;
        lastNonFinite = !Number.isFinite(norm);
        const factor = lastNonFinite ? minF : Math.max(minF, safety * Math.pow(norm, -1 / ORDER));
        h = Math.abs(hs) * factor;
        lastRejected = true;
      }
    }
  } catch (e) {
    y.dispose();
    k1?.dispose();
    throw e;
  }
  k1?.dispose();
  return { x: y, stats: { accepted, rejected } };
}

export default defineSolver({
  name: NAME,
  description: "Dormand-Prince 5(4), adaptive with FSAL; rtol/atol default 1e-5; 6 NFE per step",
  order: 5,
  adaptive: true,
  integrate: (f, x0, opts) => integrate(f, x0, opts as Dopri5Options),
});
