// Error norms of the adaptive solvers: RMS reduced on the device, finished on the host in float64.
import { type Tensor, tf } from "../tf.ts";

/**
 * Sum of squares of all elements of `x`, as a scalar tensor on the device (no read); the host
 * finishes the RMS as sqrt(sum / size) in float64 (`rmsFromSum`), so the only float32 roundings
 * are the squares' and the sum's (a mean and sqrt on the device added two more, enough to move
 * the tiny, round-off-dominated error estimate after torchdiffeq's first step past the fixture
 * test's 2% on the next step size). A sum beyond float32's range reads as Inf: non-finite.
 * @example
 * const s = tf.tidy(() => sumSquares(tf.div(err, scale)));
 */
export function sumSquares(x: Tensor): Tensor {
  return tf.sum(tf.square(x));
}

/**
 * The RMS of `size` elements from their sum of squares read off the device.
 * @example
 * const rms = rmsFromSum((await s.data())[0], err.size);
 */
export function rmsFromSum(sum: number, size: number): number {
  return Math.sqrt(sum / size);
}

/**
 * RMS of each of `xs` divided by `scale`, reduced on the device to sums of squares and read back
 * as one small array (one read, however large the state). NaN/Inf propagate.
 * @example
 * const [d0, d1] = await scaledRms([y0, f0], scale);
 */
export async function scaledRms(xs: Tensor[], scale: Tensor): Promise<number[]> {
  const r = tf.tidy(() => tf.stack(xs.map((x) => sumSquares(tf.div(x, scale)))));
  try {
    const sums = (await r.data()) as Float32Array;
    return xs.map((x, i) => rmsFromSum(sums[i], x.size));
  } finally {
    r.dispose();
  }
}
