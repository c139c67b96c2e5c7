// Public DINOv2 entry: load the ViT-L/14 weights (safetensors from Hugging Face, or the original
// .pth), found in the data dir or downloaded when allowed, else n/a with the command that fetches
// them; the features feed the Fréchet distance like Inception's (FD-DINOv2).
import { SafetensorsFile } from "../../store/safetensors.ts";
import { readTorchCheckpoint, torchFormatOf } from "../../store/torch-checkpoint.ts";
import { WeightsDownloadError } from "../../store/download.ts";
import type { WeightSource } from "../inception/inception.ts";
import { type Dinov2, dinov2FromWeights } from "./vit.ts";
import { VIT_L14, type VitConfig } from "./vit-spec.ts";
import {
  DINOV2_HOSTS,
  downloadDinov2Weights,
  findDinov2Weights,
  howToGetDinov2,
  pinnedDinov2Sha256,
} from "./weights-file.ts";

/**
 * FD-DINOv2's feature pipeline, for the protocol (as NVlabs/edm2's DINOv2Detector, resize_mode
 * "torch", and layer6ai-labs/dgm-eval's DINOv2 encoder up to the resize kernel).
 * @example
 * protocol.preprocessing = DINOV2_PIPELINE;
 */
export const DINOV2_PIPELINE =
  "DINOv2 ViT-L/14 (torch.hub dinov2_vitl14) class token 1024 after the final LayerNorm; " +
  "images rounded to 8 bits, bicubic resize to 224 (torch F.interpolate antialias=True), " +
  "ImageNet mean/std";

/**
 * What referenceStats needs to cache DINOv2 reference statistics apart from Inception's.
 * @example
 * await referenceStats({ ...opts, extractor: dino.extractor, weightsSha256: dino.sha256, network: DINOV2_REFERENCE });
 */
export const DINOV2_REFERENCE = { pipeline: DINOV2_PIPELINE, cachePrefix: "fd-dinov2-ref" };

/** A loaded DINOv2 feature extractor and what identifies its weights. */
export interface Dinov2Model {
  available: true;
  extractor: Dinov2;
  path: string;
  format: "safetensors" | "torch-zip" | "torch-legacy";
  /** SHA-256 (hex) of the weights file as loaded; record it with every FD-DINOv2. */
  sha256: string;
  /** True when sha256 equals a pinned value (the user's or the code's), false when none is. */
  pinned: boolean;
  paramCount: number;
}

/** FD-DINOv2 cannot be computed; `reason` starts with "n/a:". */
export interface Dinov2Unavailable {
  available: false;
  reason: string;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function parse(
  bytes: Uint8Array,
  path: string,
): { file: WeightSource; format: Dinov2Model["format"] } {
  const torch = torchFormatOf(bytes);
  if (torch) {
    return {
      file: readTorchCheckpoint(bytes, path),
      format: torch === "zip" ? "torch-zip" : "torch-legacy",
    };
  }
  if (bytes.length > 8 && bytes[8] === 0x7b) {
    return { file: new SafetensorsFile(bytes, path), format: "safetensors" };
  }
  throw new Error(
    `DINOv2 weights ${path}: neither a safetensors file nor a PyTorch checkpoint (torch.save)`,
  );
}

/** Options of loadDinov2Model. */
export interface LoadDinov2Options {
  /** The network's configuration (default ViT-L/14). */
  config?: VitConfig;
  /** A SHA-256 the file must have (default: pinnedDinov2Sha256()). */
  sha256?: string;
}

/**
 * Load DINOv2 from one file (safetensors with Hugging Face's names, or the original .pth). A
 * missing file is n/a with the command that fetches it; a file whose SHA-256 differs from a
 * pinned one is refused with both hashes; a malformed file or a missing tensor throws an error
 * naming the file and the tensor.
 * @example
 * const m = await loadDinov2Model("data/dinov2-vitl14.safetensors");
 * if (m.available) m.extractor.features(images); // [B, 1024]
 */
export async function loadDinov2Model(
  path: string,
  opts: LoadDinov2Options = {},
): Promise<Dinov2Model | Dinov2Unavailable> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return {
        available: false,
        reason: `n/a: DINOv2 weights not found; ${
          howToGetDinov2({ searched: [path], target: path })
        }`,
      };
    }
    throw e;
  }
  const sha256 = await sha256Hex(bytes);
  const pin = pinnedDinov2Sha256(opts.sha256);
  if (pin && pin !== sha256) {
    throw new Error(
      `DINOv2 weights ${path}: SHA-256 ${sha256}, but ${pin} is pinned; replace the file or ` +
        `change the pin`,
    );
  }
  const { file, format } = parse(bytes, path);
  const extractor = dinov2FromWeights(file, opts.config ?? VIT_L14);
  return {
    available: true,
    extractor,
    path,
    format,
    sha256,
    pinned: pin !== undefined,
    paramCount: extractor.paramCount,
  };
}

/** Options of ensureDinov2Model. */
export interface EnsureDinov2Options {
  dataDir: string;
  /** Download when missing and the network is allowed (default true). */
  download?: boolean;
  onProgress?: (done: number, total: number | undefined) => void;
  /** A SHA-256 to pin the weights to (else $FMBENCH_DINOV2_SHA256). */
  sha256?: string;
  /** Mirror and test overrides. */
  url?: string;
  fetch?: typeof fetch;
  config?: VitConfig;
}

function netAllowed(): boolean {
  try {
    return Deno.permissions.querySync({ name: "net", host: DINOV2_HOSTS[0] }).state === "granted";
  } catch {
    return false;
  }
}

/**
 * The DINOv2 model for a data dir: the weights found there, else downloaded into it when the
 * network is allowed, else n/a with the paths searched and the command that fetches them.
 * @example
 * const m = await ensureDinov2Model({ dataDir: "data", download: false });
 * if (!m.available) console.log(m.reason); // "n/a: DINOv2 weights not found; ... deno task metrics:weights ..."
 */
export async function ensureDinov2Model(
  opts: EnsureDinov2Options,
): Promise<Dinov2Model | Dinov2Unavailable> {
  const search = findDinov2Weights(opts.dataDir);
  const load = (path: string) =>
    loadDinov2Model(path, { config: opts.config, sha256: opts.sha256 });
  if (search.found) return await load(search.found);
  const notFound = (why = "") => `n/a: DINOv2 weights not found; ${howToGetDinov2(search, why)}`;
  if (opts.download === false) return { available: false, reason: notFound() };
  if (!opts.fetch && !netAllowed()) {
    return {
      available: false,
      reason: notFound(`no download: network access to ${DINOV2_HOSTS[0]} is not allowed`),
    };
  }
  try {
    await downloadDinov2Weights({
      target: search.target,
      sha256: opts.sha256,
      url: opts.url,
      fetch: opts.fetch,
      onProgress: opts.onProgress,
    });
  } catch (e) {
    if (!(e instanceof WeightsDownloadError)) throw e;
    return { available: false, reason: notFound(`the download failed: ${e.problem}`) };
  }
  return await load(search.target);
}
