// The one draw of source noise x0 ~ N(0, sourceStd^2 I) that training, sampling and reflow share.
import { type Path, type Tensor, tf } from "../core/mod.ts";

/**
 * n source samples of one example shape, from the path's isotropic Gaussian, seeded.
 * @example
 * const x0 = sourceNoise(path, [2], 500, 42); // [500, 2]
 */
export function sourceNoise(path: Path, shape: number[], n: number, seed: number): Tensor {
  return tf.randomNormal([n, ...shape], 0, path.sourceStd, "float32", seed & 0x7fffffff);
}
