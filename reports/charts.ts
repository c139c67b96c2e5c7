// Report charts as standalone SVG strings, drawn by Observable Plot on a linkedom server-side DOM.
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import type { ResultsFile, RunRecord } from "../results/schema.ts";
import {
  clipTo,
  noiseLevel,
  noiseLevelExtent,
  noiseLevelMarks,
  offScaleCap,
  scaleNotes,
} from "./chart-guides.ts";
import { colorsFor } from "./colors.ts";
import { groupSeeds, meanSd, seedOf, seedsIn } from "./seeds.ts";
import { facetGrid, facetScales, facetTitles, nfeAxis } from "./facets.ts";
import { formatNumber, formatSetting, runsOf, seriesLabels } from "./table.ts";

/** One rendered chart: a standalone SVG plus what the HTML around it needs. */
export interface Chart {
  kind:
    | "quality-vs-nfe"
    | "training"
    | "samples"
    | "sampling-error"
    | "frontier"
    | "precision-recall"
    | "learning";
  dataset: string;
  /** Plain-text title (escape before putting it in HTML). */
  title: string;
  /** Series drawn in the chart, for the HTML legend (in legend order). */
  series: string[];
  /** Standalone SVG markup: an <svg xmlns=...> root, well-formed XML. */
  svg: string;
  /** Plain-text note shown under the chart (thinning, clipping, scales). */
  note?: string;
  /** For sample charts: the run drawn. */
  runId?: string;
}

/**
 * Categorical palette (Observable 10). Series colours come from reports/colors.ts (by name);
 * a series without one is drawn in PALETTE[0].
 * @example
 * const color = colors.get(series) ?? PALETTE[0]; // "#4269d0" for a series without a colour
 */
export const PALETTE = [
  "#4269d0",
  "#efb118",
  "#ff725c",
  "#6cc5b0",
  "#3ca951",
  "#ff8ab7",
  "#a463f2",
  "#97bbf5",
  "#9c6b4e",
  "#9498a0",
];

/**
 * Largest number of generated points drawn per sample scatter.
 * @example
 * const stride = Math.ceil(10000 / MAX_SCATTER_POINTS); // 5: every 5th of 10,000 points is drawn
 */
export const MAX_SCATTER_POINTS = 2000;
/**
 * Largest number of trajectories drawn per sample scatter.
 * @example
 * const drawn = run.samples!.trajectories!.slice(0, MAX_TRAJECTORIES); // at most 16
 */
export const MAX_TRAJECTORIES = 16;

const SVG_NS = "http://www.w3.org/2000/svg";

/** The slice of a DOM element that chart code touches (Deno has no DOM types). */
interface SvgElement {
  tagName: string;
  outerHTML: string;
  setAttribute(name: string, value: string): void;
}

// One linkedom document serves every chart; Plot only creates elements in it.
let doc: unknown;
/**
 * The shared linkedom document Plot draws into.
 * @example
 * const marks = [Plot.line(rows, { x: "step", y: "loss" })];
 * const el = Plot.plot({ document: plotDocument(), marks });
 */
// deno-lint-ignore no-explicit-any
export function plotDocument(): any {
  // deno-lint-ignore no-explicit-any
  doc ??= (parseHTML("<!doctype html><html><head></head><body></body></html>") as any).document;
  return doc;
}

/**
 * The colour of every series of a report, in legend order (results.methods order): keyed by
 * the series name (reports/colors.ts), so a method has the same colour in every report.
 * @example
 * seriesColors(results).get("OT-CFM"); // "#00d2e1"
 */
export function seriesColors(results: ResultsFile): Map<string, string> {
  const labels = seriesLabels(results);
  const order = new Map(results.methods.map((m, i) => [m.label, i]));
  const runs = [...results.runs].sort((a, b) =>
    (order.get(a.method) ?? order.size) - (order.get(b.method) ?? order.size)
  );
  return colorsFor([...new Set(runs.map((r) => labels.get(r.id) ?? r.method))]);
}

