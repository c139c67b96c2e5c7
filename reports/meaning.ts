// What the report's numbers mean, said next to them: a smoke-test banner, one note for a metric
// that no run has, the margin of the best method over the runner-up, and which evaluation made
// a run's sample grid. Each piece is a separate function so the sections stay small.
import type { ResultsFile, RunRecord, SampleSource } from "../results/schema.ts";
import { markup, type SafeHtml } from "./escape.ts";
import { smokeBudget } from "./smoke.ts";
import { type MissingEverywhere, missingEverywhere, missingGroups } from "./missing.ts";
import { BEST_Z, bestMargin } from "./seeds.ts";

export { type MissingEverywhere, missingEverywhere, missingGroups, smokeBudget };
import { type DatasetTable, formatNumber, formatSetting, formatWithError } from "./table.ts";

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
  noiseLevel?: { value: number; std?: number; metric: string },
): SafeHtml | null {
  const rows = table.rows.filter((r) => r.cells[key].value !== undefined);
  const m = bestMargin(rows.map((r) => ({
    value: r.cells[key].value!,
    uncertainty: r.cells[key].uncertainty,
  })));
  if (!m) return null;
  const best = rows[m.best], next = rows[m.runnerUp];
  const bv = best.cells[key].value!, nv = next.cells[key].value!;
  const show = (r: typeof best) => `${r.cells[key].text}${unit}`;
  const level = noiseLevel
    ? `; noise level ${formatWithError(noiseLevel.value, noiseLevel.std)} (${noiseLevel.metric} ` +
      `between two held-out samples)`
    : "";
  if (m.gap === 0) {
    const tied = rows.filter((r) => r.cells[key].value === bv);
    return markup`<li>${name}: <strong>${tied.map((r) => r.series).join(", ")}</strong> tied at
${formatNumber(bv)}${unit}${level}.</li>`;
  }
  if (!m.clear) {
    const why = m.noise === undefined
      ? `no uncertainty was measured for ${
        best.cells[key].uncertainty === undefined ? best.series : next.series
      }'s value, so the gap cannot be told from noise`
      : `the gap ${formatNumber(m.gap)}${unit} is inside ${BEST_Z} combined standard errors ` +
        `(${formatNumber(m.noise)}${unit})`;
    return markup`<li>${name}: no clear best: ${best.series} (${show(best)}) and the runner-up
${next.series} (${show(next)}); ${why}${level}.</li>`;
  }
  const by = key === "quality" && nv > 0
    ? `${formatNumber((100 * m.gap) / nv)}% lower than`
    : `${formatNumber(m.gap)}${unit} lower than`;
  const z = m.noise! > 0
    ? `: ${formatNumber((BEST_Z * m.gap) / m.noise!)} combined standard errors`
    : "";
  return markup`<li>${name}: <strong>${best.series}</strong> ${show(best)}, ${by} the runner-up
${next.series} (${show(next)})${z}${level}.</li>`;
}

/**
 * The headline of one dataset's table: the best method in sample quality and in NLL and by how
 * much it beats the runner-up, only where the gap is beyond BEST_Z combined standard errors (the
 * ★ rule); otherwise it says that no method is clearly best and why. Empty when no column has two
 * values, and on a smoke-test budget (its numbers do not rank methods).
 * @example
 * headlineMargins(buildTables(results)[0], "w2"); // <ul class="headline"><li>W2 (dopri5) on moons: <strong>OT-CFM</strong> ...
 */
export function headlineMargins(table: DatasetTable, quality: string, smoke = false): SafeHtml {
  if (smoke) return markup``;
  const q = table.columns.find((c) => c.key === "quality")!;
  const n = table.columns.find((c) => c.key === "nll")!;
  const level = table.reference?.[quality];
  const items = [
    margin(
      table,
      "quality",
      `${q.title} (${q.sub}) on ${table.dataset}`,
      "",
      level !== undefined && level > 0
        ? { value: level, std: table.reference?.[`${quality}_std`], metric: q.title }
        : undefined,
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
