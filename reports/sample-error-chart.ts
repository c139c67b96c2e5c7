// Sampling error against NFE (Lipman et al. Fig. 7): each fixed-step setting's mean squared
// distance per dimension to the reference solve from the same noise, log-log, one panel per solver.
import * as Plot from "@observablehq/plot";
import type { ResultsFile, SolverSetting } from "../results/schema.ts";
import {
  type Chart,
  colorScale,
  finishSvg,
  logTicks,
  plotDocument,
  seriesColors,
} from "./charts.ts";
import { facetGrid, facetScales, facetTitles, nfeAxis } from "./facets.ts";
import { meanSd } from "./seeds.ts";
import { formatNumber, formatSetting, runsOf, seriesLabels } from "./table.ts";

interface ErrorPoint {
  series: string;
  solver: string;
  line: string;
  /** Setting entries other than steps (e.g. "grid=edm"); "" for the uniform sweep. */
  variant: string;
  nfe: number;
  mse: number;
  tip: string;
}

/**
 * Log ticks: 1-2-5 steps over a few decades, powers of ten (at most ~8) over many.
 * @example
 * errorTicks(0.01, 1); // [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]
 * errorTicks(1e-8, 1); // [1e-8, 0.000001, 0.0001, 0.01, 1]
 */
export function errorTicks(lo: number, hi: number): number[] {
  if (!(lo > 0 && hi >= lo)) return [];
  const decades = Math.log10(hi / lo);
  if (decades <= 3) return logTicks(lo, hi);
  const step = Math.ceil((decades + 1) / 8);
  const out: number[] = [];
  for (let e = Math.ceil(Math.log10(lo)); e <= Math.floor(Math.log10(hi)); e += step) {
    out.push(Number((10 ** e).toPrecision(12)));
  }
  return out;
}

/**
 * Log-log chart of the sampling error (MSE per dimension against the reference solution) by
 * NFE for one data set: one panel per fixed-step solver, one line per series. Null when no
 * evaluation has a positive error.
 * @example
 * const chart = sampleErrorChart(results, "moons"); // chart?.kind: "sampling-error"
 */
export function sampleErrorChart(
  results: ResultsFile,
  dataset: string,
  colors: Map<string, string> = seriesColors(results),
): Chart | null {
  const labels = seriesLabels(results);
  const points: ErrorPoint[] = [];
  const references = new Set<string>();
  let zero = 0;
  // One point per (series, solver, setting): the mean over seeds (fixed-step NFE is the same).
  const acc = new Map<
    string,
    { series: string; solver: string; setting: SolverSetting; mse: number[] }
  >();
  const nfeOf = new Map<string, number>();
  for (const run of runsOf(results, dataset)) {
    if (run.status !== "ok") continue;
    const series = labels.get(run.id) ?? run.method;
    for (const e of run.evals ?? []) {
      const err = e.sampleError;
      if (e.status !== "ok" || !err || !(e.nfe > 0)) continue;
      if (typeof err.mse !== "number") continue; // absent (reference failed) or null (NaN)
      if (!(err.mse > 0 && Number.isFinite(err.mse))) {
        zero++;
        continue;
      }
      references.add(`${err.reference.solver} (${formatSetting(err.reference.setting)})`);
      const key = `${series}\u0000${e.solver}\u0000${JSON.stringify(e.setting ?? {})}`;
      if (!acc.has(key)) {
        acc.set(key, { series, solver: e.solver, setting: e.setting ?? {}, mse: [] });
      }
      acc.get(key)!.mse.push(err.mse);
      nfeOf.set(key, e.nfe);
    }
  }
  for (const [key, { series, solver, setting, mse: all }] of acc) {
    const { mean: mse, n } = meanSd(all);
    const nfe = nfeOf.get(key)!;
    const variant = formatSetting(
      Object.fromEntries(Object.entries(setting).filter(([k]) => k !== "steps")),
    );
    points.push({
      series,
      solver,
      variant,
      line: `${series}\u0000${solver}\u0000${variant}`,
      nfe,
      mse,
      tip: `${series}\n${solver} ${formatSetting(setting)}\nNFE ${nfe}, MSE ${formatNumber(mse)}${
        n > 1 ? ` (mean over ${n} seeds)` : ""
      }`,
    });
  }
  if (points.length === 0) return null;
  const solvers = [...new Set(points.map((p) => p.solver))];
  points.sort((a, b) => a.line.localeCompare(b.line) || a.nfe - b.nfe);
  const xs = points.map((p) => p.nfe), ys = points.map((p) => p.mse);
  const grid = facetGrid(solvers);
  const placed = points.map((p) => ({ ...p, ...grid.cell.get(p.solver)!, lx: Math.log2(p.nfe) }));
  const el = Plot.plot({
    document: plotDocument(),
    width: Math.min(1060, 120 + 330 * grid.cols),
    height: 40 + 270 * grid.rows,
    marginLeft: 60,
    marginBottom: 40,
    marginTop: 28,
    inset: 8,
    grid: true,
    x: nfeAxis(Math.min(...xs), Math.max(...xs)),
    y: {
      type: "log",
      label: "↑ MSE per dimension to the reference (log scale)",
      tickFormat: formatNumber,
      ticks: errorTicks(Math.min(...ys), Math.max(...ys)),
    },
    ...facetScales(grid),
    color: colorScale(colors),
    marks: [
      Plot.frame({ stroke: "#ccc" }),
      facetTitles(grid, (s) => s),
      Plot.line(placed.filter((p) => !p.variant), {
        x: "lx",
        y: "mse",
        z: "line",
        stroke: "series",
        fx: "col",
        fy: "row",
        strokeWidth: 1.8,
      }),
      Plot.dot(placed, {
        x: "lx",
        y: "mse",
        fill: "series",
        symbol: (p: ErrorPoint) => (p.variant ? "diamond" : "circle"),
        fx: "col",
        fy: "row",
        r: 3,
        title: "tip",
      }),
    ],
  }) as unknown as Parameters<typeof finishSvg>[0];
  const series = [...colors.keys()].filter((s) => points.some((p) => p.series === s));
  const variants = [...new Set(points.map((p) => p.variant).filter((v) => v))];
  return {
    kind: "sampling-error",
    dataset,
    title: `${dataset}: sampling error vs NFE, by fixed-step solver`,
    series,
    svg: finishSvg(el),
    note: [
      `Mean squared distance per dimension between each setting's samples and the reference ` +
      `solution from the same noise: ${[...references].join("; ")}. Its own error is the floor.`,
      variants.length ? `◆ = ${variants.join(", ")} (not joined).` : "",
      zero ? `${zero} setting(s) with zero error not drawn (log scale).` : "",
    ].filter((n) => n).join(" "),
  };
}
