// Seeds in the reports: which seed a run had, the runs of one series across seeds, mean and
// standard deviation, and the rule for the best-value mark.
import type { ResultsFile, RunRecord } from "../results/schema.ts";

/**
 * The seed of a run: its own, or the manifest's for files written before runs carried one.
 * @example
 * seedOf(results, results.runs[0]); // 0
 */
export function seedOf(results: ResultsFile, run: RunRecord): number {
  return run.seed ?? results.manifest.seed;
}

/**
 * The distinct seeds of a results file, ascending.
 * @example
 * seedsIn(results); // [0, 1, 2] for a run with --seeds 3
 */
export function seedsIn(results: ResultsFile): number[] {
  return [...new Set(results.runs.map((r) => seedOf(results, r)))].sort((a, b) => a - b);
}

/**
 * Runs grouped into series (data set, method, model, preset), in order of first appearance; each
 * group holds that series' runs, one per seed, by ascending seed.
 * @example
 * const groups = groupSeeds(results, runsOf(results, "moons")); // groups[0] = every seed of a method
 */
export function groupSeeds(results: ResultsFile, runs: RunRecord[]): RunRecord[][] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const key = `${r.dataset}\u0000${r.method}\u0000${r.model}\u0000${r.preset}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  return [...groups.values()].map((g) => g.sort((a, b) => seedOf(results, a) - seedOf(results, b)));
}

/**
 * Mean and sample standard deviation (n - 1 in the denominator; 0 for one value).
 * @example
 * meanSd([1, 2, 3]); // { mean: 2, sd: 1, n: 3 }
 */
export function meanSd(xs: number[]): { mean: number; sd: number; n: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sd: 0, n };
  const ss = xs.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return { mean, sd: Math.sqrt(ss / (n - 1)), n };
}

/**
 * How many combined standard errors the best value must beat the runner-up by to get a ★ (and a
 * headline).
 * @example
 * const clear = gap > BEST_Z * Math.hypot(u1, u2); // 2 standard errors
 */
export const BEST_Z = 2;

/**
 * The rule for the best-value mark, as the report states it.
 * @example
 * markup`<p class="note">${BEST_RULE}.</p>`; // "★ marks the lowest value in a column only ..."
 */
export const BEST_RULE = "★ marks the lowest value in a column only where the runner-up is " +
  `higher by more than ${BEST_Z}√(u₁² + u₂²), u being each cell's measured standard error ` +
  "(one seed: the standard error of that measurement, from its own samples; several seeds: " +
  "the standard deviation over seeds / √seeds); a cell with no measured uncertainty gets no ★ " +
  "and lets none be given over it, ties and differences inside the noise get none, and a " +
  "smoke-test budget gets none at all";

/** A value with its measured standard error (undefined: none measured). */
export interface Ranked {
  value: number;
  uncertainty?: number;
}

/**
 * Whether the lowest value beats the runner-up by more than BEST_Z combined standard errors:
 * returns the index of the marked value, or -1 (fewer than two values, a tie, too close, or the
 * best or the runner-up without a measured uncertainty).
 * @example
 * bestIndex([{ value: 1, uncertainty: 0.1 }, { value: 2, uncertainty: 0.1 }]); // 0
 * bestIndex([{ value: 1, uncertainty: 0.3 }, { value: 1.5, uncertainty: 0.3 }]); // -1: 0.5 < 2 x 0.42
 * bestIndex([{ value: 1 }, { value: 9, uncertainty: 0 }]); // -1: the best has no uncertainty
 */
export function bestIndex(cells: Ranked[]): number {
  const margin = bestMargin(cells);
  return margin && margin.clear ? margin.best : -1;
}

/** The best value, the runner-up, their gap and whether it is beyond the noise. */
export interface BestMargin {
  best: number;
  runnerUp: number;
  gap: number;
  /** BEST_Z x the combined standard error; undefined when either has no uncertainty. */
  noise?: number;
  /** The gap exceeds the noise (false when the noise is unknown or the values tie). */
  clear: boolean;
}

/**
 * The lowest value and the runner-up (indices into `cells`), their gap and the noise it is
 * compared with: what both the ★ and the headline read. Null for fewer than two values.
 * @example
 * bestMargin([{ value: 3, uncertainty: 0.1 }, { value: 1, uncertainty: 0.1 }]);
 * // { best: 1, runnerUp: 0, gap: 2, noise: 0.283, clear: true }
 */
export function bestMargin(cells: Ranked[]): BestMargin | null {
  if (cells.length < 2) return null;
  const order = cells.map((_, i) => i).sort((a, b) => cells[a].value - cells[b].value || a - b);
  const [a, b] = [cells[order[0]], cells[order[1]]];
  const gap = b.value - a.value;
  const noise = a.uncertainty === undefined || b.uncertainty === undefined
    ? undefined
    : BEST_Z * Math.hypot(a.uncertainty, b.uncertainty);
  return {
    best: order[0],
    runnerUp: order[1],
    gap,
    ...(noise !== undefined ? { noise } : {}),
    clear: noise !== undefined && gap > noise,
  };
}

/**
 * The standard error of a mean over seeds: the standard deviation over seeds / √n, or, if
 * larger, what the seeds' own standard errors give (√(Σ uᵢ²) / n) — two seeds can agree by
 * chance. Undefined for one seed (its own uncertainty stands).
 * @example
 * seedsUncertainty([1, 2, 3]); // 0.577: sd 1 over √3
 * seedsUncertainty([1, 1], [0.5, 0.5]); // 0.354: the seeds' own errors
 */
export function seedsUncertainty(
  values: number[],
  own?: Array<number | undefined>,
): number | undefined {
  const { sd, n } = meanSd(values);
  if (n < 2) return undefined;
  const fromSpread = sd / Math.sqrt(n);
  const known = own?.length === n && own.every((u) => u !== undefined)
    ? Math.sqrt(own.reduce((a, u) => a + u! * u!, 0)) / n
    : 0;
  return Math.max(fromSpread, known);
}
