// The metric engine: the features the selected metric plugins name are computed once per sample
// set and shared; each metric then computes its figures, and a throw, a missing feature or a
// non-finite figure becomes that figure's n/a reason, never the evaluation's failure.
import { FEATURE_NAMES } from "../core/define.ts";
import { firstLine } from "../core/error-message.ts";
import type { FeatureName, MetricPlugin, MetricStats } from "../core/types.ts";
import { metricStats } from "./metric-stats.ts";
import type { DataSource } from "./data/source.ts";
import type { FeatureMap, FeatureSource, Quality, Scores } from "./quality.ts";
import type { SuiteConfig, SuiteDef } from "./suites/types.ts";
import { isCancelled } from "./stop.ts";

/**
 * The feature set a metric reads in a suite: the first of its `features` the suite offers.
 * @example
 * featureFor(precisionRecall, ["raw"]); // "raw" (on images: "inception-pool3")
 */
export function featureFor(m: MetricPlugin, offered: FeatureName[]): FeatureName | undefined {
  return m.features.find((f) => offered.includes(f));
}

/**
 * The features the metrics read in a suite, each once, in FEATURE_NAMES order.
 * @example
 * wantedFeatures([fid, kid, inceptionScore], ["inception-pool3", "inception-logits"]);
 * // ["inception-pool3", "inception-logits"]
 */
export function wantedFeatures(metrics: MetricPlugin[], offered: FeatureName[]): FeatureName[] {
  const asked = new Set(metrics.map((m) => featureFor(m, offered)));
  return FEATURE_NAMES.filter((f) => asked.has(f));
}

/** What {@link scoreMetrics} scores. */
export interface ScoreInput {
  metrics: MetricPlugin[];
  /** The feature sets the suite offers (SuiteDef.features). */
  offered: FeatureName[];
  generated: FeatureMap;
  reference: FeatureMap;
  /** Feature name -> why it is missing (unavailable in the run, or failed on these samples). */
  missing?: Partial<Record<FeatureName, string>>;
  /** The run's seed (KID's subsets). */
  seed: number;
  /** The statistics the plugins compute with (default: metricStats()). */
  stats?: MetricStats;
}

/** The feature set a metric reads, or why it cannot run on these features. */
function featureOf(m: MetricPlugin, input: ScoreInput): FeatureName | { why: string } {
  const f = featureFor(m, input.offered);
  if (!f) {
    return {
      why: `${m.name} reads ${m.features.join(" or ")} features; this suite offers ` +
        `${input.offered.join(", ") || "none"}`,
    };
  }
  if (!input.generated[f]) return { why: input.missing?.[f] ?? `no ${f} features were computed` };
  if (m.reference !== false && !input.reference[f]) {
    const why = input.missing?.[f];
    return { why: `no reference ${f} features${why ? `: ${why}` : ""}` };
  }
  return f;
}

/**
 * Run each metric on the features: its declared figures (and their spreads) that come back
 * finite go into `metrics`; every other declared figure gets a reason in `notes` (the feature
 * was unavailable, the plugin threw, returned NaN/Infinity or left the figure out).
 * @example
 * const { metrics, notes } = await scoreMetrics({ metrics: [w2], offered: ["raw"],
 *   generated: { raw }, reference: { raw: ref }, seed: 0 });
 */
export async function scoreMetrics(input: ScoreInput): Promise<Scores> {
  const stats = input.stats ?? metricStats();
  const metrics: Record<string, number> = {};
  const notes: Record<string, string> = {};
  for (const m of input.metrics) {
    const figures = Object.keys(m.values);
    const fail = (why: string) => {
      for (const k of figures) notes[k] = why;
    };
    const feature = featureOf(m, input);
    if (typeof feature !== "string") {
      fail(feature.why);
      continue;
    }
    let out: Record<string, number>;
    try {
      out = await m.compute({
        feature,
        generated: input.generated[feature]!,
        reference: m.reference === false ? undefined : input.reference[feature],
        seed: input.seed,
        stats,
      });
      if (out === null || typeof out !== "object") {
        throw new Error(`compute returned ${out === null ? "null" : typeof out}, not an object`);
      }
    } catch (e) {
      if (isCancelled(e)) throw e;
      fail(`${m.name} failed: ${firstLine(e)}`);
      continue;
    }
    for (const [k, v] of Object.entries(m.values)) {
      const x = out[k];
      if (typeof x === "number" && Number.isFinite(x)) metrics[k] = x;
      else {
        notes[k] = x === undefined
          ? `${m.name} returned no value for ${k}`
          : `${m.name} returned ${String(x)} for ${k}`;
      }
      const s = v.spread === undefined ? undefined : out[v.spread];
      if (v.spread !== undefined && typeof s === "number" && Number.isFinite(s)) {
        metrics[v.spread] = s;
      }
    }
  }
  return Object.keys(notes).length ? { metrics, notes } : { metrics };
}

