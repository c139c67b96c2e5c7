// FID/KID reference statistics of a dataset's images: computed once, cached in the data dir as a
// safetensors file (provenance in its JSON header; float64 mu, sigma and sigma's pivoted Cholesky
// factor; float32 features of the first images for KID), then reused.
import type { Tensor } from "../core/tf.ts";
import type { PreparedGaussian } from "./frechet.ts";
import { prepareGaussian } from "./frechet.ts";
import { type FeatureExtractor, type ImageFormat, streamFeatures } from "./image-stats.ts";
import { encodeSafetensors } from "../store/safetensors.ts";
import { readChecked } from "../store/read-checked.ts";
import { checkReferenceStats } from "./reference-stats-check.ts";

/**
 * Version tag of the cache layout and of the feature pipeline it was computed with.
 * @example
 * provenance.format; // "fmbench/fid-ref@2" (REFERENCE_FORMAT) in a cache this version wrote
 */
export const REFERENCE_FORMAT = "fmbench/fid-ref@2";

/**
 * The feature pipeline, recorded so a cache made differently is never reused.
 * @example
 * provenanceMismatch(cached, { ...want, pipeline: PIPELINE }); // null when the cache fits
 */
export const PIPELINE =
  "pytorch-fid InceptionV3 pool3 2048; bilinear resize 299 align_corners=False; [0,1]->[-1,1]";

/** Where a set of reference statistics came from. */
export interface ReferenceProvenance {
  format: string;
  pipeline: string;
  dataset: string;
  split: string;
  n: number;
  /** Features kept for KID: those of the first kidFeatures images. */
  kidFeatures: number;
  /** SHA-256 (hex) identifying the Inception weights the features were computed with. */
  weightsSha256: string;
  /** ISO time the statistics were computed. */
  date: string;
}

/** Reference statistics ready for frechetDistance, with their provenance. */
export interface ReferenceStats {
  stats: PreparedGaussian;
  /** Row-major [provenance.kidFeatures, dim] float32 features for KID. */
  features: Float32Array;
  provenance: ReferenceProvenance;
  path: string;
  /** True if read from the cache, false if computed now. */
  reused: boolean;
}

/** Options for referenceStats. */
export interface ReferenceOptions extends ImageFormat {
  /** Data directory holding the cache (e.g. "data"). */
  dataDir: string;
  dataset: string;
  /** Which images (default "train"). */
  split?: string;
  n: number;
  /** Features to keep for KID (default min(n, 10,000)). */
  kidFeatures?: number;
  extractor: FeatureExtractor;
  weightsSha256: string;
  /** Images [count, H, W, C] from index `offset` of the split; disposed after use. */
  images: (offset: number, count: number) => Promise<Tensor>;
  batch?: number;
  onProgress?: (done: number, n: number) => void;
  /**
   * The feature network's pipeline, recorded in the provenance and its cache file's name prefix
   * (default: pytorch-fid's Inception, PIPELINE and "fid-ref"; e.g. DINOV2_PIPELINE and
   * "fd-dinov2-ref" for FD-DINOv2, so the two caches never overwrite each other).
   */
  network?: { pipeline: string; cachePrefix: string };
  /** Told when the cache fails its check and is moved aside (then it is computed again). */
  log?: (line: string) => void;
}

/**
 * The cache file for (dataset, split, n) under dataDir.
 * @example
 * referenceStatsPath("data/", "cifar10", "train", 50000);
 * // "data/fid-ref-cifar10-train-50000.safetensors"
 */
export function referenceStatsPath(
  { dataDir, dataset, split, n, prefix = "fid-ref" }: {
    dataDir: string;
    dataset: string;
    split: string;
    n: number;
    /** File name prefix naming the network (default "fid-ref"). */
    prefix?: string;
  },
): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_");
  return `${dataDir.replace(/\/+$/, "")}/${safe(prefix)}-${safe(dataset)}-${safe(split)}-${n}` +
    ".safetensors";
}

/**
 * Reference features kept for KID by default (82 MB of float32 at d = 2048).
 * @example
 * const stream = await streamFeatures({ extractor, images, n, keep: KID_REFERENCE_FEATURES });
 */
export const KID_REFERENCE_FEATURES = 10_000;

/**
 * Write statistics, KID features and provenance (atomically: temp file, then rename).
 * @example
 * await writeReferenceStats("data/fid-ref-cifar10-train-50000.safetensors", stats, features, provenance);
 */
