// The image suites' feature source: pytorch-fid's Inception-v3 (pool3 rows and moments, and the
// logits of the same pass) and DINOv2 ViT-L/14 class tokens, each run once per sample set, with
// reference statistics cached in the data dir; a network whose weights are missing is n/a.
import { firstLine } from "../../core/error-message.ts";
import { tf } from "../../core/tf.ts";
import type { FeatureName, MetricFeatures } from "../../core/types.ts";
import { ensureFidModel, type FidModel } from "../../features/fid.ts";
import { defaultFeatureBatch, type FeatureExtractor } from "../../features/image-stats.ts";
import { streamFeatures } from "../../features/image-stats.ts";
import { LOGIT_CLASSES } from "../../features/inception/inception.ts";
import { type ReferenceStats, referenceStats } from "../../features/reference-stats.ts";
import {
  DINOV2_PIPELINE,
  DINOV2_REFERENCE,
  type Dinov2Model,
  ensureDinov2Model,
} from "../../features/dinov2/mod.ts";
import type { FeatureMetricProtocol } from "../../results/schema.ts";
import type { DataSource } from "../data/source.ts";
import { byteProgress } from "../progress.ts";
import type { ExtractedFeatures, FeatureMap, FeatureSource } from "../quality.ts";
import { isCancelled, type StopRequest, throwIfStopped } from "../stop.ts";

/** What the image feature source needs of a suite's data settings. */
export interface ImageFeatureData {
  dataDir: string;
  /** Training images behind the reference statistics. */
  fidReference: number;
  /** Of those, how many images' feature rows are kept (KID, precision/recall, ...). */
  kidReference: number;
  /** Images per forward pass; 0 = by backend (50 on CPU, 500 on GPU backends). */
  fidBatch: number;
}

/**
 * How samples become Inception inputs (toUnitImages + FidInception.features).
 * @example
 * protocol.preprocessing === INCEPTION_PREPROCESSING; // for every FID this suite records
 */
export const INCEPTION_PREPROCESSING = "samples in [-1, 1] mapped to [0, 1], clipped and rounded " +
  "to 8 bits (floor(255 x + 0.5) / 255, as a PNG round trip); bilinear resize to 299x299 " +
  "(align_corners=False), scaled to [-1, 1]";

/**
 * The feature sets an image suite offers, and how each is made (for the protocol lines).
 * @example
 * Object.keys(IMAGE_FEATURES); // ["inception-pool3", "inception-logits", "dinov2-cls"]
 */
export const IMAGE_FEATURES: Partial<Record<FeatureName, string>> = {
  "inception-pool3": "pytorch-fid InceptionV3 pool3 (2048-d), one pass per sample set; " +
    "reference: the first training images (moments of all of them, rows of the first " +
    "kidReference)",
  "inception-logits": "the 1008-way logits (fc without bias) of the same Inception pass",
  "dinov2-cls": `${DINOV2_PIPELINE}; reference: the same training images as Inception's`,
};

/**
 * The protocol of the Inception features an evaluation was scored with (recorded in
 * results.json with every evaluation).
 * @example
 * inceptionProtocol({ model, ref, generated: 50000 }).network; // "pytorch-fid InceptionV3 pool3 (2048-d)"
 */
export function inceptionProtocol(
  { model, ref, generated }: { model: FidModel; ref: ReferenceStats; generated: number },
): FeatureMetricProtocol {
  const file = model.path.slice(model.path.lastIndexOf("/") + 1);
  return {
    network: "pytorch-fid InceptionV3 pool3 (2048-d)",
    weights: {
      file,
      sha256: model.sha256,
      contentSha256: model.contentSha256,
      published: model.publishedFile,
    },
    reference: {
      dataset: ref.provenance.dataset,
      split: ref.provenance.split,
      n: ref.provenance.n,
      kidFeatures: ref.provenance.kidFeatures,
    },
    generated,
    preprocessing: INCEPTION_PREPROCESSING,
  };
}

/** Why a network is n/a, per (network, data dir): a download is tried once per process. */
const unavailable = new Map<string, string>();

/** A network's model once per process and data dir: found, downloaded once, or n/a and why. */
async function once<M extends { available: true }>(
  key: string,
  load: (download: boolean) => Promise<M | { available: false; reason: string }>,
  label: string,
): Promise<M | { available: false; reason: string }> {
  const known = unavailable.get(key);
  const model = await load(known === undefined);
  if (!model.available) {
    if (known === undefined) console.error(`${label}: ${model.reason}`);
    unavailable.set(key, known ?? model.reason);
    return { available: false, reason: known ?? model.reason };
  }
  return model;
}

/** The rows and moments of `n` images streamed through a network, `batch` at a time. */
async function pass(
  { extractor, samples, batch, stop }: {
    extractor: FeatureExtractor;
    samples: tf.Tensor;
    batch: number;
    stop?: StopRequest;
  },
): Promise<MetricFeatures> {
  const n = samples.shape[0];
  const streamed = await streamFeatures({
    extractor,
    n,
    batch,
    keep: n,
    range: [-1, 1],
    images: (offset, count) => {
      throwIfStopped(stop); // between forward passes
      return Promise.resolve(samples.slice(offset, count));
    },
  });
  return { data: streamed.features, dim: extractor.dim, n, moments: streamed.stats };
}

/** The reference side of a network as metric features: kept rows, moments of all images. */
function referenceFeatures(ref: ReferenceStats): MetricFeatures {
  const dim = ref.stats.dim;
  return { data: ref.features, dim, n: ref.features.length / dim, moments: ref.stats };
}

