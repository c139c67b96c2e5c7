// The comparison table's metric columns: one per figure of the metric plugins a run selected
// (results.metricInfo), each with its direction, its cells from the headline evaluation, and one
// protocol line per metric under the table.
import { headlineEval } from "../results/headline.ts";
import type { EvalRecord, MetricInfo, ResultsFile, RunRecord } from "../results/schema.ts";
import type { ColumnKey, TableColumn } from "./columns.ts";

/** A figure of a selected metric, with the metric it belongs to. */
export interface MetricFigure {
  figure: string;
  metric: string;
  info: MetricInfo;
  value: MetricInfo["values"][string];
}

/**
 * Every figure the run's metric plugins report, in metricInfo order (none for files written
 * before metrics were plugins).
 * @example
 * metricFigures(results).map((f) => f.figure); // ["w2", "precision", "recall", "density", "coverage"]
 */
export function metricFigures(results: ResultsFile): MetricFigure[] {
  return Object.entries(results.metricInfo ?? {}).flatMap(([metric, info]) =>
    Object.entries(info.values).map(([figure, value]) => ({ figure, metric, info, value }))
  );
}

/**
 * Whether the run computed a figure: any figure of a file without metricInfo that its headline
 * names (W2, or FID and KID), else a figure of a selected metric.
 * @example
 * figureSelected(results, "kid"); // true when KID was among --metrics
 */
export function figureSelected(results: ResultsFile, figure: string): boolean {
  if (!results.metricInfo) {
    return figure === results.headline.quality ||
      (figure === "kid" && results.headline.quality === "fid");
  }
  return metricFigures(results).some((f) => f.figure === figure);
}

/** The figures that get a column of their own: all but the headline quality and KID. */
function columnFigures(results: ResultsFile): MetricFigure[] {
  return metricFigures(results).filter((f) =>
    f.figure !== results.headline.quality && f.figure !== "kid"
  );
}

/**
 * The metric columns after the quality (and KID) columns, each with its direction.
 * @example
 * metricColumns(results).map((c) => [c.title, c.direction]); // [["Precision", "higher"], ...]
 */
export function metricColumns(results: ResultsFile): TableColumn[] {
  const solver = results.headline.adaptiveSolver;
  return columnFigures(results).map((f) => ({
    key: `metric:${f.figure}` as ColumnKey,
    title: f.value.title,
    sub: `${solver}${f.value.spread ? " · ± std" : ""}`,
    help: `${f.value.description} (${f.value.direction} is better; metric ${f.metric} on ` +
      `${f.info.feature} features) of the same samples as the quality column`,
    direction: f.value.direction,
  }));
}

/** A metric cell: its value, spread and tooltip, or the reason it is n/a. */
export interface MetricCell {
  value?: number;
  spread?: number;
  reason?: string;
  detail?: string;
}

/**
 * The metric cells of one run, keyed by column: the headline evaluation's figures, or n/a with
 * the reason (its note, a failed evaluation, a non-finite value).
 * @example
 * metricCells(results, run)["metric:precision"]; // { value: 0.61, detail: "dopri5 (rtol=1e-5, atol=1e-5)" }
 */
export function metricCells(
  results: ResultsFile,
  run: RunRecord,
  where: (e: EvalRecord) => string,
): Record<string, MetricCell> {
  const figures = columnFigures(results);
  const e = headlineEval(run, results.headline.adaptiveSolver);
  const out: Record<string, MetricCell> = {};
  for (const f of figures) {
    const key = `metric:${f.figure}` as ColumnKey;
    if (!e) {
      out[key] = {
        reason: `no evaluation with the adaptive solver "${results.headline.adaptiveSolver}" ` +
          `was recorded`,
      };
      continue;
    }
    const at = where(e);
    if (e.status !== "ok") {
      out[key] = { reason: `${at} failed: ${e.error ?? "no reason recorded"}` };
      continue;
    }
    const v = e.metrics?.[f.figure];
    if (typeof v === "number" && Number.isFinite(v)) {
      const s = f.value.spread === undefined ? undefined : e.metrics?.[f.value.spread];
      out[key] = {
        value: v,
        ...(typeof s === "number" && Number.isFinite(s) ? { spread: s } : {}),
        detail: at,
      };
    } else {
      out[key] = {
        reason: v === null
          ? `${f.value.title} was not finite for ${at} (null in results.json)`
          // Without the figure's name: figures missing for one reason share one footnote.
          : `not computed for ${at}: ${e.notes?.[f.figure] ?? "no reason recorded"}`,
      };
    }
  }
  return out;
}

/** A protocol value as a line shows it. */
function show(v: string | number | boolean): string {
  return typeof v === "number" ? String(v) : typeof v === "boolean" ? (v ? "yes" : "no") : v;
}

/**
 * One line per selected metric under the table: its figures and directions, the features it read
 * and how they are made, and its protocol fields.
 * @example
 * metricProtocolLines(results)[0]; // "Metric precision-recall (Precision ↑, Recall ↑): raw features ... · k 3 · ..."
 */
export function metricProtocolLines(results: ResultsFile): string[] {
  return Object.entries(results.metricInfo ?? {}).map(([name, info]) => {
    const figures = Object.values(info.values)
      .map((v) => `${v.title} ${v.direction === "higher" ? "↑" : "↓"}`).join(", ");
    const fields = Object.entries(info.protocol).map(([k, v]) => `${k} ${show(v)}`);
    return [
      `Metric ${name} (${figures}): ${info.description}`,
      `features ${info.feature}: ${info.featureDescription}`,
      ...fields,
    ].join(" · ");
  });
}
