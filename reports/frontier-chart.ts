// The frontier chart: per data set, each method's best quality within an NFE budget over every
// solver (its Pareto front, a step line), with the solver and setting of each point on hover.
import * as Plot from "@observablehq/plot";
import type { ResultsFile } from "../results/schema.ts";
import {
  clipTo,
  noiseLevel,
  noiseLevelExtent,
  noiseLevelMarks,
  offScaleCap,
  scaleNotes,
} from "./chart-guides.ts";
import {
  type Chart,
  colorScale,
  finishSvg,
  logTicks,
  plotDocument,
  seriesColors,
} from "./charts.ts";
import { type FrontierPoint, frontierSeries } from "./frontier.ts";
import { formatNumber, formatSetting } from "./table.ts";

/**
 * One line per series through its Pareto front of quality against NFE (x log scale): at each NFE,
 * the best W2 or FID any solver setting reached with at most that many evaluations, held flat
 * until a better point (step line), drawn on to the largest NFE of the chart. Each front point is
 * a dot whose hover text (an SVG title) names the solver, its setting, NFE and quality. Null when
 * no series has a point.
 * @example
 * const chart = frontierChart(results, "moons"); // chart?.kind: "frontier"
 */
export function frontierChart(
  results: ResultsFile,
  dataset: string,
  colors: Map<string, string> = seriesColors(results),
): Chart | null {
  const metric = results.headline.quality;
  const name = metric === "fid" ? "FID" : "W2";
  const all = frontierSeries(results, dataset);
  if (!all.length) return null;
  const front = all.flatMap((s) => s.front);
  const maxNfe = Math.max(...all.flatMap((s) => s.points.map((p) => p.nfe)));
  const minNfe = Math.min(...front.map((p) => p.nfe));
  const tip = (p: FrontierPoint) =>
    `${p.series}\nbest within ${formatNumber(p.nfe)} NFE: ${name} ${formatNumber(p.q)}\n` +
    `${p.solver} ${formatSetting(p.setting)}${p.seeds > 1 ? ` (mean over ${p.seeds} seeds)` : ""}`;
  const cap = offScaleCap(front.map((p) => p.q));
  const dots = clipTo(front.map((p) => ({ ...p, tip: tip(p) })), cap);
  // The step line: each front point, then the last held to the chart's largest NFE.
  const steps = all.flatMap(({ series, front: f }) => {
    const last = f[f.length - 1];
    return [...f, ...(last.nfe < maxNfe ? [{ ...last, nfe: maxNfe }] : [])]
      .map((p) => ({ series, nfe: p.nfe, y: cap !== null ? Math.min(p.q, cap) : p.q }));
  });
  const level = noiseLevel(results.references, dataset, metric);
  const ys = [...dots.map((p) => p.y), ...noiseLevelExtent(level)];
  const logY = ys.every((y) => y > 0) && Math.max(...ys) / Math.min(...ys) >= 10;
  const el = Plot.plot({
    document: plotDocument(),
    width: 640,
    height: 340,
    marginLeft: 56,
    marginBottom: 40,
    inset: 8,
    grid: true,
    x: {
      type: "log",
      label: "NFE budget (log scale) →",
      tickFormat: formatNumber,
      ticks: logTicks(minNfe, maxNfe),
    },
    y: {
      type: logY ? "log" : "linear",
      label: `↑ best ${name}${logY ? " (log scale)" : ""}`,
      tickFormat: formatNumber,
      ...(logY ? { ticks: logTicks(Math.min(...ys), Math.max(...ys)) } : {}),
    },
    color: colorScale(colors),
    marks: [
      Plot.frame({ stroke: "#ccc" }),
      ...noiseLevelMarks(level, [minNfe, maxNfe], logY),
      Plot.line(steps, {
        x: "nfe",
        y: "y",
        z: "series",
        stroke: "series",
        curve: "step-after",
        strokeWidth: 1.8,
      }),
      Plot.dot(dots.filter((p) => !p.clipped), {
        x: "nfe",
        y: "y",
        fill: "series",
        r: 3.4,
        title: "tip",
      }),
      Plot.dot(dots.filter((p) => p.clipped), {
        x: "nfe",
        y: "y",
        fill: "series",
        stroke: "#1d2129",
        symbol: "triangle",
        r: 4.5,
        title: "tip",
      }),
    ],
  }) as unknown as Parameters<typeof finishSvg>[0];
  const series = [...colors.keys()].filter((s) => all.some((x) => x.series === s));
  return {
    kind: "frontier",
    dataset,
    title: `${dataset}: best ${name} within an NFE budget, over all solvers`,
    series,
    svg: finishSvg(el),
    note: [
      `Each line is a method's Pareto front: at each NFE budget, the lowest ${name} of any ` +
      `solver setting that used at most that many evaluations (a setting's value is its mean ` +
      `over seeds, its NFE the mean count). Dots are the settings on the front; hover one for ` +
      `the solver and setting that reached it.`,
      ...scaleNotes({ name, logY, level, points: dots, cap, fmt: formatNumber }),
    ].filter((n) => n).join(" "),
  };
}
