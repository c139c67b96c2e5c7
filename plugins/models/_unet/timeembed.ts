// Sinusoidal time embedding (Transformer / DDPM style) of per-example times.
import { type Tensor, tf } from "../../../core/mod.ts";

/**
 * Embed times t [B] as [B, dim]: [sin(s t f_0..f_{h-1}), cos(s t f_0..f_{h-1})] with h = dim / 2,
 * f_i = 10000^(-i / (h - 1)) and s = `scale` (1000 maps t in [0, 1] to DDPM's step range).
 * @example
 * timeEmbedding(tf.tensor1d([0, 0.5]), 8); // [2, 8]; row 0 is [0, 0, 0, 0, 1, 1, 1, 1]
 */
export function timeEmbedding(t: Tensor, dim: number, scale = 1000): Tensor {
  if (!Number.isInteger(dim) || dim < 4 || dim % 2 !== 0) {
    throw new Error(`unet: time embedding dim must be an even integer >= 4, got ${dim}`);
  }
  const half = dim / 2;
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = Math.exp((-Math.log(10000) * i) / (half - 1));
  return tf.tidy(() => {
    const args = tf.mul(tf.mul(t.reshape([-1, 1]), scale), tf.tensor2d(freqs, [1, half]));
    return tf.concat([tf.sin(args), tf.cos(args)], 1);
  });
}
