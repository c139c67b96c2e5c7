// The tiny U-Net's loss and every variable's gradient, for comparing backends and kernels.
import { tf } from "../../core/tf.ts";
import unet from "../../plugins/models/unet.ts";
import { randomArray } from "./random.ts";

/**
 * Loss and gradients of the tiny U-Net (16x16x3, seeded weights, every weight perturbed so the
 * zero-initialised layers pass gradient everywhere) on a fixed batch of 2, on the active backend.
 * @example
 * tf.setBackend("cpu");
 * const { loss, grads } = tinyUnetGrads(); // grads[i] belongs to model.variables()[i]
 */
export function tinyUnetGrads(): { loss: number; grads: Float32Array[] } {
  const m = unet.create({ shape: [16, 16, 3], preset: "tiny", seed: 3 });
  m.variables().forEach((v, i) => {
    v.assign(tf.tidy(() => tf.add(v, tf.tensor(randomArray(v.size, 100 + i), v.shape))));
  });
  const out = tf.tidy(() => {
    const x = tf.tensor(randomArray(2 * 16 * 16 * 3, 1), [2, 16, 16, 3]);
    const target = tf.tensor(randomArray(2 * 16 * 16 * 3, 2), [2, 16, 16, 3]);
    const t = tf.tensor1d([0.3, 0.8]);
    const loss = () => tf.mean(tf.square(tf.sub(m.apply(x, t), target))) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, m.variables());
    return {
      loss: value.dataSync()[0],
      grads: m.variables().map((v) => grads[v.name].dataSync() as Float32Array),
    };
  });
  m.dispose();
  return out;
}
