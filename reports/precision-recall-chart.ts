// Precision against recall for one data set: one point per method (the table's evaluation, mean ±
// sd over seeds), the held-out data against itself where the suite measured it, and no published
// point unless a paper gives one (none is known for these recipes).
import * as Plot from "@observablehq/plot";
import { headlineEval } from "../results/headline.ts";
import type { ResultsFile } from "../results/schema.ts";
import { type Chart, colorScale, finishSvg, plotDocument, seriesColors } from "./charts.ts";
import { figureSelected, metricFigures } from "./metric-columns.ts";
import { groupSeeds, meanSd } from "./seeds.ts";
import { formatNumber, runsOf, seriesLabels } from "./table.ts";

interface PrPoint {
  series: string;
  recall: number;
  precision: number;
  /** Standard deviations over seeds (0 with one seed). */
  sdRecall: number;
  sdPrecision: number;
  tip: string;
}

/**
 * Published (recall, precision) points per suite and data set, with their source. None is known
 * for the flow-matching recipes fmbench trains (their papers report FID), so the chart says so.
 * @example
 * PUBLISHED_PRECISION_RECALL["cifar10"]?.["cifar10"] ?? []; // []
 */
export const PUBLISHED_PRECISION_RECALL: Record<
  string,
  Record<string, Array<{ method: string; precision: number; recall: number; source: string }>>
> = {};

/**
 * Precision (y) against recall (x) for one data set, both on [0, 1]: upper right is better.
 * Null when the run did not compute precision/recall or no evaluation has both.
 * @example
 * const chart = precisionRecallChart(results, "moons"); // chart?.kind: "precision-recall"
 */
export function precisionRecallChart(
  results: ResultsFile,
  dataset: string,
  colors: Map<string, string> = seriesColors(results),
): Chart | null {
  if (!figureSelected(results, "precision") || !figureSelected(results, "recall")) return null;
  const labels = seriesLabels(results);
  const solver = results.headline.adaptiveSolver;
  const points: PrPoint[] = [];
  for (const group of groupSeeds(results, runsOf(results, dataset))) {
    const pairs = group.flatMap((run) => {
      const e = run.status === "ok" ? headlineEval(run, solver) : undefined;
      const [p, r] = [e?.metrics?.precision, e?.metrics?.recall];
      return e?.status === "ok" && typeof p === "number" && typeof r === "number" ? [[p, r]] : [];
    });
    if (!pairs.length) continue;
    const series = labels.get(group[0].id) ?? group[0].method;
    const p = meanSd(pairs.map(([x]) => x)), r = meanSd(pairs.map(([, y]) => y));
    const over = pairs.length > 1 ? ` (mean ± sd over ${pairs.length} seeds)` : "";
    points.push({
      series,
      precision: p.mean,
      recall: r.mean,
      sdPrecision: p.sd,
      sdRecall: r.sd,
      tip: `${series}\nprecision ${formatNumber(p.mean)}, recall ${formatNumber(r.mean)}${over}`,
    });
  }
  if (!points.length) return null;
  const ref = results.references?.[dataset];
  const held = typeof ref?.precision === "number" && typeof ref?.recall === "number"
    ? [{ precision: ref.precision, recall: ref.recall }]
    : [];
  const published = PUBLISHED_PRECISION_RECALL[results.suite]?.[dataset] ?? [];
  const bars = points.filter((p) => p.sdPrecision > 0 || p.sdRecall > 0);
  const el = Plot.plot({
    document: plotDocument(),
    width: 520,
    height: 420,
    marginLeft: 52,
    marginBottom: 42,
    grid: true,
    x: { domain: [0, 1], label: "recall (diversity) →" },
    y: { domain: [0, 1], label: "↑ precision (fidelity)" },
    color: colorScale(colors),
    marks: [
      Plot.frame({ stroke: "#ccc" }),
      Plot.ruleY(bars, {
        y: "precision",
        x1: (p: PrPoint) => Math.max(0, p.recall - p.sdRecall),
        x2: (p: PrPoint) => Math.min(1, p.recall + p.sdRecall),
        stroke: "series",
      }),
      Plot.ruleX(bars, {
        x: "recall",
        y1: (p: PrPoint) => Math.max(0, p.precision - p.sdPrecision),
        y2: (p: PrPoint) => Math.min(1, p.precision + p.sdPrecision),
        stroke: "series",
      }),
      Plot.dot(held, {
        x: "recall",
        y: "precision",
        symbol: "diamond",
        r: 6,
        stroke: "#333",
        title: () => "held-out data against itself",
      }),
      Plot.dot(published, {
        x: "recall",
        y: "precision",
        symbol: "square",
        r: 5,
        stroke: "#777",
        title: (p: { method: string; source: string }) => `${p.method} (published, ${p.source})`,
      }),
      Plot.dot(points, { x: "recall", y: "precision", fill: "series", r: 5, title: "tip" }),
      Plot.text(points, {
        x: "recall",
        y: "precision",
        text: "series",
        dx: 8,
        textAnchor: "start",
        fontSize: 10,
        fill: "#444",
      }),
    ],
  }) as unknown as Parameters<typeof finishSvg>[0];
  const metric = metricFigures(results).find((f) => f.figure === "precision");
  const feature = metric ? ` on ${metric.info.feature} features` : "";
  const k = metric?.info.protocol.k;
  return {
    kind: "precision-recall",
    dataset,
    title: `${dataset}: precision vs recall, by method`,
    series: [...colors.keys()].filter((s) => points.some((p) => p.series === s)),
    svg: finishSvg(el),
    note: [
      `Improved precision (the share of samples inside the data's k-NN balls: fidelity) and ` +
      `recall (the share of data inside the samples' balls: diversity)${
        k === undefined ? "" : `, k = ${k}`
      }${feature}, of the samples the table scores (${solver} at its tightest tolerance); ` +
      `upper right is better.`,
      points.some((p) => p.sdPrecision > 0 || p.sdRecall > 0)
        ? "Bars: ± one standard deviation over seeds."
        : "",
      held.length ? "◇ the held-out data against itself (what a perfect model would score)." : "",
      published.length
        ? "□ published points."
        : `No published precision/recall is known for these recipes on ${dataset}, so none is ` +
          `drawn.`,
    ].filter((s) => s).join(" "),
  };
}
