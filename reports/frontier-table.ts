// The terminal's frontier table: per data set and method, the best quality within 1, 2, 4 and 10
// NFE over every solver setting, and the solver (and NFE) that reached it.
import type { ResultsFile } from "../results/schema.ts";
import { bestWithin, FRONTIER_BUDGETS, frontierSeries } from "./frontier.ts";
import { datasetsOf } from "./table.ts";

/**
 * Rows of the frontier table: a header, then one row per (data set, series) with a cell per
 * budget: "0.123 ipndm@4" (quality, solver and the NFE it used), or "n/a" when no setting fits.
 * @example
 * frontierRows(results)[0]; // ["dataset", "method", "w2 NFE<=1", "NFE<=2", "NFE<=4", "NFE<=10"]
 */
export function frontierRows(res: ResultsFile): string[][] {
  const q = res.headline.quality;
  const header = [
    "dataset",
    "method",
    ...FRONTIER_BUDGETS.map((b, i) => `${i ? "" : `${q} `}NFE<=${b}`),
  ];
  const rows = [header];
  for (const d of datasetsOf(res)) {
    for (const { series, front } of frontierSeries(res, d)) {
      rows.push([
        d,
        series,
        ...FRONTIER_BUDGETS.map((b) => {
          const p = bestWithin(front, b);
          const nfe = Number.isInteger(p?.nfe) ? String(p?.nfe) : p?.nfe.toFixed(1);
          return p ? `${p.q.toFixed(3)} ${p.solver}@${nfe}` : "n/a";
        }),
      ]);
    }
  }
  return rows;
}

/**
 * Print the frontier table (markdown-compatible), or nothing when no evaluation has a quality.
 * @example
 * printFrontier(results); // | dataset | method | w2 NFE<=1 | NFE<=2 | NFE<=4 | NFE<=10 |
 */
export function printFrontier(res: ResultsFile): void {
  const rows = frontierRows(res);
  if (rows.length < 2) return;
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${w.map((n, i) => (r[i] ?? "").padEnd(n)).join(" | ")} |`;
  console.log(
    `\nbest ${res.headline.quality} within an NFE budget, over every solver setting ` +
      `(solver@NFE that reached it; mean over seeds):`,
  );
  console.log(line(rows[0]));
  console.log(`|${w.map((n) => "-".repeat(n + 2)).join("|")}|`);
  for (const r of rows.slice(1)) console.log(line(r));
}
