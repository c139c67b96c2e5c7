// Metrics that no run has (e.g. FID and KID without the Inception weights): an expected n/a,
// said once in a note above the tables, never a failure row and never a long footnote per cell.
import type { ResultsFile } from "../results/schema.ts";

/** A metric that is n/a in every evaluation of every run, with the reasons given. */
export interface MissingEverywhere {
  metric: string;
  /** Successful evaluations that lack it. */
  evals: number;
  runs: number;
  reasons: string[];
}

/**
 * Metrics (the quality metric, and any metric a note explains) that no successful evaluation
 * of any run has: one grouped fact instead of one failure row per evaluation.
 * @example
 * missingEverywhere(results); // [{ metric: "fid", evals: 40, runs: 8, reasons: ["Inception weights not found ..."] }]
 */
export function missingEverywhere(results: ResultsFile): MissingEverywhere[] {
  const evals = results.runs.filter((r) => r.status === "ok")
    .flatMap((r) => (r.evals ?? []).filter((e) => e.status === "ok").map((e) => ({ r, e })));
  if (!evals.length) return [];
  const names = new Set<string>([results.headline.quality]);
  for (const { e } of evals) for (const k of Object.keys(e.notes ?? {})) names.add(k);
  const out: MissingEverywhere[] = [];
  for (const metric of names) {
    if (evals.some(({ e }) => typeof e.metrics?.[metric] === "number")) continue;
    const reasons = [
      ...new Set(
        evals.map(({ e }) =>
          e.notes?.[metric] ?? (Object.values(e.notes ?? {}).join("; ") || "no reason recorded")
        ),
      ),
    ];
    out.push({
      metric,
      evals: evals.length,
      runs: new Set(evals.map(({ r }) => r.id)).size,
      reasons,
    });
  }
  return out;
}

/**
 * Metrics no run has, those missing for the same reasons merged (FID and KID without the
 * Inception weights are one fact, not two).
 * @example
 * missingGroups(results); // [{ metrics: ["fid", "kid"], evals: 40, runs: 8, reasons: ["n/a: ..."] }]
 */
export function missingGroups(
  results: ResultsFile,
): Array<Omit<MissingEverywhere, "metric"> & { metrics: string[] }> {
  const groups = new Map<string, Omit<MissingEverywhere, "metric"> & { metrics: string[] }>();
  for (const m of missingEverywhere(results)) {
    const key = JSON.stringify([m.evals, m.runs, m.reasons]);
    const g = groups.get(key);
    if (g) g.metrics.push(m.metric);
    else groups.set(key, { metrics: [m.metric], evals: m.evals, runs: m.runs, reasons: m.reasons });
  }
  return [...groups.values()];
}
