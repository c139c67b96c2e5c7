// What the report's numbers mean, said next to them: a smoke-test banner, one note for a metric
// that no run has, the margin of the best method over the runner-up, and which evaluation made
// a run's sample grid. Each piece is a separate function so the sections stay small.
import type { ResultsFile, RunRecord, SampleSource } from "../results/schema.ts";
import { markup, type SafeHtml } from "./escape.ts";
import { type DatasetTable, formatNumber, formatSetting, formatWithError } from "./table.ts";

/**
 * Whether the run used a smoke-test budget, and its description. Files written before the
 * `budget` field existed are recognised by cifar10's "quick" budget in the config.
 * @example
 * smokeBudget(results); // { name: "quick", description: "a smoke run on any machine: ..." }
 */
export function smokeBudget(results: ResultsFile): { name: string; description: string } | null {
  if (results.budget) return results.budget.smoke ? results.budget : null;
  const data = (results.manifest.config as { data?: { budget?: unknown } } | undefined)?.data;
  if (results.suite === "cifar10" && data?.budget === "quick") {
    return { name: "quick", description: "a smoke run on any machine" };
  }
  return null;
}

/**
 * The banner a smoke-test run gets at the top of the report (empty otherwise).
 * @example
 * smokeBanner(results); // <p class="banner smoke"><strong>Smoke test: numbers not meaningful.</strong> ...
 */
export function smokeBanner(results: ResultsFile): SafeHtml {
  const b = smokeBudget(results);
  if (!b) return markup``;
  return markup`<p class="banner smoke" role="note"><strong>Smoke test: numbers not
meaningful.</strong> This run used the ${results.suite} budget <code>${b.name}</code>
(${b.description}). It shows that every part runs end to end; its quality, likelihood and NFE
figures say nothing about which method is better. Compare methods with a full budget
(e.g. <code>--budget small</code> on a GPU).</p>`;
}

/**
 * One line naming the published recipe a run followed, every training field of it (from the
 * manifest's config), its source, and the flags that changed one of its fields ("recipe
 * torchcfm, changed: --steps 2000"), so a shortened run is never mistaken for the recipe.
 * @example
 * recipeLine(results); // <p class="recipe">Recipe <code>torchcfm</code> (...): lr 0.0002, ...</p>
 */
export function recipeLine(results: ResultsFile): SafeHtml {
  const b = results.budget;
  if (!b?.recipe) return markup``;
  const cfg = results.manifest.config as Record<string, unknown>;
  const train = (cfg.train ?? {}) as Record<string, unknown>;
  const fields = Object.entries(train).filter(([k]) => k !== "logEvery")
    .map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
  const models = (cfg.models as Array<{ name: string; preset: string }> | undefined) ?? [];
  const changed = b.recipe.changed.length
    ? markup`<strong>changed: ${b.recipe.changed.join(", ")}</strong> (not the recipe as published)`
    : markup`unchanged`;
  return markup`<p class="banner recipe" role="note">Recipe <code>${b.name}</code>, ${changed}:
${models.map((m) => `${m.name}:${m.preset}`).join(", ")}; ${fields.join(", ")}. Source:
${b.recipe.source}${b.recipe.notes ? `; ${b.recipe.notes}` : ""}.</p>`;
}

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

/**
 * The note shown once (above the tables) for the metrics no run has.
 * @example
 * missingNotes(results); // <p class="banner missing">FID and KID are n/a for all 8 runs (40 evaluations): ...
 */
export function missingNotes(results: ResultsFile): SafeHtml[] {
  return missingGroups(results).map((g) => {
    const names = g.metrics.map((m) => m.toUpperCase()).join(" and ");
    return markup`<p class="banner missing" data-metric="${g.metrics.join(" ")}"><strong>${names}
${g.metrics.length === 1 ? "is" : "are"} n/a for all ${g.runs} run${
      g.runs === 1 ? "" : "s"
    }</strong> (${g.evals} evaluations), for the same reason: ${g.reasons.join(" / ")}</p>`;
  });
}