export async function writeReferenceStats(
  path: string,
  { stats, features, provenance }: {
    stats: PreparedGaussian;
    /** Reference features kept for KID. */
    features: Float32Array;
    provenance: ReferenceProvenance;
  },
): Promise<void> {
  const d = stats.dim;
  const { l, perm, rank, tol } = stats.factor;
  const meta: Record<string, string> = { factorTol: String(tol) };
  for (const [k, v] of Object.entries(provenance)) meta[k] = String(v);
  const bytes = encodeSafetensors({
    mu: { shape: [d], data: stats.mu },
    sigma: { shape: [d, d], data: stats.sigma },
    factor_l: { shape: [d, rank], data: l },
    factor_perm: { shape: [d], data: Float64Array.from(perm) },
    kid_features: { shape: [features.length / d, d], data: features },
  }, meta);
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
}

/**
 * Read a cache file; null if it does not exist. A file that fails its check
 * (features/reference-stats-check.ts) is moved aside to `<file>.unreadable-<time>`, told to
 * `log`, and null returned (the statistics are computed again).
 * @example
 * const cached = await readReferenceStats("data/fid-ref-cifar10-train-50000.safetensors"); // or null
 */
export async function readReferenceStats(
  path: string,
  log?: (line: string) => void,
): Promise<
  { stats: PreparedGaussian; features: Float32Array; provenance: ReferenceProvenance } | null
> {
  const c = await readChecked({
    file: path,
    check: (f) => checkReferenceStats(f, REFERENCE_FORMAT),
    then: "the reference statistics are computed again",
    log,
  });
  if (!c) return null;
  // An older layout: the caller recomputes (its provenance does not match).
  return {
    stats: c.stats ?? empty(),
    features: c.features ?? new Float32Array(),
    provenance: c.provenance,
  };
}

function empty(): PreparedGaussian {
  const z = new Float64Array();
  return {
    dim: 0,
    n: 0,
    mu: z,
    sigma: z,
    factor: { l: z, perm: new Int32Array(), rank: 0, tol: 0 },
  };
}

/**
 * Why a cached provenance does not fit the request, or null if it does.
 * @example
 * provenanceMismatch(cached, { ...want, n: 50000 }); // "n is 10000, wanted 50000"
 */
export function provenanceMismatch(
  cached: ReferenceProvenance,
  want: Omit<ReferenceProvenance, "date">,
): string | null {
  for (const key of Object.keys(want) as Array<keyof typeof want>) {
    if (String(cached[key]) !== String(want[key])) {
      return `${key} is ${JSON.stringify(cached[key])}, wanted ${JSON.stringify(want[key])}`;
    }
  }
  return null;
}

/**
 * Reference statistics for (dataset, split, n) computed with these weights: read from the cache
 * in dataDir if its provenance matches, else computed from `images` and cached.
 * @example
 * const ref = await referenceStats({ dataDir: "data", dataset: "cifar10", n: 50000, extractor, weightsSha256, images });
 * ref.stats; ref.features; ref.provenance;
 */
export async function referenceStats(opts: ReferenceOptions): Promise<ReferenceStats> {
  const split = opts.split ?? "train";
  const path = referenceStatsPath({ ...opts, split, prefix: opts.network?.cachePrefix });
  const want = {
    format: REFERENCE_FORMAT,
    pipeline: opts.network?.pipeline ?? PIPELINE,
    dataset: opts.dataset,
    split,
    n: opts.n,
    kidFeatures: Math.min(opts.kidFeatures ?? KID_REFERENCE_FEATURES, opts.n),
    weightsSha256: opts.weightsSha256,
  };
  const cached = await readReferenceStats(path, opts.log);
  if (cached && provenanceMismatch(cached.provenance, want) === null) {
    return { ...cached, path, reused: true };
  }
  const streamed = await streamFeatures({
    extractor: opts.extractor,
    images: opts.images,
    n: opts.n,
    batch: opts.batch,
    keep: want.kidFeatures,
    range: opts.range,
    quantize: opts.quantize,
    onProgress: opts.onProgress,
  });
  const stats = prepareGaussian(streamed.stats);
  const provenance: ReferenceProvenance = { ...want, date: new Date().toISOString() };
  await writeReferenceStats(path, { stats, features: streamed.features, provenance });
  return { stats, features: streamed.features, provenance, path, reused: false };
}