/**
 * The feature source of one image run: the networks `wanted` loaded (n/a with the reason and the
 * command that fetches their weights when missing; a file with the wrong SHA-256 is refused,
 * naming both hashes), their reference statistics computed once and cached in the data dir.
 * @example
 * const source = await imageFeatureSource({ data, settings: cfg.data, generated: 5000, wanted: ["inception-pool3"] });
 */
export async function imageFeatureSource(
  { data, settings: d, generated, wanted, dataset }: {
    data: DataSource;
    settings: ImageFeatureData;
    /** Generated samples per evaluation (for the protocol). */
    generated: number;
    wanted: FeatureName[];
    /** The data set's name in the reference cache (default "cifar10"). */
    dataset?: string;
  },
): Promise<FeatureSource> {
  const batch = d.fidBatch > 0 ? d.fidBatch : defaultFeatureBatch(tf.getBackend());
  const n = Math.min(d.fidReference, data.nTrain);
  const reference: FeatureMap = {};
  const missing: Partial<Record<FeatureName, string>> = {};
  let protocol: FeatureMetricProtocol | undefined;
  const common = {
    dataDir: d.dataDir,
    dataset: dataset ?? "cifar10",
    split: "train",
    n,
    kidFeatures: Math.min(d.kidReference, n),
    images: (offset: number, count: number) => Promise.resolve(data.trainImages!(offset, count)),
    range: [-1, 1] as [number, number],
    batch,
  };
  let inception: FidModel | undefined;
  const pool3 = wanted.includes("inception-pool3"), logits = wanted.includes("inception-logits");
  if (pool3 || logits) {
    const model = await once(
      `inception|${d.dataDir}`,
      (download) =>
        ensureFidModel({
          dataDir: d.dataDir,
          download,
          onProgress: download ? byteProgress("fid: Inception weights") : undefined,
          log: (line) => console.error(`fid: ${line}`),
        }),
      "fid",
    );
    if (!model.available) {
      if (pool3) missing["inception-pool3"] = model.reason;
      if (logits) missing["inception-logits"] = model.reason;
    } else {
      inception = model;
      if (logits && !model.extractor.hasLogits) {
        missing["inception-logits"] = `n/a: ${model.path} has no fc.weight, so no logits (the ` +
          `published pytorch-fid checkpoint has it)`;
      }
      if (pool3) {
        const ref = await referenceStats({
          ...common,
          extractor: model.extractor,
          weightsSha256: model.contentSha256,
          onProgress: (done, total) =>
            done === total && console.error(`fid: reference statistics of ${total} images`),
          log: (line) => console.error(`fid: ${line}`),
        });
        reference["inception-pool3"] = referenceFeatures(ref);
        protocol = inceptionProtocol({ model, ref, generated });
      }
    }
  }
  let dino: Dinov2Model | undefined;
  if (wanted.includes("dinov2-cls")) {
    try {
      const model = await once(
        `dinov2|${d.dataDir}`,
        // 1.2 GB: fetched only by `deno task metrics:weights`, never in the middle of a run.
        () => ensureDinov2Model({ dataDir: d.dataDir, download: false }),
        "fd-dinov2",
      );
      if (!model.available) missing["dinov2-cls"] = model.reason;
      else {
        dino = model;
        const ref = await referenceStats({
          ...common,
          extractor: model.extractor,
          weightsSha256: model.sha256,
          network: DINOV2_REFERENCE,
          onProgress: (done, total) =>
            console.error(`fd-dinov2: reference features ${done} of ${total} images`),
          log: (line) => console.error(`fd-dinov2: ${line}`),
        });
        reference["dinov2-cls"] = referenceFeatures(ref);
      }
    } catch (e) {
      // A file with the wrong SHA-256 (both hashes named) or a malformed one: only this
      // network's metrics are n/a.
      missing["dinov2-cls"] = `n/a: ${firstLine(e)}`;
      dino?.extractor.dispose();
      dino = undefined;
    }
  }
  return {
    reference,
    unavailable: missing,
    ...(protocol ? { protocol } : {}),
    async extract(samples, { wanted: asked, stop }): Promise<ExtractedFeatures> {
      const features: FeatureMap = {};
      const failed: ExtractedFeatures["failed"] = {};
      const guard = async (names: FeatureName[], what: string, run: () => Promise<void>) => {
        try {
          await run();
        } catch (e) {
          if (isCancelled(e) || stop?.aborted) throw e;
          for (const f of names) failed[f] = `the ${what} pass failed: ${firstLine(e)}`;
        }
      };
      const inc = asked.filter((f) => f === "inception-pool3" || f === "inception-logits");
      if (inception && inc.length) {
        const net = inception.extractor;
        await guard(inc, "Inception", async () => {
          const rows = await pass({ extractor: net, samples, batch, stop });
          if (asked.includes("inception-pool3")) features["inception-pool3"] = rows;
          if (asked.includes("inception-logits") && net.hasLogits) {
            const l = await net.logitsOf(rows.data);
            features["inception-logits"] = { data: l, dim: LOGIT_CLASSES, n: rows.n };
          }
        });
      }
      if (dino && asked.includes("dinov2-cls")) {
        const net = dino.extractor;
        await guard(["dinov2-cls"], "DINOv2", async () => {
          features["dinov2-cls"] = await pass({ extractor: net, samples, batch, stop });
        });
      }
      return { features, failed };
    },
    dispose() {
      inception?.extractor.dispose();
      dino?.extractor.dispose();
    },
  };
}
