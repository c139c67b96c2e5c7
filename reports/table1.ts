// Lipman et al. Table 1's shape for the cifar10 comparison: its row order (then the other
// methods) and the bits/dim column labelled with the number of dequantisation samples K.
import type { ResultsFile } from "../results/schema.ts";
import { headlineNll } from "../results/headline.ts";

/**
 * Table 1's rows, as fmbench labels them (DDPM is fmbench's "DDPM-style").
 * @example
 * TABLE1_ORDER.indexOf("FM w/ OT"); // 4: the last of Table 1's rows
 */
export const TABLE1_ORDER = [
  "DDPM-style",
  "Score Matching",
  "ScoreFlow",
  "FM w/ Diffusion",
  "FM w/ OT",
];

/**
 * Suites whose comparison table follows Table 1's order (image suites with bits/dim).
 * @example
 * followsTable1(results); // true for a cifar10 run, false for toy2d
 */
export function followsTable1(results: ResultsFile): boolean {
  return results.suite === "cifar10";
}

/**
 * Rows in Table 1's order; every other method after them in its given order (stable).
 * @example
 * table1Order([{ methodLabel: "FM w/ OT" }, { methodLabel: "1-RF" }, { methodLabel: "DDPM-style" }]);
 * // DDPM-style, FM w/ OT, 1-RF
 */
export function table1Order<T extends { methodLabel: string }>(rows: T[]): T[] {
  const rank = (r: T) => {
    const i = TABLE1_ORDER.indexOf(r.methodLabel);
    return i < 0 ? TABLE1_ORDER.length : i;
  };
  return rows.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i)
    .map(({ r }) => r);
}

/**
 * The dequantisation samples K behind the bits/dim figures of a data set's runs: one number when
 * they agree, "varies" otherwise; records without the field used one sample (K = 1).
 * @example
 * dequantSamples(results, "cifar10"); // 20
 */
export function dequantSamples(results: ResultsFile, dataset?: string): number | "varies" | null {
  const ks = new Set<number>();
  for (const r of results.runs) {
    if (dataset !== undefined && r.dataset !== dataset) continue;
    const n = headlineNll(r, results.headline.adaptiveSolver);
    if (n?.bpd !== undefined) ks.add(n.dequantSamples ?? 1);
  }
  if (ks.size === 0) return null;
  return ks.size === 1 ? [...ks][0] : "varies";
}

/**
 * The NLL column's unit line: "nats", or "bits/dim, K = 20" (K per cell when runs differ).
 * @example
 * nllUnit(results, "cifar10"); // "bits/dim, K = 20" (the paper budget)
 * nllUnit(toyResults); // "nats"
 */
export function nllUnit(results: ResultsFile, dataset?: string): string {
  if (results.headline.nll !== "bpd") return "nats";
  const k = dequantSamples(results, dataset);
  if (k === null) return "bits/dim";
  return k === "varies" ? "bits/dim, K per cell" : `bits/dim, K = ${k}`;
}
