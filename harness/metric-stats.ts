// The statistics metric plugins compute with (ctx.stats): thin calls into features/ (Fréchet
// distance, KID, k-NN balls, Inception Score) and the exact W2 of harness/metrics/w2.ts.
import type { FeatureMoments, MetricFeatures, MetricStats } from "../core/types.ts";
import {
  densityCoverage,
  frechetDistance,
  improvedPrecisionRecall,
  inceptionScore,
  kid,
  tfDotProducts,
} from "../features/mod.ts";
import { batchStats } from "../features/frechet.ts";
import { w2 } from "./metrics/w2.ts";

/** The rows of a feature set as features/ takes them, with its shape checked. */
function rows(x: MetricFeatures, what: string): { data: Float32Array; dim: number } {
  if (!(Number.isInteger(x.n) && x.n >= 1 && x.data.length === x.n * x.dim)) {
    throw new Error(
      `${what}: ${x.data.length} values is not n x dim = ${x.n} x ${x.dim} feature values`,
    );
  }
  return { data: x.data, dim: x.dim };
}

/**
 * The engine's MetricStats: every figure a built-in metric plugin reports goes through here, so
 * the plugins stay a few lines over the SDK and the numerics stay in one place.
 * @example
 * const stats = metricStats();
 * stats.w2({ data: Float32Array.of(0, 0), dim: 2, n: 1 }, { data: Float32Array.of(3, 4), dim: 2, n: 1 }); // 5
 */
export function metricStats(): MetricStats {
  return {
    moments: (x): FeatureMoments => batchStats(rows(x, "moments").data, x.dim),
    frechet: (a, b) => frechetDistance(a, b),
    async kid(generated, reference, { subsets, subsetSize, seed }) {
      const g = rows(generated, "KID generated"), r = rows(reference, "KID reference");
      if (g.dim !== r.dim) throw new Error(`KID: dimensions differ (${g.dim} vs ${r.dim})`);
      const k = await kid(g.data, r.data, g.dim, { subsets, subsetSize, seed, dot: tfDotProducts });
      return { mean: k.mean, std: k.std, subsets: k.subsets, subsetSize: k.subsetSize };
    },
    async precisionRecall(generated, reference, { k }) {
      const r = await improvedPrecisionRecall({
        generated: rows(generated, "precision/recall generated"),
        reference: rows(reference, "precision/recall reference"),
        k,
      });
      return { precision: r.precision, recall: r.recall };
    },
    async densityCoverage(generated, reference, { k }) {
      const r = await densityCoverage({
        generated: rows(generated, "density/coverage generated"),
        reference: rows(reference, "density/coverage reference"),
        k,
      });
      return { density: r.density, coverage: r.coverage };
    },
    inceptionScore(logits, { splits }) {
      const r = inceptionScore(rows(logits, "Inception Score logits").data, logits.dim, { splits });
      return { mean: r.mean, std: r.std };
    },
    w2(a, b) {
      if (a.dim !== b.dim) throw new Error(`W2: dimensions differ (${a.dim} vs ${b.dim})`);
      const m = Math.min(a.n, b.n), d = a.dim;
      return w2(a.data.subarray(0, m * d), b.data.subarray(0, m * d), m, d);
    },
  };
}