const ROUNDED_ATTRS = /\s(d|transform|cx|cy|x|y|x1|x2|y1|y2|r|width|height|points)="([^"]*)"/g;

/**
 * Rename every id="..." in an SVG string (and its url(#...)/href="#..." references) to
 * `${prefix}${k}` for k = 1, 2, ... in document order.
 * @example
 * renameSvgIds('<clipPath id="p7"/><g clip-path="url(#p7)"/>', "c");
 * // '<clipPath id="c1"/><g clip-path="url(#c1)"/>'
 */
export function renameSvgIds(svg: string, prefix: string): string {
  const ids = [...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  const names = new Map(ids.map((id, k) => [id, `${prefix}${k + 1}`]));
  return svg.replace(
    /(\sid=")([^"]+)(")|(url\(#)([^)]+)(\))|(href="#)([^"]+)(")/g,
    (m, a1, id1, z1, a2, id2, z2, a3, id3, z3) => {
      const [open, id, close] = a1 ? [a1, id1, z1] : a2 ? [a2, id2, z2] : [a3, id3, z3];
      const name = names.get(id);
      return name ? `${open}${name}${close}` : m;
    },
  );
}

/**
 * Make Plot's output standalone, compact and deterministic: xmlns on the root, coordinates
 * rounded to 0.01 px, Plot's global-counter ids renamed to clip-1, clip-2, ...
 * @example
 * const svg = finishSvg(Plot.plot({ document: plotDocument(), marks }));
 * // '<svg xmlns="http://www.w3.org/2000/svg" ...>'
 */
export function finishSvg(el: SvgElement): string {
  if (el.tagName.toLowerCase() !== "svg") {
    throw new Error(`expected Plot to return an <svg> element, got <${el.tagName}>`);
  }
  el.setAttribute("xmlns", SVG_NS);
  return renameSvgIds(el.outerHTML, "clip-").replace(
    ROUNDED_ATTRS,
    (_m: string, name: string, v: string) =>
      ` ${name}="${
        v.replace(/-?\d+\.\d{3,}(e-?\d+)?/g, (n) => String(Math.round(+n * 100) / 100))
      }"`,
  );
}

/** Tick labels as plain decimals (Plot's log default uses SI prefixes: "400m" for 0.4). */
function tick(v: number): string {
  return formatNumber(v);
}

/**
 * Log-axis ticks at 1, 2 and 5 times powers of ten covering [lo, hi] (at least two ticks).
 * @example
 * logTicks(0.3, 40); // [0.5, 1, 2, 5, 10, 20]
 */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0 && hi >= lo)) return [];
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  }
  return ticks.length >= 2 ? ticks : [];
}

function extent(values: number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)];
}

/**
 * A Plot color scale from series name to colour.
 * @example
 * Plot.plot({ color: colorScale(seriesColors(results)), marks: [] });
 */
export function colorScale(colors: Map<string, string>): { domain: string[]; range: string[] } {
  return { domain: [...colors.keys()], range: [...colors.values()] };
}

function wideRange(values: number[]): boolean {
  const pos = values.filter((v) => v > 0);
  return pos.length === values.length && pos.length > 1 &&
    Math.max(...pos) / Math.min(...pos) >= 10;
}

interface QualityPoint {
  series: string;
  solver: string;
  /** Setting entries other than steps/rtol/atol (e.g. "grid=edm"); "" for the plain sweep. */
  variant: string;
  /** One line per (series, solver, variant). */
  line: string;
  nfe: number;
  /** Mean over seeds (the one value with one seed). */
  q: number;
  /** Mean - and + one standard deviation across seeds; n = seeds with a value. */
  lo: number;
  hi: number;
  n: number;
  tip: string;
}

/** Marker shapes for setting variants, with a text glyph for the chart note. */
const SYMBOLS: Array<[string, string]> = [
  ["circle", "●"],
  ["diamond", "◆"],
  ["triangle", "▲"],
  ["square", "■"],
  ["star", "★"],
  ["cross", "✚"],
  ["times", "✖"],
  ["wye", "Y"],
];

