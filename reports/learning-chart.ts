// The learning-curve chart: per data set, the held-out NLL (or the sample metric) of each method's
// probes against training step (log x), the data's optimum as a dashed line when known, and a
// ring on the last point of every method the convergence rule finds still improving.
import * as Plot from "@observablehq/plot";
import type { ResultsFile } from "../results/schema.ts";
import { CONVERGENCE_RULE, optimumNats } from "../results/convergence.ts";
import { changeText, seriesConvergence } from "./convergence-note.ts";
import { clipTo } from "./chart-guides.ts";
import {
  type Chart,
  colorScale,
  finishSvg,
  logTicks,
  plotDocument,
  seriesColors,
} from "./charts.ts";
import { meanSd } from "./seeds.ts";
import { formatNumber } from "./table.ts";

interface Row {
  series: string;
  step: number;
  q: number;
  tip: string;
}

/**
 * Held-out NLL (`metric` "nll") or a sample metric (e.g. "w2") of every series' learning-curve
 * probes against training step (log x; the mean over seeds), with the optimum NLL dashed when
 * the results record it and a ring on the last point of each series that is not converged. Null
 * when no run of the data set has a learning curve.
 * @example
 * const chart = learningChart(results, "moons", "nll"); // chart?.kind: "learning"
 */
export function learningChart(
  results: ResultsFile,
  dataset: string,
  metric: string,
  colors: Map<string, string> = seriesColors(results),
): Chart | null {
  const isNll = metric === "nll";
  const name = isNll ? "NLL (nats)" : metric.toUpperCase();
  const verdicts = seriesConvergence(results, dataset);
  const rows: Row[] = [];
  for (const v of verdicts) {
    const bySteps = new Map<number, number[]>();
    for (const run of v.runs) {
      for (const p of run.train!.learningCurve!) {
        const q = isNll ? p.nll : p.metrics[metric];
        if (typeof q !== "number" || !Number.isFinite(q)) continue;
        if (!bySteps.has(p.step)) bySteps.set(p.step, []);
        bySteps.get(p.step)!.push(q);
      }
    }
    for (const [step, qs] of [...bySteps].sort((a, b) => a[0] - b[0])) {
      const { mean, n } = meanSd(qs);
      rows.push({
        series: v.series,
        step,
        q: mean,
        tip: `${v.series}\nstep ${step}: ${name} ${formatNumber(mean)}${
          n > 1 ? ` (mean over ${n} seeds)` : ""
        }`,
      });
    }
  }
  if (!rows.length) return null;
  const optimum = isNll ? optimumNats(results, dataset) : undefined;
  const cap = curveCap(rows.map((r) => r.q), optimum);
  const pts = clipTo(rows, cap);
  const open = new Set(verdicts.filter((v) => v.converged === false).map((v) => v.series));
  const lastOf = new Map<string, (typeof pts)[number]>();
  for (const p of pts) lastOf.set(p.series, p);
  const rings = [...lastOf.values()].filter((p) => open.has(p.series));
  const xs = pts.map((p) => p.step);
  const el = Plot.plot({
    document: plotDocument(),
    width: 500,
    height: 280,
    marginLeft: 56,
    marginBottom: 40,
    inset: 8,
    grid: true,
    x: {
      type: "log",
      label: "training step (log scale) →",
      tickFormat: formatNumber,
      ticks: logTicks(Math.min(...xs), Math.max(...xs)),
    },
    y: { label: `↑ ${name}${isNll ? " of held-out points" : ""}`, tickFormat: formatNumber },
    color: colorScale(colors),
    marks: [
      Plot.frame({ stroke: "#ccc" }),
      ...(optimum !== undefined
        ? [Plot.ruleY([optimum], { stroke: "#444", strokeDasharray: "5,4" })]
        : []),
      Plot.line(pts, { x: "step", y: "y", stroke: "series", strokeWidth: 1.6 }),
      Plot.dot(pts, { x: "step", y: "y", fill: "series", r: 2.5, title: "tip" }),
      Plot.dot(rings, { x: "step", y: "y", stroke: "series", r: 7, strokeWidth: 1.8 }),
    ],
  }) as unknown as Parameters<typeof finishSvg>[0];
  const series = [...colors.keys()].filter((s) => rows.some((r) => r.series === s));
  return {
    kind: "learning",
    dataset,
    title: `${dataset}: ${name} during training`,
    series,
    svg: finishSvg(el),
    note: [
      probeText(results, isNll ? "nll" : metric),
      optimum !== undefined
        ? `Dashed line: the data's optimum, its entropy ${optimum.toFixed(3)} nats.`
        : "",
      rings.length && !isNll
        ? "Ringed last point: not converged by the NLL rule (see the NLL chart)."
        : rings.length
        ? `Ringed last point: ${CONVERGENCE_RULE}. Not converged: ${
          verdicts.filter((v) => v.converged === false)
            .map((v) => `${v.series} ${changeText(v.detail)}`).join("; ")
        }.`
        : "",
      cap !== null ? `Values above ${formatNumber(cap)} are drawn at the top edge.` : "",
    ].filter((s) => s).join(" "),
  };
}

/**
 * The y-axis cap of a learning chart: 1.5 times the upper quartile of its values (above the
 * optimum, when drawn), when some value lies above it. The first probes of an untrained model
 * can be orders of magnitude off (FM w/ ve-diffusion: 5e4 nats at step 20); what the chart is for
 * is the end of the curves.
 */
function curveCap(values: number[], floor = 0): number | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length < 4) return null;
  const q3 = v[Math.floor(0.75 * (v.length - 1))];
  const cap = floor + 1.5 * Math.max(q3 - floor, 0);
  return v[v.length - 1] > cap && cap > v[0] ? cap : null;
}

/** How the probe measured, from the run's config (eval.curve). */
function probeText(results: ResultsFile, metric: string): string {
  const cfg = results.manifest.config as { eval?: { curve?: Record<string, unknown> } };
  const c = cfg.eval?.curve;
  const solver = results.headline.adaptiveSolver;
  if (!c) return "";
  const tol = `${solver} at rtol ${c.rtol}, atol ${c.atol}`;
  return metric === "nll"
    ? `Each point: the exact-divergence NLL of the same ${c.n} held-out points (${tol}).`
    : `Each point: ${metric.toUpperCase()} of ${c.n} samples from one fixed noise batch ` +
      `(${tol}) against ${c.n} held-out points.`;
}
