// How a suite scores generated samples against held-out data: the scorer, its n/a notes, its protocol.
import type { Tensor } from "../core/tf.ts";
import type { FeatureMetricProtocol } from "../results/schema.ts";
import type { StopRequest } from "./stop.ts";

/**
 * Scores generated samples against held-out data, e.g. { w2 } or { fid }; a long scorer checks
 * `stop` between its batches (throwIfStopped).
 */
export type QualityFn = (samples: Tensor, stop?: StopRequest) => Promise<Record<string, number>>;

/** A suite's scorer; `notes` say why a metric is n/a (e.g. FID without Inception weights). */
export interface Quality {
  fn: QualityFn;
  notes?: Record<string, string>;
  /** How the metrics are computed (FID/KID), copied into every evaluation record. */
  protocol?: FeatureMetricProtocol;
  dispose(): void;
}
