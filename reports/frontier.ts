// The low-NFE frontier: per data set and method, the best quality reached within each NFE budget
// over every solver setting (the Pareto front of W2 or FID against NFE), for the chart and table.
import type { ResultsFile, SolverSetting } from "../results/schema.ts";
import { meanSd } from "./seeds.ts";
import { runsOf, seriesLabels } from "./table.ts";

/**
 * The NFE budgets the terminal table reports (best quality at or under each).
 * @example
 * FRONTIER_BUDGETS; // [1, 2, 4, 10]
 */
export const FRONTIER_BUDGETS: readonly number[] = [1, 2, 4, 10];

/** One solver setting of one series: its quality (mean over seeds) at its NFE (mean too). */
export interface FrontierPoint {
  series: string;
  solver: string;
  setting: SolverSetting;
  nfe: number;
  /** The headline quality metric (W2 or FID), lower is better. */
  q: number;
  /** Seeds averaged. */
  seeds: number;
}

/** A series' settings and the Pareto front among them. */
export interface FrontierSeries {
  series: string;
  points: FrontierPoint[];
  /** By increasing NFE, each strictly better than every point before it. */
  front: FrontierPoint[];
}

/**
 * The Pareto front of quality (lower is better) against NFE: the points, by increasing NFE, that
 * are strictly better than every point at a smaller or equal NFE. Of points with equal NFE only
 * the best can be on it (the first listed, on a tie); points without a finite quality or a
 * positive NFE are left out.
 * @example
 * paretoFront([{ nfe: 4, q: 1 }, { nfe: 2, q: 3 }, { nfe: 8, q: 2 }, { nfe: 16, q: 0.5 }]);
 * // [{ nfe: 2, q: 3 }, { nfe: 4, q: 1 }, { nfe: 16, q: 0.5 }]
 */
export function paretoFront<T extends { nfe: number; q: number }>(points: readonly T[]): T[] {
  const ok = points.filter((p) => p.nfe > 0 && Number.isFinite(p.nfe) && Number.isFinite(p.q));
  const sorted = ok.map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.nfe - b.p.nfe || a.p.q - b.p.q || a.i - b.i)
    .map(({ p }) => p);
  const front: T[] = [];
  for (const p of sorted) if (!front.length || p.q < front[front.length - 1].q) front.push(p);
  return front;
}

/**
 * The best point of a front at or under an NFE budget (the last one not over it), or undefined
 * when every point needs more.
 * @example
 * bestWithin(paretoFront(points), 4); // the best quality any setting reaches in at most 4 NFE
 */
export function bestWithin<T extends { nfe: number }>(
  front: readonly T[],
  budget: number,
): T | undefined {
  let best: T | undefined;
  for (const p of front) if (p.nfe <= budget) best = p;
  return best;
}

/**
 * Every series of a data set with its solver settings and their front: each (solver, setting)
 * is one point, the mean quality and mean NFE over the seeds that evaluated it successfully.
 * Series follow results.methods; series without a point are left out.
 * @example
 * frontierSeries(results, "moons")[0].front.map((p) => [p.solver, p.nfe, p.q]);
 */
export function frontierSeries(results: ResultsFile, dataset: string): FrontierSeries[] {
  const metric = results.headline.quality;
  const labels = seriesLabels(results);
  const acc = new Map<
    string,
    Map<string, { solver: string; setting: SolverSetting; q: number[]; nfe: number[] }>
  >();
  for (const run of runsOf(results, dataset)) {
    if (run.status !== "ok") continue;
    const series = labels.get(run.id) ?? run.method;
    if (!acc.has(series)) acc.set(series, new Map());
    for (const e of run.evals ?? []) {
      const q = e.metrics?.[metric];
      if (e.status !== "ok" || !(e.nfe > 0) || typeof q !== "number" || !Number.isFinite(q)) {
        continue;
      }
      const key = `${e.solver}\u0000${JSON.stringify(e.setting ?? {})}`;
      const settings = acc.get(series)!;
      if (!settings.has(key)) {
        settings.set(key, { solver: e.solver, setting: e.setting, q: [], nfe: [] });
      }
      settings.get(key)!.q.push(q);
      settings.get(key)!.nfe.push(e.nfe);
    }
  }
  const out: FrontierSeries[] = [];
  for (const [series, settings] of acc) {
    const points = [...settings.values()].map(({ solver, setting, q, nfe }) => ({
      series,
      solver,
      setting,
      nfe: meanSd(nfe).mean,
      q: meanSd(q).mean,
      seeds: q.length,
    }));
    if (points.length) out.push({ series, points, front: paretoFront(points) });
  }
  return out;
}
