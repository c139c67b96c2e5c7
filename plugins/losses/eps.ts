// Noise prediction (DDPM-style denoising score matching) for any affine path; samples with the
// probability-flow ODE velocity derived from the predicted noise and the path's schedule.
import {
  defineLoss,
  epsilonGain,
  type Path,
  type Schedule,
  tf,
  velocityFromEpsilon,
} from "../../core/mod.ts";

/**
 * The largest gain from an epsilon error to the velocity accepted at the start of the time range.
 * The VP path has 10.05 there; a path starting at alpha = 0 has no bound (the conversion divides
 * by alpha), so sampling it from an epsilon model would amplify its error without limit.
 * @example
 * epsilonGain(path.schedule!, path.tRange[0]) <= MAX_START_GAIN; // true for the VP path (10.05)
 */
export const MAX_START_GAIN = 1000;

function scheduleOf(path: Path): Schedule {
  if (!path.schedule) {
    throw new Error(
      `loss "eps" needs an affine path with a schedule; path "${path.name}" has none`,
    );
  }
  const t0 = path.tRange[0], gain = epsilonGain(path.schedule, t0);
  if (!(gain <= MAX_START_GAIN)) {
    throw new Error(
      `loss "eps" cannot sample path "${path.name}": alpha(${t0}) = ${path.schedule.alpha(t0)}, ` +
        `so the epsilon-to-velocity conversion divides by ~0 (gain ${gain.toPrecision(3)} > ` +
        `${MAX_START_GAIN}); use a path whose time range starts at alpha > 0, like vp-diffusion ` +
        `(alpha(0) = 6.6e-3, gain 10), or the cfm loss`,
    );
  }
  return path.schedule;
}

export default defineLoss({
  name: "eps",
  description: "Noise prediction: E || eps(x_t, t) - x0 / std ||^2; sampled through the " +
    "probability-flow ODE velocity implied by eps and the schedule",
  predicts: "epsilon",
  loss(model, path, { x0, x1, t }) {
    scheduleOf(path);
    return tf.tidy(() => {
      const { xt } = path.sample(x0, x1, t);
      const target = tf.div(x0, path.sourceStd);
      return tf.mean(tf.square(tf.sub(model.apply(xt, t, true), target))) as tf.Scalar;
    });
  },
  velocity(model, path) {
    const s = scheduleOf(path);
    return (x, t) =>
      tf.tidy(() => {
        const eps = model.apply(x, tf.fill([x.shape[0]], t) as tf.Tensor1D);
        return velocityFromEpsilon(s, x, tf.mul(eps, path.sourceStd), t);
      });
  },
});
