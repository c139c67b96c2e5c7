// Public FID entry: load pytorch-fid's Inception weights (or say why FID is n/a) and compute the
// FID of generated images against reference statistics.
import type { Tensor } from "../../../core/tf.ts";
import {
  type FrechetParts,
  frechetParts,
  type GaussianStats,
  type PreparedGaussian,
  prepareGaussian,
} from "./frechet.ts";
import { type FeatureExtractor, type ImageFormat, streamFeatureStats } from "./features.ts";
import { type FidInception, inceptionFromSafetensors } from "./inception.ts";
import { expectedTensors } from "./inception-spec.ts";
import { SafetensorsFile } from "../../store/safetensors.ts";

/** The weights file name the harness looks for in the data dir. */
export const INCEPTION_FILE = "pt_inception-2015-12-05.safetensors";

/** Environment variable that overrides the weights path. */
export const INCEPTION_ENV = "FMBENCH_INCEPTION";

/**
 * Why FID is n/a when the weights file is missing, naming the file that was searched (in the
 * data dir given by --data-dir / FMBENCH_DATA_DIR, or the one FMBENCH_INCEPTION names).
 * @example
 * weightsNotFound("/scratch/data/pt_inception-2015-12-05.safetensors");
 */
export function weightsNotFound(searched: string): string {
  return `n/a: Inception weights not found at ${searched}; download pytorch-fid's ` +
    "pt_inception-2015-12-05-6726825d.pth, convert it to safetensors " +
    `(see harness/metrics/fid/README.md) and put it there, or set ${INCEPTION_ENV} to its path`;
}

/** The weights path: $FMBENCH_INCEPTION if set, else <dataDir>/pt_inception-2015-12-05.safetensors. */
export function inceptionPath(dataDir = "data"): string {
  let env: string | undefined;
  try {
    env = Deno.env.get(INCEPTION_ENV);
  } catch {
    env = undefined; // no --allow-env: fall back to the data dir
  }
  return env && env.length > 0 ? env : `${dataDir.replace(/\/+$/, "")}/${INCEPTION_FILE}`;
}

/** A loaded FID feature extractor and what identifies its weights. */
export interface FidModel {
  available: true;
  extractor: FidInception;
  path: string;
  /** SHA-256 (hex) of the weights file as loaded; record it with every FID. */
  sha256: string;
  /**
   * SHA-256 (hex) of the 470 network tensors' float32 little-endian values in the order of
   * expectedTensors(): the same for any correct conversion, whatever the safetensors writer.
   */
  contentSha256: string;
  /** Trainable parameters of the feature network (conv weights + BN affine). */
  paramCount: number;
}

/** FID cannot be computed; `reason` starts with "n/a:". */
export interface FidUnavailable {
  available: false;
  reason: string;
}

/** SHA-256 of bytes as lowercase hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Load the FID Inception network from a safetensors file (default: inceptionPath()). A missing
 * file gives { available: false, reason: "n/a: Inception weights not found at <path>; ..." };
 * a file that exists but is not valid safetensors or lacks a tensor / has a wrong shape throws
 * (SafetensorsError / InceptionWeightsError naming the file and tensor), since that is a setup
 * error to fix rather than a missing optional.
 */
export async function loadFidModel(weightsPath?: string): Promise<FidModel | FidUnavailable> {
  const path = weightsPath ?? inceptionPath();
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return {
        available: false,
        reason: weightsNotFound(path),
      };
    }
    throw e;
  }
  const sha256 = await sha256Hex(bytes);
  const file = new SafetensorsFile(bytes, path);
  const extractor = inceptionFromSafetensors(file);
  const contentSha256 = await contentHash(file);
  return {
    available: true,
    extractor,
    path,
    sha256,
    contentSha256,
    paramCount: extractor.paramCount,
  };
}

/** SHA-256 of the expected tensors' float32 values (LE) in manifest order. */
async function contentHash(file: SafetensorsFile): Promise<string> {
  const tensors = expectedTensors();
  const total = tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const t of tensors) {
    const v = file.float32(t.name);
    all.set(v, at);
    at += v.length;
  }
  const bytes = new Uint8Array(all.buffer);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    // Big-endian host: write the values little-endian explicitly.
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < total; i++) dv.setFloat32(4 * i, all[i], true);
  }
  return await sha256Hex(bytes);
}

/** Options for computeFid. */
export interface ComputeFidOptions extends ImageFormat {
  extractor: FeatureExtractor;
  /** n fresh generated images NHWC (1 or 3 channels); disposed after use. */
  generate: (n: number) => Promise<Tensor>;
  /** Reference statistics (prepared ones reuse their square root). */
  reference: GaussianStats | PreparedGaussian;
  /** Number of generated images (pytorch-fid convention: 50,000 for CIFAR-10). */
  n: number;
  /** Images per call to generate and per forward pass (default 50). */
  batch?: number;
  onProgress?: (done: number, n: number) => void;
}

/** An FID value with its terms, the generated statistics and timings. */
export interface FidResult extends FrechetParts {
  n: number;
  stats: GaussianStats;
  /** Seconds spent generating + extracting features, and in the Frechet distance. */
  seconds: { features: number; frechet: number };
}

/** FID of n generated images against reference statistics. */
export async function computeFid(opts: ComputeFidOptions): Promise<FidResult> {
  const t0 = performance.now();
  const stats = await streamFeatureStats({
    extractor: opts.extractor,
    images: (_offset, count) => opts.generate(count),
    n: opts.n,
    batch: opts.batch,
    range: opts.range,
    quantize: opts.quantize,
    onProgress: opts.onProgress,
  });
  const t1 = performance.now();
  const parts = frechetParts(prepareGaussian(opts.reference), stats);
  const t2 = performance.now();
  return {
    ...parts,
    n: opts.n,
    stats,
    seconds: { features: (t1 - t0) / 1000, frechet: (t2 - t1) / 1000 },
  };
}
