// How a suite scores generated samples against held-out data: the scorer, its n/a notes, its
// protocol, and the feature source a suite gives the metric plugins (harness/metric-quality.ts).
import type { FeatureName, MetricFeatures } from "../core/types.ts";
import type { Tensor } from "../core/tf.ts";
import type { FeatureMetricProtocol } from "../results/schema.ts";
import type { StopRequest } from "./stop.ts";

/** What a scorer returns: figures by name, and why any selected figure is missing. */
export interface Scores {
  metrics: Record<string, number>;
  /** Figure name -> why it is n/a for these samples. */
  notes?: Record<string, string>;
}

/**
 * Scores generated samples against held-out data, e.g. { metrics: { w2 } }; a long scorer checks
 * `stop` between its batches (throwIfStopped).
 */
export type QualityFn = (samples: Tensor, stop?: StopRequest) => Promise<Scores>;

/** A suite's scorer; `notes` say why a metric is n/a (e.g. FID without Inception weights). */
export interface Quality {
  fn: QualityFn;
  notes?: Record<string, string>;
  /** How the feature networks were run (images), copied into every evaluation record. */
  protocol?: FeatureMetricProtocol;
  dispose(): void;
}

/** Features by name (a partial map: only those computed). */
export type FeatureMap = Partial<Record<FeatureName, MetricFeatures>>;

/** Features of one sample set, and why any asked for could not be computed. */
export interface ExtractedFeatures {
  features: FeatureMap;
  /** Feature name -> the reason (e.g. the network threw on these samples). */
  failed: Partial<Record<FeatureName, string>>;
}

/**
 * What a suite gives the metric engine for one run: the reference features (made once and kept,
 * so k-NN radii and factorisations cached on them are reused), why a feature is unavailable, and
 * the features of generated samples — each network run once per sample set, however many
 * metrics read its output.
 */
export interface FeatureSource {
  reference: FeatureMap;
  /** Feature name -> why it cannot be computed in this run ("n/a: ... weights not found ..."). */
  unavailable: Partial<Record<FeatureName, string>>;
  extract(
    samples: Tensor,
    opts: { wanted: FeatureName[]; stop?: StopRequest },
  ): Promise<ExtractedFeatures>;
  /** How the feature networks were run (network, weights, reference images, preprocessing). */
  protocol?: FeatureMetricProtocol;
  dispose(): void;
}
