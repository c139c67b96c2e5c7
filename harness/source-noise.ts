// The one draw of source noise x0 ~ N(0, sourceStd^2 I) that training, sampling and reflow share.
import { type Path, type Tensor, tf } from "../core/mod.ts";

/** Which source noise to draw. */
export interface NoiseRequest {
  /** The path whose source N(0, sourceStd^2 I) is drawn from. */
  path: Path;
  /** Shape of one example. */
  shape: number[];
  /** Number of examples. */
  count: number;
  seed: number;
}

/**
 * `count` source samples of one example shape, from the path's isotropic Gaussian, seeded.
 * @example
 * const x0 = sourceNoise({ path, shape: [2], count: 500, seed: 42 }); // [500, 2]
 */
export function sourceNoise({ path, shape, count, seed }: NoiseRequest): Tensor {
  return tf.randomNormal([count, ...shape], 0, path.sourceStd, "float32", seed & 0x7fffffff);
}
