// Feature networks and the statistics built on them, knowing nothing of flow matching.
/**
 * The features room: pytorch-fid's Inception-v3 in tfjs with its published weights (found,
 * downloaded and checked), streamed feature statistics, the Fréchet distance in float64, KID, and
 * cached reference statistics of a data set. Details: features/README.md.
 * @example
 * import { ensureFidModel } from "./features/mod.ts";
 * const model = await ensureFidModel({ dataDir: "data", download: false });
 * @module
 */
export {
  computeFid,
  type ComputeFidOptions,
  ensureFidModel,
  type FidModel,
  type FidResult,
  type FidUnavailable,
  loadFidModel,
} from "./fid.ts";
export {
  downloadInceptionWeights,
  findInceptionWeights,
  howToGetWeights,
  INCEPTION_HOSTS,
  INCEPTION_PTH,
  INCEPTION_SAFETENSORS,
  INCEPTION_SHA256,
  INCEPTION_URL,
  WeightsDownloadError,
} from "./weights-file.ts";
export { frechetDistance, type GaussianStats } from "./frechet.ts";
export { kid, type KidResult, tfDotProducts } from "./kid.ts";
export { defaultFeatureBatch, type FeatureExtractor } from "./image-stats.ts";
export { type ReferenceStats, referenceStats } from "./reference-stats.ts";
export { type FeatureRows, kNearestRadii, type NeighbourOptions } from "./neighbours.ts";
export {
  improvedPrecisionRecall,
  type PrecisionRecall,
  type PrecisionRecallOptions,
} from "./precision-recall.ts";
export {
  type DensityCoverage,
  densityCoverage,
  type DensityCoverageOptions,
} from "./density-coverage.ts";
export {
  type ManifoldMetrics,
  manifoldMetrics,
  type ManifoldMetricsOptions,
} from "./manifold-metrics.ts";
export {
  type InceptionScore,
  inceptionScore,
  type InceptionScoreOptions,
} from "./inception-score.ts";
export { LOGIT_CLASSES } from "./inception/inception.ts";
export * from "./dinov2/mod.ts";