const SWEPT = new Set(["steps", "rtol", "atol"]);

/**
 * Quality (W2 or FID) against NFE for one dataset: x = NFE on a log scale, one line per
 * series, one facet per solver. Null when no eval has both a positive NFE and the metric.
 * @example
 * const chart = qualityVsNfeChart(results, "moons"); // chart?.svg: "<svg xmlns=...>...</svg>"
 */
export function qualityVsNfeChart(
  results: ResultsFile,
  dataset: string,
  colors: Map<string, string> = seriesColors(results),
): Chart | null {
  const labels = seriesLabels(results);
  const metric = results.headline.quality;
  const name = metric === "fid" ? "FID" : "W2";
  const points: QualityPoint[] = [];
  // One point per (series, solver, setting): the mean over seeds, with its spread.
  const acc = new Map<
    string,
    {
      series: string;
      e: { solver: string; setting: Record<string, unknown> };
      q: number[];
      nfe: number[];
    }
  >();
  for (const run of runsOf(results, dataset)) {
    if (run.status !== "ok") continue;
    const series = labels.get(run.id) ?? run.method;
    for (const e of run.evals ?? []) {
      const q = e.metrics?.[metric];
      if (e.status !== "ok" || !(e.nfe > 0) || typeof q !== "number" || !Number.isFinite(q)) {
        continue;
      }
      const key = `${series}\u0000${e.solver}\u0000${JSON.stringify(e.setting ?? {})}`;
      if (!acc.has(key)) acc.set(key, { series, e, q: [], nfe: [] });
      acc.get(key)!.q.push(q);
      acc.get(key)!.nfe.push(e.nfe);
    }
  }
  for (const { series, e, q: qs, nfe: nfes } of acc.values()) {
    const { mean: q, sd, n } = meanSd(qs);
    const nfe = meanSd(nfes).mean;
    const spread = n > 1 ? ` ± ${formatNumber(sd)} (sd over ${n} seeds)` : "";
    const tip = `${series}\n${e.solver} ${
      formatSetting(e.setting as Record<string, number>)
    }\nNFE ${formatNumber(nfe)}, ${name} ${formatNumber(q)}${spread}`;
    const variant = formatSetting(
      Object.fromEntries(
        Object.entries(e.setting ?? {}).filter(([k]) => !SWEPT.has(k)),
      ) as Record<string, number>,
    );
    const line = `${series}\u0000${e.solver}\u0000${variant}`;
    points.push({
      series,
      solver: e.solver,
      variant,
      line,
      nfe,
      q,
      lo: q - sd,
      hi: q + sd,
      n,
      tip,
    });
  }
  if (points.length === 0) return null;
  // Panels in order of first appearance, the adaptive solver last.
  const adaptive = results.headline.adaptiveSolver;
  const seen = [...new Set(points.map((p) => p.solver))];
  const solvers = [...seen.filter((x) => x !== adaptive), ...seen.filter((x) => x === adaptive)];
  points.sort((a, b) => a.line.localeCompare(b.line) || a.nfe - b.nfe);
  const variants = ["", ...new Set(points.map((p) => p.variant).filter((v) => v))]
    .slice(0, SYMBOLS.length);
  const symbolOf = new Map(variants.map((v, i) => [v, SYMBOLS[i]]));
  // Off-scale values are drawn at a cap with a ▲ marker; the noise level a dashed line and band.
  const cap = offScaleCap(points.map((p) => p.q));
  const drawn = clipTo(points, cap);
  // The metric's noise level (two held-out samples), a band where its spread was recorded.
  const level = noiseLevel(results.references, dataset, metric);
  const ys = [...drawn.map((p) => p.y), ...noiseLevelExtent(level)];
  const logY = wideRange(ys);
  const grid = facetGrid(solvers);
  const nfeRange = extent(points.map((p) => p.nfe));
  const placed = drawn.map((p) => ({ ...p, ...grid.cell.get(p.solver)!, lx: Math.log2(p.nfe) }));
  // Error bars (± one sd over seeds) of the points drawn at their value, cut to the cap, and on a
  // log axis at a tenth of the mean where they would reach 0 or below.
  const bars = placed.filter((p) => !p.clipped && p.n > 1 && p.hi > p.lo).map((p) => ({
    ...p,
    lo: logY ? Math.max(p.lo, p.q / 10) : p.lo,
    hi: cap !== null ? Math.min(p.hi, cap) : p.hi,
  }));
  const el = Plot.plot({
    document: plotDocument(),
    width: Math.min(1060, 120 + 380 * grid.cols),
    height: 40 + 290 * grid.rows,
    marginLeft: 56,
    marginBottom: 40,
    marginTop: 28,
    inset: 8,
    grid: true,
    x: nfeAxis(...nfeRange),
    y: {
      type: logY ? "log" : "linear",
      label: `↑ ${name}${logY ? " (log scale)" : ""}`,
      tickFormat: tick,
      ...(logY ? { ticks: logTicks(...extent(ys)) } : {}),
    },
    ...facetScales(grid),
    color: colorScale(colors),
    symbol: { domain: SYMBOLS.map(([n]) => n), range: SYMBOLS.map(([n]) => n) },
    marks: [
      Plot.frame({ stroke: "#ccc" }),
      facetTitles(grid, (s) => s === adaptive ? `${s} (adaptive)` : s),
      // The noise band spans the panel's NFE range, drawn under everything else.
      ...noiseLevelMarks(level, [Math.log2(nfeRange[0]), Math.log2(nfeRange[1])], logY),
      Plot.line(placed.filter((p) => !p.variant), {
        x: "lx",
        y: "y",
        z: "line",
        stroke: "series",
        fx: "col",
        fy: "row",
        strokeWidth: 1.8,
      }),
      Plot.line(placed.filter((p) => p.variant), {
        x: "lx",
        y: "y",
        z: "line",
        stroke: "series",
        fx: "col",
        fy: "row",
        strokeWidth: 1.4,
        strokeDasharray: "4,3",
      }),
      Plot.ruleX(bars, {
        x: "lx",
        y1: "lo",
        y2: "hi",
        stroke: "series",
        fx: "col",
        fy: "row",
        strokeWidth: 1.2,
        strokeOpacity: 0.8,
      }),
      Plot.dot(placed.filter((p) => !p.clipped), {
        x: "lx",
        y: "y",
        fill: "series",
        symbol: (p: QualityPoint) => (symbolOf.get(p.variant) ?? SYMBOLS[0])[0],
        fx: "col",
        fy: "row",
        r: 3.2,
        title: "tip",
      }),
      Plot.dot(placed.filter((p) => p.clipped), {
        x: "lx",
        y: "y",
        fill: "series",
        stroke: "#1d2129",
        symbol: "triangle",
        fx: "col",
        fy: "row",
        r: 4.5,
        title: "tip",
      }),
    ],
  }) as unknown as SvgElement;
  const series = [...colors.keys()].filter((s) => points.some((p) => p.series === s));
  return {
    kind: "quality-vs-nfe",
    dataset,
    title: `${dataset}: ${name} vs NFE, by solver`,
    series,
    svg: finishSvg(el),
    note: [
      bars.length
        ? `Points are means over seeds; vertical bars span ± one standard deviation.`
        : "",
      ...scaleNotes({ name, logY, level, points: drawn, cap, fmt: formatNumber }),
      variants.length > 1
        ? `Markers: ● step/tolerance sweep; ${
          variants.slice(1).map((v) => `${symbolOf.get(v)![1]} ${v} (dashed)`).join("; ")
        }.`
        : "",
    ].filter((n) => n).join(" ") || undefined,
  };
}

