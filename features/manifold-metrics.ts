// Precision/recall (torch-fidelity, k = 3) and density/coverage (prdc, k = 5) from one pass over
// the generated x reference pairs: what a run that reports all four should call.
import { crossBallTests, type FeatureRows, type NeighbourOptions } from "./neighbours.ts";
import {
  type PrecisionRecall,
  precisionRecallFrom,
  precisionRecallTests,
} from "./precision-recall.ts";
import {
  type DensityCoverage,
  densityCoverageFrom,
  densityCoverageTests,
} from "./density-coverage.ts";

/** Options of manifoldMetrics. */
export interface ManifoldMetricsOptions extends NeighbourOptions {
  generated: FeatureRows;
  /** The reference features; keep passing the same array so its radii are reused. */
  reference: FeatureRows;
  /** Neighbourhood of precision/recall (default 3). */
  kPrecisionRecall?: number;
  /** Neighbourhood of density/coverage (default 5). */
  kDensityCoverage?: number;
}

/** All four figures, with the cost of the pass. */
export interface ManifoldMetrics {
  precisionRecall: PrecisionRecall;
  densityCoverage: DensityCoverage;
  /** Pair decisions re-decided in float64 because float32 round-off could have flipped them. */
  rechecked: number;
  seconds: number;
}

/**
 * Precision, recall, density and coverage of generated against reference features, with the
 * same values as improvedPrecisionRecall and densityCoverage called apart, in one pass over the
 * pairs (the reference radii are computed once per reference array, the generated radii once).
 * @example
 * const m = await manifoldMetrics({ generated: { data: g, dim: 2048 }, reference: { data: r, dim: 2048 } });
 * m.precisionRecall.precision; m.densityCoverage.coverage;
 */
export async function manifoldMetrics(opts: ManifoldMetricsOptions): Promise<ManifoldMetrics> {
  const t0 = performance.now();
  const kPr = opts.kPrecisionRecall ?? 3, kDc = opts.kDensityCoverage ?? 5;
  const pr = await precisionRecallTests({ ...opts, k: kPr });
  const dc = await densityCoverageTests({ ...opts, k: kDc });
  const counts = await crossBallTests({ ...opts, tests: [...pr, ...dc] });
  return {
    precisionRecall: precisionRecallFrom(counts.slice(0, 2), kPr),
    densityCoverage: densityCoverageFrom(counts.slice(2), kDc),
    rechecked: counts.rechecked,
    seconds: (performance.now() - t0) / 1000,
  };
}
