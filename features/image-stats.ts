// Stream images batch by batch through the FID Inception network into float64 mean/covariance,
// keeping the first feature rows when asked (KID needs the features themselves).
import { type Tensor, tf } from "../core/tf.ts";
import { type GaussianStats, RunningStats } from "./frechet.ts";

/** What turns images into feature vectors: FidInception, or a stand-in in tests. */
export interface FeatureExtractor {
  /** Feature dimension. */
  readonly dim: number;
  /** Features [B, dim] of images NHWC with values in [0, 1]. */
  features(images: Tensor): tf.Tensor2D;
}

/** How images arrive: value range and whether to round to 8 bits as a PNG round trip would. */
export interface ImageFormat {
  /** Value range of the incoming images, mapped linearly to [0, 1] (default [0, 1]). */
  range?: [number, number];
  /**
   * Clip to [0, 1] and round to multiples of 1/255 first (default true), as when samples are
   * saved as 8-bit PNGs (torchvision save_image) and read back by pytorch-fid.
   */
  quantize?: boolean;
}

/**
 * Map images NHWC in `range` to [0, 1], optionally clipped and rounded to 8 bits.
 * @example
 * const unit = toUnitImages(samples, { range: [-1, 1] }); // in [0, 1], multiples of 1/255
 */
export function toUnitImages(images: Tensor, format: ImageFormat = {}): Tensor {
  const [lo, hi] = format.range ?? [0, 1];
  if (!(hi > lo)) throw new Error(`image range must satisfy lo < hi, got [${lo}, ${hi}]`);
  const quantize = format.quantize ?? true;
  return tf.tidy(() => {
    let x = tf.cast(images, "float32");
    if (lo !== 0 || hi !== 1) x = tf.div(tf.sub(x, lo), hi - lo);
    // floor(255 x + 0.5), as torchvision's save_image rounds before writing a PNG.
    if (quantize) x = tf.div(tf.floor(tf.add(tf.mul(tf.clipByValue(x, 0, 1), 255), 0.5)), 255);
    return x;
  });
}

/** Options for streamFeatureStats. */
export interface StreamOptions extends ImageFormat {
  extractor: FeatureExtractor;
  /** Images [count, H, W, C] starting at `offset`; the tensor is disposed after use. */
  images: (offset: number, count: number) => Promise<Tensor>;
  n: number;
  /** Images per forward pass (default 50, as pytorch-fid; larger on GPU backends). */
  batch?: number;
  /** Keep the features of the first `keep` images (default 0), e.g. for KID. */
  keep?: number;
  /** Called after each batch with the number of images done. */
  onProgress?: (done: number, n: number) => void;
}

/**
 * Pool3 feature statistics (float64 mean and N-1 covariance) of n streamed images.
 * @example
 * const stats = await streamFeatureStats({ extractor, images, n: 50000, range: [-1, 1] });
 * // stats.mu: Float64Array(2048)
 */
export async function streamFeatureStats(opts: StreamOptions): Promise<GaussianStats> {
  return (await streamFeatures(opts)).stats;
}

/** Statistics of n streamed images and the features of the first `keep` of them. */
export interface StreamedFeatures {
  stats: GaussianStats;
  /** Row-major [kept, dim] float32 features. */
  features: Float32Array;
  kept: number;
}

/**
 * Stream n images through the extractor: float64 mean/covariance of all of them, and the raw
 * features of the first `opts.keep`.
 * @example
 * const { stats, features } = await streamFeatures({ extractor, images, n: 5000, keep: 5000 });
 */
export async function streamFeatures(opts: StreamOptions): Promise<StreamedFeatures> {
  const { extractor, n } = opts;
  const keep = Math.min(opts.keep ?? 0, n);
  const kept = new Float32Array(keep * extractor.dim);
  const batch = opts.batch ?? 50;
  if (!Number.isInteger(n) || n < 2) throw new Error(`FID: n must be an integer >= 2, got ${n}`);
  if (!Number.isInteger(batch) || batch < 1) {
    throw new Error(`FID: batch must be a positive integer, got ${batch}`);
  }
  const stats = new RunningStats(extractor.dim);
  for (let offset = 0; offset < n; offset += batch) {
    const count = Math.min(batch, n - offset);
    const raw = await opts.images(offset, count);
    try {
      if (raw.shape[0] !== count) {
        throw new Error(`FID: asked for ${count} images, got a tensor of shape [${raw.shape}]`);
      }
      const feats = tf.tidy(() => extractor.features(toUnitImages(raw, opts)));
      try {
        const values = await feats.data();
        stats.add(values);
        if (offset < keep) {
          const rows = Math.min(count, keep - offset);
          kept.set(values.subarray(0, rows * extractor.dim), offset * extractor.dim);
        }
      } finally {
        feats.dispose();
      }
    } finally {
      raw.dispose();
    }
    opts.onProgress?.(offset + count, n);
  }
  return { stats: stats.finalize(), features: kept, kept: keep };
}

/**
 * Images per Inception forward pass for a tfjs backend: 50 (pytorch-fid's default) on the CPU
 * backends, 500 on GPU backends, where the activations of 500 299x299 images (~10 GB) fit.
 * @example
 * defaultFeatureBatch("tensorflow"); // 500
 */
export function defaultFeatureBatch(backend: string): number {
  return ["tensorflow", "webgpu", "webgl"].includes(backend) ? 500 : 50;
}