/**
 * Training-loss curves (loss against step) of every series on one dataset; null if none.
 * @example
 * const chart = trainingChart(results, "moons"); // chart?.kind: "training"
 */
export function trainingChart(
  results: ResultsFile,
  dataset: string,
  colors: Map<string, string> = seriesColors(results),
): Chart | null {
  const labels = seriesLabels(results);
  // Per series and step: the mean loss over seeds, and a band of ± one standard deviation.
  const rows: Array<{ series: string; step: number; loss: number; lo: number; hi: number }> = [];
  let seeded = false;
  for (const runs of groupSeeds(results, runsOf(results, dataset))) {
    const series = labels.get(runs[0].id) ?? runs[0].method;
    const bySteps = new Map<number, number[]>();
    for (const run of runs) {
      for (const [step, loss] of run.train?.lossCurve ?? []) {
        if (!Number.isFinite(step) || typeof loss !== "number" || !Number.isFinite(loss)) continue;
        if (!bySteps.has(step)) bySteps.set(step, []);
        bySteps.get(step)!.push(loss);
      }
    }
    for (const [step, losses] of [...bySteps].sort((a, b) => a[0] - b[0])) {
      const { mean, sd, n } = meanSd(losses);
      if (n > 1) seeded = true;
      rows.push({ series, step, loss: mean, lo: mean - sd, hi: mean + sd });
    }
  }
  if (rows.length === 0) return null;
  const logY = wideRange(rows.map((r) => r.loss));
  if (logY) { for (const r of rows) r.lo = Math.max(r.lo, r.loss / 10); }
  const el = Plot.plot({
    document: plotDocument(),
    width: 500,
    height: 260,
    marginLeft: 56,
    grid: true,
    x: { label: "training step →" },
    y: {
      type: logY ? "log" : "linear",
      label: `↑ training loss${logY ? " (log scale)" : ""}`,
      tickFormat: tick,
      ...(logY ? { ticks: logTicks(...extent(rows.map((r) => r.loss))) } : {}),
    },
    color: colorScale(colors),
    marks: [
      Plot.frame({ stroke: "#ccc" }),
      ...(seeded
        ? [Plot.areaY(rows, { x: "step", y1: "lo", y2: "hi", fill: "series", fillOpacity: 0.18 })]
        : []),
      Plot.line(rows, { x: "step", y: "loss", stroke: "series", strokeWidth: 1.5 }),
    ],
  }) as unknown as SvgElement;
  const series = [...colors.keys()].filter((s) => rows.some((r) => r.series === s));
  return {
    kind: "training",
    dataset,
    title: `${dataset}: training loss`,
    series,
    svg: finishSvg(el),
    note: seeded ? "Lines are means over seeds; bands span ± one standard deviation." : undefined,
  };
}

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i];
}

