// Noise prediction (DDPM-style denoising score matching) for any affine path; samples with the
// probability-flow ODE velocity derived from the predicted noise and the path's schedule.
import { defineLoss, type Path, type Schedule, tf, velocityFromEpsilon } from "../../core/mod.ts";

function scheduleOf(path: Path): Schedule {
  if (!path.schedule) {
    throw new Error(
      `loss "eps" needs an affine path with a schedule; path "${path.name}" has none`,
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
