// FID reference statistics of a dataset's images: computed once, cached in the data dir as a
// safetensors file (provenance in its JSON header, float64 mu/sigma/sqrt(sigma)), then reused.
import type { Tensor } from "../../../core/tf.ts";
import type { PreparedGaussian } from "./frechet.ts";
import { prepareGaussian } from "./frechet.ts";
import { type FeatureExtractor, type ImageFormat, streamFeatureStats } from "./features.ts";
import { encodeSafetensors, readSafetensors } from "../../store/safetensors.ts";

/** Version tag of the cache layout and of the feature pipeline it was computed with. */
export const REFERENCE_FORMAT = "fmbench/fid-ref@1";

/** The feature pipeline, recorded so a cache made differently is never reused. */
export const PIPELINE =
  "pytorch-fid InceptionV3 pool3 2048; bilinear resize 299 align_corners=False; [0,1]->[-1,1]";

/** Where a set of reference statistics came from. */
export interface ReferenceProvenance {
  format: string;
  pipeline: string;
  dataset: string;
  split: string;
  n: number;
  /** SHA-256 (hex) of the Inception weights file the features were computed with. */
  weightsSha256: string;
  /** ISO time the statistics were computed. */
  date: string;
}

/** Reference statistics ready for frechetDistance, with their provenance. */
export interface ReferenceStats {
  stats: PreparedGaussian;
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
  extractor: FeatureExtractor;
  weightsSha256: string;
  /** Images [count, H, W, C] from index `offset` of the split; disposed after use. */
  images: (offset: number, count: number) => Promise<Tensor>;
  batch?: number;
  onProgress?: (done: number, n: number) => void;
}

/** The cache file for (dataset, split, n) under dataDir. */
export function referenceStatsPath(dataDir: string, dataset: string, split: string, n: number) {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_");
  return `${dataDir.replace(/\/+$/, "")}/fid-ref-${safe(dataset)}-${safe(split)}-${n}.safetensors`;
}

/** Write statistics and provenance (atomically: temp file, then rename). */
export async function writeReferenceStats(
  path: string,
  stats: PreparedGaussian,
  provenance: ReferenceProvenance,
): Promise<void> {
  const d = stats.dim;
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(provenance)) meta[k] = String(v);
  const bytes = encodeSafetensors({
    mu: { shape: [d], data: stats.mu },
    sigma: { shape: [d, d], data: stats.sigma },
    sqrt_sigma: { shape: [d, d], data: stats.sqrtSigma },
  }, meta);
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
}

/** Read a cache file; null if it does not exist. Errors name the file. */
export async function readReferenceStats(
  path: string,
): Promise<{ stats: PreparedGaussian; provenance: ReferenceProvenance } | null> {
  try {
    await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const file = await readSafetensors(path);
  const m = file.metadata;
  const provenance: ReferenceProvenance = {
    format: m.format ?? "",
    pipeline: m.pipeline ?? "",
    dataset: m.dataset ?? "",
    split: m.split ?? "",
    n: Number(m.n),
    weightsSha256: m.weightsSha256 ?? "",
    date: m.date ?? "",
  };
  const mu = file.float64("mu");
  const d = mu.length;
  const sigma = file.float64("sigma");
  const sqrtSigma = file.float64("sqrt_sigma");
  if (sigma.length !== d * d || sqrtSigma.length !== d * d) {
    throw new Error(`FID reference ${path}: sigma must be ${d}x${d}`);
  }
  return { stats: { dim: d, n: provenance.n, mu, sigma, sqrtSigma }, provenance };
}

/** Why a cached provenance does not fit the request, or null if it does. */
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
 */
export async function referenceStats(opts: ReferenceOptions): Promise<ReferenceStats> {
  const split = opts.split ?? "train";
  const path = referenceStatsPath(opts.dataDir, opts.dataset, split, opts.n);
  const want = {
    format: REFERENCE_FORMAT,
    pipeline: PIPELINE,
    dataset: opts.dataset,
    split,
    n: opts.n,
    weightsSha256: opts.weightsSha256,
  };
  const cached = await readReferenceStats(path);
  if (cached && provenanceMismatch(cached.provenance, want) === null) {
    return { ...cached, path, reused: true };
  }
  const stats = prepareGaussian(
    await streamFeatureStats({
      extractor: opts.extractor,
      images: opts.images,
      n: opts.n,
      batch: opts.batch,
      range: opts.range,
      quantize: opts.quantize,
      onProgress: opts.onProgress,
    }),
  );
  const provenance: ReferenceProvenance = { ...want, date: new Date().toISOString() };
  await writeReferenceStats(path, stats, provenance);
  return { stats, provenance, path, reused: false };
}
