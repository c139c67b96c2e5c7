// Which metric plugins a suite run computes: those --metrics names (checked against the suite's
// features), else the suite's defaults; and how the results file records them (metricInfo).
import type { FeatureName, MetricPlugin } from "../core/types.ts";
import type { MetricInfo } from "../results/schema.ts";
import { featureFor } from "./metric-quality.ts";
import { type Registry, UnknownNameError } from "./registry.ts";
import type { SuiteConfig, SuiteDef } from "./suites/types.ts";

/** The built-in metrics in the order their columns read best; others follow by name. */
const COLUMN_ORDER = [
  "w2",
  "fid",
  "kid",
  "precision-recall",
  "density-coverage",
  "inception-score",
  "fd-dinov2",
];

/** The feature sets a suite offers. */
function offered(suite: SuiteDef): FeatureName[] {
  return Object.keys(suite.features) as FeatureName[];
}

/**
 * The metrics that can run in a suite (one of their feature sets is offered), the built-in ones
 * in column order, then the others by name.
 * @example
 * availableMetrics(registry, SUITES.toy2d).map((m) => m.name); // ["w2", "precision-recall", "density-coverage"]
 */
export function availableMetrics(reg: Registry, suite: SuiteDef): MetricPlugin[] {
  const rank = (n: string) => {
    const i = COLUMN_ORDER.indexOf(n);
    return i < 0 ? COLUMN_ORDER.length : i;
  };
  return [...reg.metrics.values()].filter((m) => featureFor(m, offered(suite)))
    .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

/**
 * The metrics a run of the suite computes unless --metrics says otherwise: every available one
 * except those computed only when named (FD-DINOv2: a CPU takes seconds per image).
 * @example
 * defaultMetrics(registry, SUITES.cifar10); // ["fid", "kid", "precision-recall", "density-coverage", "inception-score"]
 */
export function defaultMetrics(reg: Registry, suite: SuiteDef): string[] {
  return availableMetrics(reg, suite).filter((m) => !m.onlyWhenNamed).map((m) => m.name);
}

/**
 * The --metrics list checked: every name a loaded metric plugin whose features the suite offers,
 * and no figure reported by two of them. Absent list: the suite's defaults. Throws
 * UnknownNameError (the CLI exits 2) naming the valid metrics.
 * @example
 * resolveMetricNames(registry, SUITES.toy2d, ["w2", "precision-recall"]); // ["w2", "precision-recall"]
 * resolveMetricNames(registry, SUITES.toy2d, ["fid"]); // throws: fid reads inception-pool3 ...
 */
export function resolveMetricNames(
  reg: Registry,
  suite: SuiteDef,
  names: string[] | undefined,
): string[] {
  const valid = availableMetrics(reg, suite).map((m) => m.name);
  const chosen = names === undefined ? defaultMetrics(reg, suite) : [...new Set(names)];
  const figures = new Map<string, string>();
  for (const name of chosen) {
    const m = reg.metrics.get(name);
    if (!m) throw new UnknownNameError("metric", name, valid);
    if (!valid.includes(name)) {
      throw new UnknownNameError(
        "metric",
        name,
        valid,
        `metric "${name}" reads ${m.features.join(" or ")} features, which suite ${suite.name} ` +
          `does not offer (it offers ${offered(suite).join(", ")}); valid for ${suite.name}: ` +
          `${valid.join(", ")}`,
      );
    }
    for (
      const k of [
        ...Object.keys(m.values),
        ...Object.values(m.values).flatMap((v) => v.spread ?? []),
      ]
    ) {
      const other = figures.get(k);
      if (other) {
        throw new UnknownNameError(
          "metric",
          name,
          valid,
          `metrics "${other}" and "${name}" both report "${k}"; select one of them`,
        );
      }
      figures.set(k, name);
    }
  }
  return chosen;
}

/**
 * The metric plugins of a run's config (its `metrics`, else the suite's defaults), in that order.
 * @example
 * selectedMetrics(registry, SUITES.toy2d, config).map((m) => m.name); // ["w2", "precision-recall", "density-coverage"]
 */
export function selectedMetrics(
  reg: Registry,
  suite: SuiteDef,
  cfg: Pick<SuiteConfig, "metrics">,
): MetricPlugin[] {
  return resolveMetricNames(reg, suite, cfg.metrics).map((n) => reg.metrics.get(n)!);
}

/**
 * What the results file records of each selected metric: figures and directions, the feature
 * set it read in this suite and how that is made, its protocol.
 * @example
 * metricInfo(registry, SUITES.toy2d, config)["precision-recall"].values.precision.direction; // "higher"
 */
export function metricInfo(
  reg: Registry,
  suite: SuiteDef,
  cfg: Pick<SuiteConfig, "metrics">,
): Record<string, MetricInfo> {
  return Object.fromEntries(
    selectedMetrics(reg, suite, cfg).map((m) => {
      const feature = featureFor(m, offered(suite))!;
      return [m.name, {
        description: m.description,
        feature,
        featureDescription: suite.features[feature] ?? feature,
        values: m.values,
        protocol: m.protocol,
      }];
    }),
  );
}
