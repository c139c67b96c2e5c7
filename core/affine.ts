// Generic affine-path machinery: from alpha, sigma and their derivatives derive sampling, the
// conditional velocity, and the conversions between velocity, epsilon (x0) and score predictions.
import { type Tensor, type Tensor1D, tf } from "./tf.ts";
import type { PathSample, Schedule } from "./types.ts";

/**
 * Per-example coefficient column broadcastable against a batch of the given rank.
 * @example
 * coeff([0.1, 0.9], 4).shape; // [2, 1, 1, 1]
 */
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

/**
 * Smallest |alpha| used when dividing by it (the eps -> velocity map is singular at alpha = 0).
 * @example
 * const a = Math.max(s.alpha(t), ALPHA_FLOOR); // 1e-4 where alpha(t) = 0
 */
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

/**
 * Inverse map: the x0 (epsilon-scaled) prediction implied by a velocity at (x_t, t).
 * @example
 * const x0Hat = epsilonFromVelocity(path.schedule!, xt, v, 0.5);
 */
export function epsilonFromVelocity(s: Schedule, xt: Tensor, v: Tensor, t: number): Tensor {
  const a = s.alpha(t), da = s.dAlpha(t), sg = s.sigma(t), ds = s.dSigma(t);
  // v = (da/a) xt + (ds - da sg / a) x0  =>  x0 = (v - (da/a) xt) / (ds - da sg / a)
  const denom = ds - (da * sg) / a;
  return tf.tidy(() => tf.div(tf.sub(v, tf.mul(xt, da / a)), denom));
}

/**
 * The determinant alpha sigma' - sigma alpha' of the map (x1, x0) -> (x_t, u_t) at time t. The
 * data and noise predictions are defined from a velocity wherever it is finite and nonzero: it is
 * -alpha sigma d/dt log(alpha / sigma), nonzero wherever the signal-to-noise ratio moves, at
 * alpha = 0 (cond-ot's t = 0: -1) and sigma = 0 (linear's t = 1: -1) too.
 * @example
 * velocityDeterminant(linear.schedule!, 0); // -1
 */
export function velocityDeterminant(s: Schedule, t: number): number {
  return s.alpha(t) * s.dSigma(t) - s.sigma(t) * s.dAlpha(t);
}

/**
 * The data prediction x1_hat implied by a velocity at (x_t, t): solving x_t = alpha x1 + sigma x0
 * and v = alpha' x1 + sigma' x0 for x1 gives x1_hat = (sigma' x_t - sigma v) / det, det =
 * velocityDeterminant (no division by alpha: defined at alpha = 0). The caller checks det != 0.
 * @example
 * const x1Hat = dataFromVelocity(path.schedule!, xt, v, 0.5);
 */
export function dataFromVelocity(s: Schedule, xt: Tensor, v: Tensor, t: number): Tensor {
  const det = velocityDeterminant(s, t);
  return tf.tidy(() => tf.sub(tf.mul(xt, s.dSigma(t) / det), tf.mul(v, s.sigma(t) / det)));
}

/**
 * The noise (source sample) prediction x0_hat implied by a velocity at (x_t, t): x0_hat =
 * (alpha v - alpha' x_t) / det (velocityDeterminant), defined at alpha = 0 and sigma = 0 alike.
 * Unlike epsilonFromVelocity it does not divide by alpha, and unlike (x_t - alpha x1_hat) / sigma
 * it does not cancel two nearly equal terms at low noise. The caller checks det != 0.
 * @example
 * const x0Hat = noiseFromVelocity(path.schedule!, xt, v, 0.5); // x0 scale: divide by std for eps
 */
export function noiseFromVelocity(s: Schedule, xt: Tensor, v: Tensor, t: number): Tensor {
  const det = velocityDeterminant(s, t);
  return tf.tidy(() => tf.sub(tf.mul(v, s.alpha(t) / det), tf.mul(xt, s.dAlpha(t) / det)));
}

