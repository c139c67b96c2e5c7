// A data source over 8-bit NHWC images in memory (CIFAR-10): flipped training batches in [-1, 1],
// held-out images, and the raw 0..255 values that bits/dim dequantises.
import { rng } from "../../core/rng.ts";
import { type Tensor, tf } from "../../core/tf.ts";
import { toTensor } from "./cifar10.ts";
import type { DataSource } from "./source.ts";

export interface ImageArrays {
  images: Uint8Array;
  n: number;
}

/**
 * Images as a DataSource; `shape` is one image, e.g. [32, 32, 3].
 * @example
 * const source = imageSource("cifar10", train, test, [32, 32, 3]); // source.kind: "image"
 */
export function imageSource(
  name: string,
  train: ImageArrays,
  test: ImageArrays,
  shape: number[],
): DataSource {
  const per = shape.reduce((a, b) => a * b, 1);
  const pick = (n: number, seed: number, count: number) => {
    const u = rng(seed);
    return Int32Array.from({ length: n }, () => Math.floor(u() * count));
  };
  return {
    name,
    kind: "image",
    shape,
    nTrain: train.n,
    nTest: test.n,
    trainBatch(n, seed) {
      return toTensor(train.images, pick(n, seed, train.n), {
        flip: true,
        seed: seed ^ 0x5bd1e995,
      });
    },
    testSet(n) {
      if (n > test.n) throw new Error(`${name}: asked for ${n} test images, have ${test.n}`);
      return toTensor(test.images, Int32Array.from({ length: n }, (_, i) => i));
    },
    rawTest(n) {
      if (n > test.n) throw new Error(`${name}: asked for ${n} test images, have ${test.n}`);
      const bytes = test.images.subarray(0, n * per);
      return tf.tensor(Float32Array.from(bytes), [n, ...shape]);
    },
    trainImages(offset, count): Tensor {
      const idx = Int32Array.from({ length: count }, (_, i) => (offset + i) % train.n);
      return toTensor(train.images, idx);
    },
  };
}