/**
 * A suite run's scorer over its feature source and the selected metric plugins: each sample set
 * goes once through every feature network the metrics need, then every metric is computed.
 * Reasons known up front (a network's weights are missing) are the scorer's `notes`.
 * @example
 * const source = await suite.featureSource({ data, config, seed, wanted });
 * const quality = metricQuality({ source, metrics, offered: Object.keys(suite.features), seed });
 * const { metrics: figures, notes } = await quality.fn(samples);
 */
export function metricQuality(
  { source, metrics, offered, seed }: {
    source: FeatureSource;
    metrics: MetricPlugin[];
    /** The feature sets the suite offers (SuiteDef.features). */
    offered: FeatureName[];
    seed: number;
  },
): Quality {
  const stats = metricStats();
  const wanted = wantedFeatures(metrics, offered);
  const upFront: Record<string, string> = {};
  for (const m of metrics) {
    const f = featureFor(m, offered);
    const why = f && source.unavailable[f];
    if (why) { for (const k of Object.keys(m.values)) upFront[k] = why; }
  }
  const computable = wanted.filter((f) => !source.unavailable[f]);
  return {
    async fn(samples, stop) {
      const { features, failed } = computable.length
        ? await source.extract(samples, { wanted: computable, stop })
        : { features: {}, failed: {} };
      return await scoreMetrics({
        metrics,
        offered,
        generated: features,
        reference: source.reference,
        missing: { ...source.unavailable, ...failed },
        seed,
        stats,
      });
    },
    ...(Object.keys(upFront).length ? { notes: upFront } : {}),
    ...(source.protocol ? { protocol: source.protocol } : {}),
    dispose: () => source.dispose(),
  };
}

/** What scoring a suite's samples needs: the suite, its metrics, the data, the config and the seed. */
export interface SuiteScoring<Data> {
  suite: SuiteDef<Data>;
  metrics: MetricPlugin[];
  data: DataSource;
  config: SuiteConfig<Data>;
  seed: number;
}

/**
 * The figures between two disjoint held-out samples of the data (one standing in for generated
 * samples): what a perfect model would score, e.g. W2's finite-sample floor. Empty for a suite
 * without `referencePair`; figures that cannot be computed are left out.
 * @example
 * const floor = await heldOutScores({ suite: SUITES.toy2d, metrics, data, config, seed: 0 }); // { w2: 0.21, precision: 0.97, ... }
 */
export async function heldOutScores<Data>(
  { suite, metrics, data, config, seed }: SuiteScoring<Data>,
): Promise<Record<string, number>> {
  if (!suite.referencePair) return {};
  const pair = await suite.referencePair(data, config);
  const offered = Object.keys(suite.features) as FeatureName[];
  return (await scoreMetrics({ metrics, offered, ...pair, seed })).metrics;
}

/**
 * The scorer of one run of a suite: the suite's feature source for the features the metrics
 * read, and the metrics over it.
 * @example
 * const quality = await suiteQuality({ suite, metrics, data, config, seed: run.seed });
 */
export async function suiteQuality<Data>(
  { suite, metrics, data, config, seed }: SuiteScoring<Data>,
): Promise<Quality> {
  const offered = Object.keys(suite.features) as FeatureName[];
  const wanted = wantedFeatures(metrics, offered);
  const source = await suite.featureSource({ data, config, seed, wanted });
  return metricQuality({ source, metrics, offered, seed });
}
