// Plain-text summary table of a run for the terminal and CI logs (the report has the full view).
import { headlineEval } from "../results/headline.ts";
import type { ResultsFile, RunRecord } from "../results/schema.ts";
import { groupSeeds, meanSd, seedsIn } from "./seeds.ts";
import { printFrontier } from "./frontier-table.ts";

/** A value with `digits` decimals; "n/a" when absent, null (NaN read back) or not finite. */
function fmt(v: number | null | undefined, digits = 3): string {
  return typeof v !== "number" || !Number.isFinite(v) ? "n/a" : v.toFixed(digits);
}

/** The summary cells of one run: [quality, NFE, NLL exact, NLL hutch, straightness, euler@1..8, train s]. */
function runRow(res: ResultsFile, r: RunRecord): Array<{ text: string; value?: number }> {
  const q = res.headline.quality;
  const unit = res.headline.nll;
  const h = headlineEval(r, res.headline.adaptiveSolver);
  const num = (v: number | null | undefined, digits = 3) => ({
    text: fmt(v, digits),
    value: v ?? undefined,
  });
  const nll = (est: string) => {
    const n = r.nll.find((x) => x.estimator === est);
    if (!n) return { text: "n/a" };
    const v = unit === "bpd" ? n.bpd : n.nats;
    return { text: `${fmt(v)}±${fmt(n.stderr, 3)}`, value: v ?? undefined };
  };
  const ok = h?.status === "ok";
  const euler = (steps: number) => {
    const e = r.evals.find((e) =>
      e.solver === "euler" && e.setting.steps === steps && !e.setting.grid
    );
    return e?.status === "ok" ? num(e.metrics[q]) : { text: "n/a" };
  };
  return [
    ok ? num(h.metrics[q]) : { text: h ? "failed" : "n/a" },
    ok ? { text: String(h.nfe), value: h.nfe } : { text: "n/a" },
    nll("exact"),
    nll("hutchinson"),
    num(r.straightness, 4),
    euler(1),
    euler(2),
    euler(4),
    euler(8),
    num(r.train?.seconds, 1),
  ];
}

/**
 * Rows of the summary: one per (data set, method, model); mean±sd over seeds when several.
 * @example
 * summaryRows(results)[0].slice(0, 3); // ["dataset", "method", "w2 (dopri5)"]
 */
export function summaryRows(res: ResultsFile): string[][] {
  const q = res.headline.quality;
  const unit = res.headline.nll;
  const header = [
    "dataset",
    "method",
    `${q} (${res.headline.adaptiveSolver})`,
    "NFE",
    `NLL ${unit} exact`,
    `NLL ${unit} hutch`,
    "straightness",
    `${q} euler@1`,
    "@2",
    "@4",
    "@8",
    "train s",
  ];
  const digits = [3, 0, 3, 3, 4, 3, 3, 3, 3, 1];
  const rows = [header];
  for (const runs of groupSeeds(res, res.runs)) {
    const r = runs[0];
    const ok = runs.filter((x) => x.status === "ok");
    if (ok.length === 0) {
      const why = r.status === "partial"
        ? "INCOMPLETE: interrupted, resume it"
        : `FAILED: ${r.error ?? ""}`.slice(0, 60);
      rows.push([r.dataset, r.method, why]);
      continue;
    }
    const cells = ok.map((x) => runRow(res, x));
    const label = runs.length > 1 ? `${r.method} (${ok.length}/${runs.length} seeds)` : r.method;
    rows.push([
      r.dataset,
      label,
      ...cells[0].map((first, c) => {
        if (cells.length === 1) return first.text;
        const vs = cells.map((row) => row[c].value).filter((v): v is number =>
          v !== undefined && Number.isFinite(v)
        );
        if (vs.length === 0) return first.text;
        const { mean, sd } = meanSd(vs);
        return `${mean.toFixed(digits[c])}±${sd.toFixed(Math.max(digits[c], 1))}`;
      }),
    ]);
  }
  return rows;
}

/**
 * Print the summary as an aligned table (markdown-compatible).
 * @example
 * printSummary(results); // | dataset | method | w2 (dopri5) | NFE | ...
 */
export function printSummary(res: ResultsFile): void {
  const rows = summaryRows(res);
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${w.map((n, i) => (r[i] ?? "").padEnd(n)).join(" | ")} |`;
  console.log(line(rows[0]));
  console.log(`|${w.map((n) => "-".repeat(n + 2)).join("|")}|`);
  for (const r of rows.slice(1)) console.log(line(r));
  printFrontier(res);
  const seeds = seedsIn(res);
  if (seeds.length > 1) {
    console.log(`\nmean±sd over seeds ${seeds.join(", ")} (NLL: mean±sd of the per-seed means)`);
  }
  console.log(
    `\nwall time ${
      fmt(res.manifest.wallSeconds, 1)
    } s on ${res.manifest.backend} (${res.manifest.device})`,
  );
}
