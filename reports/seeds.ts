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
 * The rule for the best-value mark, as the report states it.
 * @example
 * markup`<p class="note">${BEST_RULE}.</p>`; // "★ marks the lowest mean in a column ..."
 */
export const BEST_RULE = "★ marks the lowest mean in a column only where it is lower than the " +
  "runner-up's by more than their combined spread √(s₁² + s₂²), where s is the standard " +
  "deviation across seeds (with one seed: the NLL's standard error, and 0 for the other " +
  "columns); ties and differences within the spread get no mark";

/**
 * Whether the lowest of the values beats the runner-up by more than the combined spread:
 * returns the index of the marked value, or -1 (fewer than two values, a tie, or too close).
 * @example
 * bestIndex([{ value: 1, spread: 0.1 }, { value: 2, spread: 0.1 }]); // 0
 * bestIndex([{ value: 1, spread: 1 }, { value: 1.5, spread: 1 }]); // -1
 */
export function bestIndex(cells: Array<{ value: number; spread: number }>): number {
  if (cells.length < 2) return -1;
  const order = cells.map((_, i) => i).sort((a, b) => cells[a].value - cells[b].value);
  const [a, b] = [cells[order[0]], cells[order[1]]];
  const combined = Math.sqrt(a.spread * a.spread + b.spread * b.spread);
  return b.value - a.value > combined ? order[0] : -1;
}