/** The winner of a column and its margin over the runner-up, as one sentence; null if < 2 values. */
function margin(
  table: DatasetTable,
  key: "quality" | "nll",
  name: string,
  unit: string,
  floor?: number,
): SafeHtml | null {
  const rows = table.rows.filter((r) => r.cells[key].value !== undefined)
    .sort((a, b) => a.cells[key].value! - b.cells[key].value!);
  if (rows.length < 2) return null;
  const best = rows[0], bv = best.cells[key].value!;
  const tied = rows.filter((r) => r.cells[key].value === bv);
  if (tied.length > 1) {
    return markup`<li>${name}: <strong>${tied.map((r) => r.series).join(", ")}</strong> tied at
${formatNumber(bv)}${unit}.</li>`;
  }
  const next = rows[1], nv = next.cells[key].value!;
  // With several seeds a cell's spread is the standard deviation across seeds, else its stderr.
  const spread = (r: typeof best) => r.cells[key].spread ?? r.cells[key].stderr;
  const show = (r: typeof best) => formatWithError(r.cells[key].value!, spread(r)) + unit;
  const diff = nv - bv;
  let by: string;
  if (key === "quality" && nv > 0) {
    by = `${formatNumber((100 * diff) / nv)}% lower than`;
  } else {
    by = `${formatNumber(diff)}${unit} lower than`;
  }
  const se1 = spread(best), se2 = spread(next);
  const z = se1 !== undefined && se2 !== undefined && se1 > 0 && se2 > 0
    ? diff / Math.hypot(se1, se2)
    : undefined;
  const unitName = best.cells[key].spread !== undefined
    ? "combined standard deviations across seeds"
    : "combined standard errors";
  const noise = z === undefined
    ? ""
    : `: ${formatNumber(z)} ${unitName}${z < 2 ? ", within noise" : ""}`;
  const floorText = floor !== undefined && floor > 0
    ? `; ${formatNumber(bv / floor)}x the floor of ${formatNumber(floor)} a perfect model reaches`
    : "";
  return markup`<li>${name}: <strong>${best.series}</strong> ${show(best)}, ${by} the runner-up
${next.series} (${show(next)})${noise}${floorText}.</li>`;
}

/**
 * The headline of one dataset's table: by how much the best method beats the runner-up in
 * sample quality and in NLL (with standard errors where the NLL has them). Empty when no
 * column has two values.
 * @example
 * headlineMargins(buildTables(results)[0], "w2"); // <ul class="headline"><li>W2: <strong>OT-CFM</strong> 0.438, 8.56% lower than ...
 */
export function headlineMargins(table: DatasetTable, quality: string): SafeHtml {
  const q = table.columns.find((c) => c.key === "quality")!;
  const n = table.columns.find((c) => c.key === "nll")!;
  const items = [
    margin(
      table,
      "quality",
      `${q.title} (${q.sub}) on ${table.dataset}`,
      "",
      table.reference?.[quality],
    ),
    margin(
      table,
      "nll",
      `NLL on ${table.dataset}`,
      // The unit line reads "bits/dim, K = 20" for images (table1.ts nllUnit), else "nats".
      ` ${n.sub.startsWith("bits/dim") ? "bits/dim" : "nats"}`,
    ),
  ].filter((x): x is SafeHtml => x !== null);
  return items.length ? markup`<ul class="headline">${items}</ul>` : markup``;
}

/**
 * Which evaluation made a run's samples: recorded in `samples.from`, or (older files) the
 * first successful evaluation of the adaptive solver, which is what the engine keeps (shown as
 * "inferred").
 * @example
 * sampleSource(results, run); // { solver: "dopri5", setting: { rtol: 1e-5, atol: 1e-5 }, nfe: 32, inferred: false }
 */
export function sampleSource(
  results: ResultsFile,
  run: RunRecord,
): (SampleSource & { inferred: boolean }) | null {
  const from = run.samples?.from;
  if (from) return { ...from, inferred: false };
  const e = (run.evals ?? []).find((e) =>
    e.status === "ok" && e.solver === results.headline.adaptiveSolver
  );
  return e ? { solver: e.solver, setting: e.setting, nfe: e.nfe, inferred: true } : null;
}

/**
 * The caption text saying which solver, setting and NFE made a run's samples.
 * @example
 * sampleSourceText(results, run); // "dopri5 (rtol=1e-5, atol=1e-5), NFE 32"
 */
export function sampleSourceText(results: ResultsFile, run: RunRecord): string {
  const s = sampleSource(results, run);
  if (!s) return "solver not recorded";
  const setting = formatSetting(s.setting);
  return `${s.solver}${setting ? ` (${setting})` : ""}, NFE ${formatNumber(s.nfe)}` +
    (s.inferred ? " (inferred)" : "");
}
