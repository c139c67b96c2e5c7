// Plain-text summary table of a run for the terminal and CI logs (the report has the full view).
import { headlineEval } from "../results/headline.ts";
import type { ResultsFile, RunRecord } from "../results/schema.ts";

function fmt(v: number | undefined, digits = 3): string {
  return v === undefined || !Number.isFinite(v) ? "n/a" : v.toFixed(digits);
}

function eulerAt(r: RunRecord, steps: number, q: string): string {
  const e = r.evals.find((e) =>
    e.solver === "euler" && e.setting.steps === steps && !e.setting.grid
  );
  return e?.status === "ok" ? fmt(e.metrics[q]) : "n/a";
}

/** Rows of the summary: one per run. */
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
  const rows = [header];
  for (const r of res.runs) {
    if (r.status !== "ok") {
      const why = r.status === "partial"
        ? "INCOMPLETE: interrupted, resume it"
        : `FAILED: ${r.error ?? ""}`.slice(0, 60);
      rows.push([r.dataset, r.method, why]);
      continue;
    }
    const h = headlineEval(r, res.headline.adaptiveSolver);
    const nll = (est: string) => {
      const n = r.nll.find((x) => x.estimator === est);
      if (!n) return "n/a";
      const v = unit === "bpd" ? n.bpd : n.nats;
      return `${fmt(v)}±${fmt(n.stderr, 3)}`;
    };
    const ok = h?.status === "ok";
    rows.push([
      r.dataset,
      r.method,
      ok ? fmt(h.metrics[q]) : h ? "failed" : "n/a",
      ok ? String(h.nfe) : "n/a",
      nll("exact"),
      nll("hutchinson"),
      fmt(r.straightness, 4),
      eulerAt(r, 1, q),
      eulerAt(r, 2, q),
      eulerAt(r, 4, q),
      eulerAt(r, 8, q),
      fmt(r.train?.seconds, 1),
    ]);
  }
  return rows;
}

/** Print the summary as an aligned table (markdown-compatible). */
export function printSummary(res: ResultsFile): void {
  const rows = summaryRows(res);
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${w.map((n, i) => (r[i] ?? "").padEnd(n)).join(" | ")} |`;
  console.log(line(rows[0]));
  console.log(`|${w.map((n) => "-".repeat(n + 2)).join("|")}|`);
  for (const r of rows.slice(1)) console.log(line(r));
  console.log(
    `\nwall time ${
      fmt(res.manifest.wallSeconds, 1)
    } s on ${res.manifest.backend} (${res.manifest.device})`,
  );
}