function is2d(p: unknown): p is [number, number] {
  return Array.isArray(p) && p.length === 2 && Number.isFinite(p[0]) && Number.isFinite(p[1]);
}

/**
 * A shared square view for all sample scatters of a dataset and its held-out points (0.5-99.5%
 * quantiles, padded).
 */
function sampleDomain(
  runs: RunRecord[],
  heldOut: unknown[] = [],
): [number, number] | null {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const p of [...runs.flatMap((r) => r.samples?.points ?? []), ...heldOut]) {
    if (is2d(p)) (xs.push(p[0]), ys.push(p[1]));
  }
  if (xs.length === 0) return null;
  xs.sort((a, b) => a - b);
  ys.sort((a, b) => a - b);
  const lo = Math.min(quantile(xs, 0.005), quantile(ys, 0.005));
  const hi = Math.max(quantile(xs, 0.995), quantile(ys, 0.995));
  const pad = Math.max(0.1 * (hi - lo), 1e-3);
  return [lo - pad, hi + pad];
}

/**
 * Scatter plots of generated 2-D samples, one per run that has `samples.points`, with a few
 * sampling trajectories as grey lines (open circle = source point), after a panel of the data
 * set's held-out points (results.heldOut: the ground truth) when recorded. All share one view.
 * @example
 * const charts = sampleCharts(results, "moons"); // [held-out panel, one "samples" chart per series]
 */
