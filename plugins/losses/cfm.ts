// Conditional flow matching: regress the network on the conditional velocity u_t(x_t | x0, x1).
import { defineLoss, tf } from "../../core/mod.ts";

export default defineLoss({
  name: "cfm",
  description: "Velocity regression: E || v(x_t, t) - u_t(x_t | x0, x1) ||^2",
  predicts: "velocity",
  loss(model, path, { x0, x1, t }) {
    return tf.tidy(() => {
      const { xt, ut } = path.sample(x0, x1, t);
      return tf.mean(tf.square(tf.sub(model.apply(xt, t, true), ut))) as tf.Scalar;
    });
  },
  velocity(model) {
    return (x, t) => tf.tidy(() => model.apply(x, tf.fill([x.shape[0]], t) as tf.Tensor1D));
  },
});
