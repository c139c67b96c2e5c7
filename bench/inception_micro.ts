// FID Inception forward micro-benchmark: images/s of the pool3 feature network (32x32 inputs
// resized to 299x299, as for CIFAR-10) with seeded random weights, on the active backend.
import { rng } from "../core/rng.ts";
import { tf } from "../core/tf.ts";
import { defaultFeatureBatch } from "../features/image-stats.ts";
import { inceptionFromWeights } from "../features/inception/inception.ts";
import { encodeSafetensors, SafetensorsFile } from "../store/safetensors.ts";
import { seededWeights } from "../features/inception/seeded-weights.ts";

/** What inceptionMicro measured. */
export interface InceptionMicroResult {
  backend: string;
  batch: number;
  /** Seconds of one forward pass of `batch` images (after one warm-up pass). */
  seconds: number;
  imagesPerSec: number;
}

/**
 * Time one Inception forward pass of `batch` images (default: the harness's batch for the
 * backend, capped at 8 on CPU backends, where one image takes about a second).
 * @example
 * const r = await inceptionMicro({ batch: 8 }); // { backend: "wasm", imagesPerSec: ... }
 */
export async function inceptionMicro(opts: { batch?: number } = {}): Promise<InceptionMicroResult> {
  const backend = tf.getBackend();
  const auto = defaultFeatureBatch(backend);
  const batch = opts.batch ?? (auto > 50 ? auto : 8);
  const weights = seededWeights(1234);
  const net = inceptionFromWeights(new SafetensorsFile(encodeSafetensors(weights), "seeded"));
  const u = rng(99);
  const images = (n: number) =>
    tf.tensor4d(Float32Array.from({ length: n * 32 * 32 * 3 }, u), [n, 32, 32, 3]);
  try {
    const warm = images(Math.min(batch, 2));
    await net.features(warm).data().finally(() => {});
    tf.dispose(warm);
    const x = images(batch);
    const t0 = performance.now();
    const f = net.features(x);
    await f.data();
    const seconds = (performance.now() - t0) / 1000;
    tf.dispose([x, f]);
    return { backend, batch, seconds, imagesPerSec: batch / seconds };
  } finally {
    net.dispose();
  }
}
