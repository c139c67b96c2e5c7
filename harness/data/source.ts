// The data-source contract the training loop and metrics use, and a source over in-memory vectors.
import { rng } from "../../core/rng.ts";
import { type Tensor, tf } from "../../core/tf.ts";

export interface DataSource {
  name: string;
  kind: "vector" | "image";
  /** Shape of one example, e.g. [2] or [32, 32, 3]. */
  shape: number[];
  nTrain: number;
  nTest: number;
  /** A training batch drawn with replacement, deterministic in the seed. */
  trainBatch(n: number, seed: number): Tensor;
  /** The first n held-out examples (n <= nTest). */
  testSet(n: number): Tensor;
  /** 8-bit data only: the first n held-out examples as raw 0..255 values (for bits/dim). */
  rawTest?(n: number): Tensor;
  /** Images only: training images [offset, offset + count) in [-1, 1], unflipped (FID reference). */
  trainImages?(offset: number, count: number): Tensor;
}

/**
 * A data source over flat Float32Array rows (2-D toy data and other small vector sets).
 * @example
 * const { train, test } = loadToy2d("moons", 1000, 200, 0);
 * const source = vectorSource("moons", train, test, 2); // source.shape: [2]
 */
export function vectorSource(
  name: string,
  train: Float32Array,
  test: Float32Array,
  dim: number,
): DataSource {
  const nTrain = train.length / dim, nTest = test.length / dim;
  return {
    name,
    kind: "vector",
    shape: [dim],
    nTrain,
    nTest,
    trainBatch(n, seed) {
      const u = rng(seed);
      const out = new Float32Array(n * dim);
      for (let i = 0; i < n; i++) {
        const j = Math.floor(u() * nTrain);
        out.set(train.subarray(j * dim, (j + 1) * dim), i * dim);
      }
      return tf.tensor2d(out, [n, dim]);
    },
    testSet(n) {
      if (n > nTest) throw new Error(`${name}: asked for ${n} test points, have ${nTest}`);
      return tf.tensor2d(test.subarray(0, n * dim), [n, dim]);
    },
  };
}
