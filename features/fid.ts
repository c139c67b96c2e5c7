// Public FID entry: load pytorch-fid's Inception weights (.pth or safetensors; downloaded when
// missing and allowed, else n/a and why) and compute the FID of generated images.
import type { Tensor } from "../core/tf.ts";
import {
  type FrechetParts,
  frechetParts,
  type GaussianStats,
  type PreparedGaussian,
  prepareGaussian,
} from "./frechet.ts";
import { type FeatureExtractor, type ImageFormat, streamFeatures } from "./image-stats.ts";
import { kid, type KidOptions, type KidResult } from "./kid.ts";
import {
  type FidInception,
  inceptionFromWeights,
  type WeightSource,
} from "./inception/inception.ts";
import { expectedTensors } from "./inception/inception-spec.ts";
import {
  downloadInceptionWeights,
  findInceptionWeights,
  howToGetWeights,
  INCEPTION_HOSTS,
  INCEPTION_SHA256,
  WeightsDownloadError,
} from "./weights-file.ts";
import { SafetensorsError, SafetensorsFile } from "../store/safetensors.ts";
import {
  readTorchCheckpoint,
  TorchCheckpointError,
  torchFormatOf,
} from "../store/torch-checkpoint.ts";
import { setAside } from "../store/move-aside.ts";
import { InceptionWeightsError } from "./inception/inception.ts";

/** The on-disk format a weights file was read from. */
export type WeightsFormat = "safetensors" | "torch-zip" | "torch-legacy";

/** A loaded FID feature extractor and what identifies its weights. */
export interface FidModel {
  available: true;
  extractor: FidInception;
  path: string;
  format: WeightsFormat;
  /** SHA-256 (hex) of the weights file as loaded; record it with every FID. */
  sha256: string;
  /** True when sha256 is the published pytorch-fid checkpoint's (INCEPTION_SHA256). */
  publishedFile: boolean;
  /**
   * SHA-256 (hex) of the 470 network tensors' float32 little-endian values in the order of
   * expectedTensors(): the same for the .pth and any correct conversion of it.
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

/**
 * SHA-256 of bytes as lowercase hex.
 * @example
 * await sha256Hex(new TextEncoder().encode("abc"));
 * // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Parse weights bytes by their magic: a PyTorch checkpoint (zip or legacy) or safetensors.
 * @example
 * const { file, format } = parseWeights(await Deno.readFile(path), path); // format "torch-legacy"
 */
export function parseWeights(bytes: Uint8Array, path: string): {
  file: WeightSource;
  format: WeightsFormat;
} {
  const torch = torchFormatOf(bytes);
  if (torch) {
    return {
      file: readTorchCheckpoint(bytes, path),
      format: torch === "zip" ? "torch-zip" : "torch-legacy",
    };
  }
  // safetensors: an 8-byte header length, then a JSON object.
  if (bytes.length > 8 && bytes[8] === 0x7b) {
    return { file: new SafetensorsFile(bytes, path), format: "safetensors" };
  }
  throw new InceptionWeightsError(
    `Inception weights ${path}: neither a PyTorch checkpoint (torch.save zip or legacy stream) ` +
      `nor a safetensors file`,
  );
}

/**
 * Load the FID Inception network from pytorch-fid's .pth (zip or legacy torch.save layout) or a
 * safetensors conversion, told apart by their first bytes. Without `weightsPath` the data dir
 * "data" (or $FMBENCH_INCEPTION) is searched. A missing file gives { available: false, reason:
 * "n/a: Inception weights not found; looked for <paths>. Get them with ..." }; a file that is
 * malformed, refuses to unpickle, or lacks a tensor / has a wrong shape throws an error naming
 * the file and tensor, since that is a setup error to fix rather than a missing optional.
 * @example
 * const model = await loadFidModel("data/pt_inception-2015-12-05-6726825d.pth");
 * if (!model.available) console.log(model.reason);
 */
export async function loadFidModel(weightsPath?: string): Promise<FidModel | FidUnavailable> {
  const search = weightsPath === undefined
    ? findInceptionWeights()
    : { found: weightsPath, searched: [weightsPath], target: weightsPath };
  const path = search.found;
  let bytes: Uint8Array;
  try {
    if (path === undefined) throw new Deno.errors.NotFound();
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return {
        available: false,
        reason: `n/a: Inception weights not found; ${howToGetWeights(search)}`,
      };
    }
    throw e;
  }
  const sha256 = await sha256Hex(bytes);
  const { file, format } = parseWeights(bytes, path);
  const extractor = inceptionFromWeights(file);
  const contentSha256 = await contentHash(file);
  return {
    available: true,
    extractor,
    path,
    format,
    sha256,
    publishedFile: sha256 === INCEPTION_SHA256,
    contentSha256,
    paramCount: extractor.paramCount,
  };
}

/** Options for ensureFidModel. */
export interface EnsureOptions {
  dataDir: string;
  /** Download the weights when missing and the network is allowed (default true). */
  download?: boolean;
  onProgress?: (done: number, total: number | undefined) => void;
  /** Mirror and test overrides of the source (defaults: pytorch-fid's URL and hashes). */
  url?: string;
  fetch?: typeof fetch;
  sha256?: string;
  sha256Prefix?: string;
  /** Told when a weights file in the data dir fails to load and is moved aside. */
  log?: (line: string) => void;
}