/**
 * Score of p_t from an x0 prediction: grad log p_t(x) = -x0_hat / (sigma * std^2).
 * @example
 * const score = scoreFromEpsilon(path.schedule!, x0Hat, 0.5, path.sourceStd);
 */
export function scoreFromEpsilon(
  s: Schedule,
  x0Hat: Tensor,
  t: number,
  sourceStd: number,
): Tensor {
  const sg = s.sigma(t);
  return tf.tidy(() => tf.mul(x0Hat, -1 / (sg * sourceStd * sourceStd)));
}

/**
 * g(t)^2, the squared diffusion coefficient of the forward SDE whose marginals are this path's,
 * derived from the schedule alone.
 *
 * Derivation (time runs from noise at t = 0 to data at t = 1, as in Lipman et al. eq. 19, so the
 * forward "noising" SDE runs in diffusion time s = 1 - t). Write the perturbation kernel in s as
 * x_s = a(s) x1 + b(s) eps with a(s) = alpha(1 - s) and b(s) = std sigma(1 - s). A linear SDE
 * dx = f(s) x ds + g(s) dW has mean factor a' = f a and variance ODE (b^2)' = 2 f b^2 + g^2, so
 *
 *   f(s) = d/ds log a(s),        g(s)^2 = d/ds b(s)^2 - 2 f(s) b(s)^2.
 *
 * With d/ds = -d/dt: f = -alpha'/alpha and d/ds b^2 = -2 std^2 sigma sigma', hence
 *
 *   g(t)^2 = 2 std^2 (sigma^2 alpha'/alpha - sigma sigma').
 *
 * For the VP path alpha' = alpha beta(1-t)/2 and sigma sigma' = -alpha alpha', so g^2 = beta(1-t):
 * the beta of the VP SDE at diffusion time 1 - t, as it must be. alpha is floored at ALPHA_FLOOR
 * (g^2 is singular where alpha = 0, e.g. cond-ot at t = 0).
 * @example
 * diffusionSquared(vp.schedule, 0.5, 1); // beta(0.5) = 0.1 + 0.5 * 19.9 = 10.05
 */
export function diffusionSquared(s: Schedule, t: number, sourceStd: number): number {
  const a = Math.max(s.alpha(t), ALPHA_FLOOR), sg = s.sigma(t);
  return 2 * sourceStd * sourceStd * (sg * sg * s.dAlpha(t) / a - sg * s.dSigma(t));
}

/**
 * The probability-flow ODE velocity from a score: in diffusion time the PF ODE is
 * dx/ds = f x - g^2/2 grad log p; in path time t = 1 - s (see diffusionSquared) this is
 *
 *   u(x, t) = (alpha'/alpha) x + (g(t)^2 / 2) grad log p_t(x).
 *
 * It agrees with velocityFromEpsilon under x0_hat = -sigma std^2 score (scoreFromEpsilon).
 * @example
 * const v = velocityFromScore(schedule, x, score, 0.5, 1);
 */
export function velocityFromScore(
  s: Schedule,
  xt: Tensor,
  score: Tensor,
  t: number,
  sourceStd: number,
): Tensor {
  const a = Math.max(s.alpha(t), ALPHA_FLOOR);
  const half = diffusionSquared(s, t, sourceStd) / 2;
  return tf.tidy(() => tf.add(tf.mul(xt, s.dAlpha(t) / a), tf.mul(score, half)));
}

/**
 * Inverse of velocityFromScore: the score implied by a velocity at (x_t, t),
 * grad log p = (u - (alpha'/alpha) x) / (g^2 / 2).
 * @example
 * const score = scoreFromVelocity(schedule, x, v, 0.5, 1);
 */
export function scoreFromVelocity(
  s: Schedule,
  xt: Tensor,
  v: Tensor,
  t: number,
  sourceStd: number,
): Tensor {
  const a = Math.max(s.alpha(t), ALPHA_FLOOR);
  const half = diffusionSquared(s, t, sourceStd) / 2;
  return tf.tidy(() => tf.div(tf.sub(v, tf.mul(xt, s.dAlpha(t) / a)), half));
}
