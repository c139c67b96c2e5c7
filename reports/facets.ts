// Per-solver panels wrapped into rows (a chart of six solvers is two rows of three wide panels, not
// six narrow ones whose tick labels collide) and NFE axis ticks that label the step counts.
import * as Plot from "@observablehq/plot";

/**
 * Most panels side by side; more wrap into further rows.
 * @example
 * const cols = Math.min(solvers.length, MAX_PANEL_COLUMNS); // 3
 */
export const MAX_PANEL_COLUMNS = 3;

/** Where each panel goes: its column and row. */
export interface FacetGrid {
  cols: number;
  rows: number;
  cell: Map<string, { col: number; row: number }>;
}

/**
 * Panels in reading order, at most `maxCols` per row.
 * @example
 * facetGrid(["euler", "heun", "rk4", "dopri5"]).cell.get("dopri5"); // { col: 0, row: 1 }
 */
export function facetGrid(names: string[], maxCols = MAX_PANEL_COLUMNS): FacetGrid {
  const cols = Math.max(1, Math.min(names.length, maxCols));
  return {
    cols,
    rows: Math.max(1, Math.ceil(names.length / cols)),
    cell: new Map(names.map((n, i) => [n, { col: i % cols, row: Math.floor(i / cols) }])),
  };
}

/**
 * The Plot options that lay panels out on the grid (marks then use fx: "col", fy: "row").
 * @example
 * Plot.plot({ ...facetScales(grid), marks: [Plot.dot(points, { x: "nfe", y: "q", fx: "col", fy: "row" })] });
 */
export function facetScales(grid: FacetGrid): Record<string, unknown> {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  return {
    fx: { domain: range(grid.cols), axis: null, padding: 0.12 },
    fy: { domain: range(grid.rows), axis: null, padding: 0.22 },
  };
}

/**
 * A panel title above each panel of the grid.
 * @example
 * facetTitles(grid, (s) => s === "dopri5" ? "dopri5 (adaptive)" : s);
 */
export function facetTitles(grid: FacetGrid, label: (name: string) => string): Plot.Markish {
  const rows = [...grid.cell].map(([name, c]) => ({ ...c, text: label(name) }));
  return Plot.text(rows, {
    fx: "col",
    fy: "row",
    text: "text",
    frameAnchor: "top",
    dy: -10,
    fontSize: 12,
    fontWeight: 600,
  });
}

/**
 * NFE axis ticks: the powers of two in [lo, hi] (step counts are, and a fixed-step solver's NFE
 * is stages x steps), thinned to at most `max`; 1-2-5 ticks where fewer than two powers fit.
 * @example
 * nfeTicks(1, 4); // [1, 2, 4]: NFE 4 is labelled
 * nfeTicks(1, 200); // [1, 2, 4, 8, 16, 32, 64, 128]
 * nfeTicks(2, 3000); // [2, 8, 32, 128, 512, 2048]
 */
export function nfeTicks(lo: number, hi: number, max = 8): number[] {
  if (!(lo > 0 && hi >= lo)) return [];
  const powers: number[] = [];
  for (let e = Math.ceil(Math.log2(lo * 0.999)); 2 ** e <= hi * 1.001; e++) powers.push(2 ** e);
  if (powers.length < 2) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 2, 5]) {
        const v = Number((m * 10 ** e).toPrecision(12));
        if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
      }
    }
    return out.length >= 2 ? out : [lo, hi].filter((v, i, a) => a.indexOf(v) === i);
  }
  const stride = Math.ceil(powers.length / max);
  return powers.filter((_, i) => i % stride === 0);
}

/**
 * An NFE axis on a log scale whose tick labels are all shown: Plot's log scale drops the labels
 * of ticks it finds too dense (NFE 8 and 64 came out blank), so the axis is linear in log2(NFE)
 * (marks use x: log2 of their NFE) and labelled with the NFE itself at nfeTicks.
 * @example
 * Plot.plot({ x: nfeAxis(1, 128), marks: [Plot.dot(points, { x: (p) => Math.log2(p.nfe), y: "q" })] });
 */
export function nfeAxis(lo: number, hi: number): Record<string, unknown> {
  return {
    type: "linear",
    label: "NFE (log scale) →",
    ticks: nfeTicks(lo, hi).map(Math.log2),
    tickFormat: (v: number) => String(Number((2 ** v).toPrecision(6))),
  };
}
