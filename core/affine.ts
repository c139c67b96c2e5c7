// Generic affine-path machinery: from alpha, sigma and their derivatives derive sampling, the
// conditional velocity, and the conversions between velocity, epsilon (x0) and score predictions.
import { type Tensor, type Tensor1D, tf } from "./tf.ts";
import type { PathSample, Schedule } from "./types.ts";

/** Per-example coefficient column broadcastable against a batch of the given rank. */
export function coeff(values: Float32Array | number[], rank: number): Tensor {
  const shape = [values.length, ...Array(rank - 1).fill(1)];
  return tf.tensor(values instanceof Float32Array ? values : Float32Array.from(values), shape);
}

function evalAt(fn: (t: number) => number, ts: Float32Array): Float32Array {
  const out = new Float32Array(ts.length);
  for (let i = 0; i < ts.length; i++) out[i] = fn(ts[i]);
  return out;
}

/**
 * Sample x_t = alpha x1 + sigma x0 and u_t = alpha' x1 + sigma' x0 at per-example times t.
 * @example
 * const s = affineSample(schedule, x0, x1, tf.tensor1d([0.5]));
 */
export function affineSample(s: Schedule, x0: Tensor, x1: Tensor, t: Tensor1D): PathSample {
  const ts = t.dataSync() as Float32Array;
  const r = x1.rank;
  return tf.tidy(() => {
    const a = coeff(evalAt((u) => s.alpha(u), ts), r);
    const sg = coeff(evalAt((u) => s.sigma(u), ts), r);
    const da = coeff(evalAt((u) => s.dAlpha(u), ts), r);
    const ds = coeff(evalAt((u) => s.dSigma(u), ts), r);
    return {
      xt: tf.add(tf.mul(a, x1), tf.mul(sg, x0)),
      ut: tf.add(tf.mul(da, x1), tf.mul(ds, x0)),
    };
  });
}

/** Smallest |alpha| used when dividing by it (the eps -> velocity map is singular at alpha = 0). */
export const ALPHA_FLOOR = 1e-4;

/**
 * Velocity from a predicted source sample x0_hat (epsilon scaled by the source std): with
 * x1_hat = (x_t - sigma x0_hat) / alpha, u = alpha' x1_hat + sigma' x0_hat. The residual
 * x_t - sigma x0_hat is formed first (its rounding is that of O(1) values), then scaled. The gain
 * on an error in x0_hat is sigma' - alpha' sigma / alpha: on the VP path 0.5 beta_max = 10.05 at
 * t = 0 (alpha = e^-5 there, never 0) and -50 at t = 1 - 1e-5 (the path's own sigma'); on a path
 * with alpha(0) = 0 it is unbounded at t = 0, which the eps loss refuses (see epsilonGain).
 * @example
 * const v = velocityFromEpsilon(path.schedule!, xt, x0Hat, 0.5);
 */
export function velocityFromEpsilon(s: Schedule, xt: Tensor, x0Hat: Tensor, t: number): Tensor {
  const a = Math.max(s.alpha(t), ALPHA_FLOOR);
  const da = s.dAlpha(t), sg = s.sigma(t), ds = s.dSigma(t);
  return tf.tidy(() => tf.add(tf.mul(tf.sub(xt, tf.mul(x0Hat, sg)), da / a), tf.mul(x0Hat, ds)));
}

/**
 * How much the velocity from velocityFromEpsilon moves per unit error in x0_hat at time t:
 * |sigma' - alpha' sigma / alpha| (Infinity where alpha = 0).
 * @example
 * epsilonGain(vp.schedule!, 0); // 10.05
 */
export function epsilonGain(s: Schedule, t: number): number {
  const a = s.alpha(t);
  if (!(a > 0)) return Infinity;
  return Math.abs(s.dSigma(t) - (s.dAlpha(t) * s.sigma(t)) / a);
}

/** Inverse map: the x0 (epsilon-scaled) prediction implied by a velocity at (x_t, t). */
export function epsilonFromVelocity(s: Schedule, xt: Tensor, v: Tensor, t: number): Tensor {
  const a = s.alpha(t), da = s.dAlpha(t), sg = s.sigma(t), ds = s.dSigma(t);
  // v = (da/a) xt + (ds - da sg / a) x0  =>  x0 = (v - (da/a) xt) / (ds - da sg / a)
  const denom = ds - (da * sg) / a;
  return tf.tidy(() => tf.div(tf.sub(v, tf.mul(xt, da / a)), denom));
}

/** Score of p_t from an x0 prediction: grad log p_t(x) = -x0_hat / (sigma * std^2). */
export function scoreFromEpsilon(
  s: Schedule,
  x0Hat: Tensor,
  t: number,
  sourceStd: number,
): Tensor {
  const sg = s.sigma(t);
  return tf.tidy(() => tf.mul(x0Hat, -1 / (sg * sourceStd * sourceStd)));
}
