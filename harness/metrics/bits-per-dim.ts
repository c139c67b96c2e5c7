// Bits per dimension for 8-bit images: uniform dequantisation and the change of units.
import { rng } from "../../core/rng.ts";
import { type Tensor, tf } from "../../core/tf.ts";

/**
 * log2(128): bits per dimension added by the scaling y = (x + u) / 128 - 1.
 * @example
 * const bpd = -logp / (dims * Math.LN2) + DEQUANT_BITS; // logp of the dequantised y in [-1, 1)
 */
export const DEQUANT_BITS = 7;

/**
 * Dequantise 8-bit data: y = (x + u) / 128 - 1 with u ~ U[0, 1)^D drawn from rng(seed), so y
 * lies in [-1, 1). `x` holds integers 0..255 (any shape, any dtype); returns a new float32
 * tensor. Throws if x is out of range or not integral (e.g. already scaled data).
 * @example
 * const y = await dequantize(data.rawTest!(100), 0); // float32, values in [-1, 1)
 */
export async function dequantize(x: Tensor, seed: number): Promise<Tensor> {
  const check = tf.tidy(() => {
    const xf = tf.cast(x, "float32");
    return tf.stack([tf.min(xf), tf.max(xf), tf.max(tf.abs(tf.sub(xf, tf.round(xf))))]);
  });
  // Asynchronous: a synchronous read of a GPU tensor fails on Deno's webgpu (no OffscreenCanvas).
  const [lo, hi, frac] = await check.data();
  check.dispose();
  if (x.size > 0 && !(lo >= 0 && hi <= 255 && frac === 0)) {
    throw new Error(
      `dequantize expects 8-bit integers in 0..255, got values in [${lo}, ${hi}]` +
        (frac > 0 ? " with non-integers" : ""),
    );
  }
  const u = rng(seed);
  const noise = new Float32Array(x.size);
  // Math.fround could round u up to 1; keep it strictly below.
  for (let i = 0; i < noise.length; i++) noise[i] = Math.min(u(), 0.99999994);
  return tf.tidy(() =>
    tf.sub(tf.div(tf.add(tf.cast(x, "float32"), tf.tensor(noise, x.shape)), 128), 1)
  );
}

/**
 * Bits per dimension of one 8-bit example from the log-density of its dequantised value y:
 *
 *   bpd = -log p(y) / (D ln 2) + 7
 *
 * where 7 = log2 128 accounts for the Jacobian of y = (x + u) / 128 - 1 (the density of
 * x + u on [0, 256)^D is p(y) / 128^D). This upper-bounds the discrete model's bits/dim.
 * @example
 * bitsPerDim(-D * Math.LN2, D); // 8: the uniform density 2^-D on [-1, 1)^D
 */
export function bitsPerDim(logpY: number, dims: number): number {
  if (!(Number.isInteger(dims) && dims > 0)) {
    throw new Error(`bitsPerDim: dims must be a positive integer, got ${dims}`);
  }
  return -logpY / (dims * Math.LN2) + DEQUANT_BITS;
}