export function sampleCharts(
  results: ResultsFile,
  dataset: string,
  colors: Map<string, string> = seriesColors(results),
): Chart[] {
  const labels = seriesLabels(results);
  const multiSeed = seedsIn(results).length > 1;
  // One scatter per series: the run of its lowest seed that has samples.
  const runs = groupSeeds(results, runsOf(results, dataset))
    .map((g) => g.find((r) => r.samples?.points?.some(is2d)))
    .filter((r): r is RunRecord => r !== undefined);
  const heldOut = (results.heldOut?.[dataset]?.points ?? []).filter(is2d);
  const domain = sampleDomain(runs, heldOut);
  if (!domain || !runs.length) return [];
  const truth: Chart[] = heldOut.length
    ? [{
      kind: "samples",
      dataset,
      title: "Held-out data (ground truth)",
      series: [],
      svg: scatterSvg({ pts: heldOut, trajs: [], domain, color: "#1d2129" }),
      note: `${heldOut.length} held-out test points: what every panel beside it should look like`,
    }]
    : [];
  return [
    ...truth,
    ...runs.map((run) => {
      const series = labels.get(run.id) ?? run.method;
      const all = (run.samples!.points ?? []).filter(is2d);
      const stride = Math.ceil(all.length / MAX_SCATTER_POINTS);
      const pts = all.filter((_, i) => i % stride === 0);
      const trajs = (run.samples!.trajectories ?? []).slice(0, MAX_TRAJECTORIES)
        .map((t) => (Array.isArray(t) ? t : []).filter(is2d)).filter((t) => t.length > 1);
      const color = colors.get(series) ?? PALETTE[0];
      const notes = [
        `${pts.length}${pts.length < all.length ? ` of ${all.length}` : ""} samples`,
        ...(multiSeed ? [`seed ${seedOf(results, run)}`] : []),
        trajs.length ? `${trajs.length} trajectories` : "no trajectories recorded",
      ];
      return {
        kind: "samples" as const,
        dataset,
        title: series,
        series: [series],
        svg: scatterSvg({ pts, trajs, domain, color }),
        note: notes.join(", "),
        runId: run.id,
      };
    }),
  ];
}

/** One square scatter: points in `color`, trajectories as grey lines (open circle = source). */
function scatterSvg(
  { pts, trajs, domain, color }: {
    pts: Array<[number, number]>;
    trajs: Array<Array<[number, number]>>;
    domain: [number, number];
    color: string;
  },
): string {
  const lines = trajs.flatMap((t, k) => t.map(([x, y]) => ({ x, y, k })));
  const starts = trajs.map((t) => ({ x: t[0][0], y: t[0][1] }));
  const ends = trajs.map((t) => ({ x: t[t.length - 1][0], y: t[t.length - 1][1] }));
  const el = Plot.plot({
    document: plotDocument(),
    width: 250,
    height: 250,
    marginLeft: 34,
    marginBottom: 26,
    marginTop: 8,
    marginRight: 8,
    x: { domain, label: null, ticks: 4 },
    y: { domain, label: null, ticks: 4 },
    clip: true,
    marks: [
      Plot.frame({ stroke: "#ccc" }),
      Plot.dot(pts, { x: "0", y: "1", r: 1.3, fill: color, fillOpacity: 0.55, stroke: null }),
      Plot.line(lines, {
        x: "x",
        y: "y",
        z: "k",
        stroke: "#333",
        strokeOpacity: 0.55,
        strokeWidth: 1,
      }),
      Plot.dot(starts, { x: "x", y: "y", r: 2.2, stroke: "#333", fill: "white" }),
      Plot.dot(ends, { x: "x", y: "y", r: 2.2, fill: "#333" }),
    ],
  }) as unknown as SvgElement;
  return finishSvg(el);
}