/** Whether an error is about a weights file's content (not the machine or the code). */
function badWeightsFile(e: unknown): e is Error {
  return e instanceof InceptionWeightsError || e instanceof TorchCheckpointError ||
    e instanceof SafetensorsError;
}

/** Whether this process may reach every host the download needs. */
function netAllowed(): boolean {
  return INCEPTION_HOSTS.every((host) => {
    try {
      return Deno.permissions.querySync({ name: "net", host }).state === "granted";
    } catch {
      return false;
    }
  });
}

/**
 * The FID model for a data dir: the weights found there, else downloaded into it when the
 * network is allowed (--allow-net for github.com and its release-asset host), else n/a with the
 * folder searched, the URL and the exact path to put the file.
 * @example
 * const model = await ensureFidModel({ dataDir: "data" });
 */
export async function ensureFidModel(opts: EnsureOptions): Promise<FidModel | FidUnavailable> {
  const search = findInceptionWeights(opts.dataDir);
  // $FMBENCH_INCEPTION names the user's own file: an error about it is theirs to see. A file in
  // the data dir that cannot be loaded is set aside and obtained again, as if it were missing.
  const inDataDir = search.found !== undefined && search.found.startsWith(`${search.dir}/`) &&
    search.searched.length > 1;
  if (search.found && !inDataDir) return await loadFidModel(search.found);
  if (search.found) {
    try {
      return await loadFidModel(search.found);
    } catch (e) {
      if (!badWeightsFile(e)) throw e;
      await setAside({
        file: search.found,
        reason: firstLineOf(e),
        then: "the weights are obtained again",
        log: opts.log,
      });
      search.found = undefined;
    }
  }
  const notFound = (why = "") =>
    `n/a: Inception weights not found; ${howToGetWeights(search, why)}`;
  if (opts.download === false) return { available: false, reason: notFound() };
  if (!opts.fetch && !netAllowed()) {
    const why = `no download: network access to ${INCEPTION_HOSTS.join(", ")} is not allowed`;
    return { available: false, reason: notFound(why) };
  }
  try {
    await downloadInceptionWeights({
      target: search.target,
      url: opts.url,
      fetch: opts.fetch,
      sha256: opts.sha256,
      sha256Prefix: opts.sha256Prefix,
      onProgress: opts.onProgress,
    });
  } catch (e) {
    if (!(e instanceof WeightsDownloadError)) throw e;
    return { available: false, reason: notFound(`the download failed: ${e.problem}`) };
  }
  return await loadFidModel(search.target);
}

function firstLineOf(e: Error): string {
  return e.message.split("\n")[0];
}

/** SHA-256 of the expected tensors' float32 values (LE) in manifest order; all must be finite. */
async function contentHash(file: WeightSource): Promise<string> {
  const tensors = expectedTensors();
  const total = tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const t of tensors) {
    const v = file.float32(t.name);
    const bad = v.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      throw new InceptionWeightsError(
        `Inception weights ${file.source}: tensor "${t.name}" holds ${v[bad]} at element ${bad}`,
      );
    }
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
  /** Reference statistics (prepared ones reuse their factor). */
  reference: GaussianStats | PreparedGaussian;
  /** Number of generated images (pytorch-fid convention: 50,000 for CIFAR-10). */
  n: number;
  /** Images per call to generate and per forward pass (default 50). */
  batch?: number;
  /** Reference features [m, dim] for KID; without them no KID is computed. */
  referenceFeatures?: Float32Array;
  /** KID subsets, subset size, seed and Gram route (see kid.ts). */
  kid?: KidOptions;
  onProgress?: (done: number, n: number) => void;
}

/** An FID value with its terms, the generated statistics, KID (if asked) and timings. */
export interface FidResult extends FrechetParts {
  n: number;
  stats: GaussianStats;
  kid?: KidResult;
  /** Seconds spent generating + extracting features, in the Frechet distance and in KID. */
  seconds: { features: number; frechet: number; kid?: number };
}

/**
 * FID (and KID when reference features are given) of n generated images.
 * @example
 * const r = await computeFid({ extractor, reference: ref.stats, referenceFeatures: ref.features, n: 5000, generate });
 * r.fid; r.kid?.mean;
 */
export async function computeFid(opts: ComputeFidOptions): Promise<FidResult> {
  const t0 = performance.now();
  const wantKid = opts.referenceFeatures !== undefined;
  const streamed = await streamFeatures({
    extractor: opts.extractor,
    images: (_offset, count) => opts.generate(count),
    n: opts.n,
    batch: opts.batch,
    keep: wantKid ? opts.n : 0,
    range: opts.range,
    quantize: opts.quantize,
    onProgress: opts.onProgress,
  });
  const t1 = performance.now();
  const parts = frechetParts(prepareGaussian(opts.reference), streamed.stats);
  const t2 = performance.now();
  const k = wantKid
    ? await kid(streamed.features, opts.referenceFeatures!, opts.extractor.dim, opts.kid)
    : undefined;
  const t3 = performance.now();
  return {
    ...parts,
    n: opts.n,
    stats: streamed.stats,
    kid: k,
    seconds: {
      features: (t1 - t0) / 1000,
      frechet: (t2 - t1) / 1000,
      ...(k ? { kid: (t3 - t2) / 1000 } : {}),
    },
  };
}
