// guided-diffusion's sinusoidal timestep embedding, applied to flow-matching times t in [0, 1].
import { type Tensor, tf } from "../../../core/mod.ts";

/**
 * Embed times t [B] as [B, dim]: [cos(t f_0..f_{h-1}), sin(t f_0..f_{h-1})] with h = floor(dim /
 * 2), f_i = exp(-ln(10000) i / h) (computed in float32 as PyTorch does), and a zero column when
 * dim is odd. t is used as given (TorchCFM feeds t in [0, 1], unscaled).
 * @example
 * timestepEmbedding(tf.tensor1d([0]), 4); // [[1, 1, 0, 0]]
 */
export function timestepEmbedding(t: Tensor, dim: number): Tensor {
  const half = Math.floor(dim / 2);
  const freqs = new Float32Array(half);
  const a = Math.fround(-Math.log(10000));
  for (let i = 0; i < half; i++) freqs[i] = Math.exp(Math.fround(Math.fround(a * i) / half));
  return tf.tidy(() => {
    const args = tf.mul(t.reshape([-1, 1]), tf.tensor2d(freqs, [1, half]));
    const parts = [tf.cos(args), tf.sin(args)];
    if (dim % 2) parts.push(tf.zeros([t.shape[0], 1]));
    return tf.concat(parts, 1);
  });
}
