// Renders one self-contained HTML report (inline CSS and SVG, no scripts) from a results file.
import type { ResultsFile, RunRecord } from "../results/schema.ts";
import {
  type Chart,
  qualityVsNfeChart,
  renameSvgIds,
  sampleCharts,
  seriesColors,
  trainingChart,
} from "./charts.ts";
import { markup, raw, safeDataImageUri, type SafeHtml } from "./escape.ts";
import {
  headlineMargins,
  missingEverywhere,
  missingNotes,
  recipeLine,
  sampleSourceText,
  smokeBanner,
  smokeBudget,
} from "./meaning.ts";
import { verdictOf, verdictParagraph } from "./verdict.ts";
import { sampleErrorChart } from "./sample-error-chart.ts";
import { metricFigures } from "./metric-columns.ts";
import { precisionRecallChart } from "./precision-recall-chart.ts";
import { frontierChart } from "./frontier-chart.ts";
import { learningChart } from "./learning-chart.ts";
import { convergenceBanner } from "./convergence-note.ts";
import type { MergedManifest } from "../results/merge.ts";
import { BEST_RULE, BEST_Z, seedsIn } from "./seeds.ts";
import {
  buildTables,
  datasetsOf,
  type DatasetTable,
  formatDuration,
  formatSetting,
  renderTable,
  runsOf,
  seriesLabels,
  straightnessWhere,
} from "./table.ts";
import { commandLine } from "../results/command.ts";

/**
 * Section ids every report has, in page order (the browser check looks for each).
 * @example
 * SECTION_IDS[0]; // "comparison": the report has <section id="comparison">
 */
export const SECTION_IDS = [
  "comparison",
  "quality-vs-nfe",
  "samples",
  "training",
  "failures",
  "manifest",
  "plugins",
  "about",
] as const;

const SECTION_TITLES: Record<(typeof SECTION_IDS)[number], string> = {
  comparison: "Comparison",
  "quality-vs-nfe": "Quality vs NFE",
  samples: "Samples",
  training: "Training",
  failures: "Failures",
  manifest: "Run manifest",
  plugins: "Plugins",
  about: "About the metrics",
};

/** The report's stylesheet: screen layout plus a print stylesheet. No external fonts. */
const REPORT_CSS = `
:root { color-scheme: light; --ink: #1d2129; --muted: #5f6673; --line: #d9dce1;
  --best: #e6f4ea; --bad: #b3261e; --bg: #fff; --panel: #f6f7f9; }
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--ink); }
body { margin: 0 auto; max-width: 1120px; padding: 24px 28px 48px;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h1 .suite { color: #2f4fb0; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 16px; margin: 20px 0 8px; }
code, pre { font: 12.5px/1.45 ui-monospace, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; }
pre { background: var(--panel); padding: 10px 12px; overflow: auto; border-radius: 4px; }
a { color: #2f4fb0; }
.facts { color: var(--muted); margin: 0 0 10px; font-size: 14px; }
.howto { background: var(--panel); border-left: 4px solid #2f4fb0; padding: 10px 14px;
  margin: 12px 0; max-width: 70em; }
.banner { background: #fff4e5; border-left: 4px solid #e08600; padding: 8px 14px; }
.banner.smoke { background: #fdecea; border-left-color: var(--bad); font-size: 16px; }
.banner.missing { background: var(--panel); border-left-color: var(--muted); font-size: 14px; }
ul.headline { margin: 4px 0 2px; padding-left: 20px; font-size: 14px; }
.verdict { max-width: 70em; margin: 10px 0; padding: 8px 14px; border-left: 4px solid #188038;
  background: #f1f8f3; }
.note.outlier { max-width: 70em; }
details.shards > summary { cursor: pointer; font-weight: 600; margin: 10px 0 6px; }
details.config > summary { cursor: pointer; font-weight: 600; margin: 6px 0; }
nav { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 14px; padding: 6px 0;
  border-bottom: 1px solid var(--line); }
.lede { color: var(--muted); max-width: 70em; margin: 4px 0 10px; }
.empty { color: var(--muted); font-style: italic; }
.note { color: var(--muted); font-size: 12.5px; margin: 4px 0 0; }
.table-wrap { overflow-x: auto; margin: 6px 0 18px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.comparison { min-width: 760px; width: 100%; border-top: 2px solid var(--ink);
  border-bottom: 2px solid var(--ink); }
table.comparison caption { text-align: left; font-weight: 700; font-size: 16px; padding: 6px 0; }
table.comparison caption .reference { font-weight: 400; font-size: 12px; color: #555; }
table.comparison thead th { border-bottom: 1px solid var(--ink); vertical-align: bottom;
  font-weight: 600; padding: 6px 10px; }
table.comparison td, table.comparison tbody th { padding: 7px 10px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
table.comparison tbody tr:last-child > * { border-bottom: 0; }
th { text-align: left; }
.num { text-align: right; white-space: nowrap; }
.unit { font-weight: 400; font-size: 11.5px; color: var(--muted); }
.arrow { color: var(--muted); font-weight: 400; }
.method { font-weight: 600; }
.recipe { font-size: 12px; color: var(--muted); font-weight: 400; }
td.best { background: var(--best); }
.best-mark { color: #188038; margin-left: 3px; font-size: 12px; }
td.na, .na { color: var(--muted); }
td.na sup { color: var(--bad); margin-left: 1px; }
tr.failed th .method { text-decoration: line-through; color: var(--muted); }
.tag-failed { color: var(--bad); font-weight: 600; font-size: 12.5px; }
.tag-released { color: var(--muted, #555); font-style: italic; font-size: 12.5px; }
tr.published > * { color: var(--muted); background: var(--panel); font-style: italic; }
tr.published .method { font-weight: 500; }
.tag-published { font-style: normal; font-size: 11px; font-weight: 600; color: #5a4a00;
  background: #fff1c2; border-radius: 3px; padding: 0 4px; }
.published-note ul.note { padding-left: 18px; margin: 2px 0 0; }
.footnotes { font-size: 12.5px; color: var(--muted); margin: 6px 0 0; padding-left: 22px; }
.protocol { font-size: 12.5px; color: var(--muted); margin: 6px 0 0; overflow-wrap: anywhere; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
  margin-right: 6px; vertical-align: -1px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 13px; margin: 4px 0 6px; }
figure { margin: 8px 0 16px; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
figcaption { font-weight: 600; font-size: 14px; }
.row { display: flex; flex-wrap: wrap; gap: 0 28px; }
.sample-grid { display: flex; flex-wrap: wrap; gap: 8px 20px; }
.sample figure { margin: 0; }
.sample figcaption { font-weight: 600; font-size: 13px; }
.sample .note { max-width: 250px; }
img.grid { display: block; width: 256px; max-width: 100%; height: auto; image-rendering: pixelated;
  border: 1px solid var(--line); margin-top: 4px; }
table.plain { font-size: 13.5px; width: 100%; }
table.plain th, table.plain td { padding: 5px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; text-align: left; }
table.plain thead th { border-bottom: 1.5px solid var(--ink); }
table.plain td.num, table.plain th.num { text-align: right; }
table.config td:first-child { width: 32%; }
.reason { color: var(--bad); }
table.failures td:nth-child(4) { white-space: nowrap; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 8px 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; }
ul.notes { margin: 0; padding-left: 18px; }
dl.about dt { font-weight: 700; margin-top: 10px; }
dl.about dd { margin: 2px 0 0 0; max-width: 70em; }
.formula { font: inherit; border-radius: 3px;
  background: var(--panel); padding: 0 4px; white-space: nowrap; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
  padding-top: 8px; }
@media print {
  @page { margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav, .howto a { display: none; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; margin-top: 18pt; }
  h3 { break-after: avoid; }
  table, figure, .dataset > h3 + * { break-inside: avoid; }
  .table-wrap { overflow: visible; }
  td.best { background: none; }
  table.comparison { min-width: 0; }
  details > pre { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

/** No scripts, no network: only inline styles and data: images may load. */
const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

interface Ctx {
  results: ResultsFile;
  /** The comparison tables (built once: the verdict and the comparison section read them). */
  tables: DatasetTable[];
  /** A smoke-test budget: no ★, no headline, no verdict. */
  smoke: boolean;
  colors: Map<string, string>;
  charts: Chart[];
  images: number;
  qualityName: string;
}

/** "2025-01-02T03:04:05.000Z" -> "2025-01-02 03:04 UTC"; anything else is shown as given. */
function formatTime(iso: string | undefined): string {
  const d = new Date(iso ?? "");
  return Number.isNaN(d.getTime())
    ? String(iso ?? "")
    : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function legend(series: string[], colors: Map<string, string>): SafeHtml {
  return markup`<div class="legend">${
    series.map((s) =>
      markup`<span class="key"><span class="swatch" style="background:${
        colors.get(s) ?? "#999"
      }"></span>${s}</span>`
    )
  }</div>`;
}

function figure(ctx: Ctx, chart: Chart, withLegend: boolean): SafeHtml {
  ctx.charts.push(chart);
  // Ids must be unique in the page: prefix them with the chart's number. Inline SVG in HTML
  // needs no namespace declaration; dropping it keeps the page free of URLs.
  const svg = renameSvgIds(chart.svg, `chart${ctx.charts.length}-`)
    .replace(/^(<svg\b[^>]*?) xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, "$1");
  return markup`<figure class="chart" data-chart="${chart.kind}" data-dataset="${chart.dataset}">
<figcaption>${
    !withLegend && chart.series.length === 1 ? swatch(ctx, chart.series[0]) : ""
  }${chart.title}</figcaption>${withLegend ? legend(chart.series, ctx.colors) : ""}${raw(svg)}${
    chart.note ? markup`<p class="note">${chart.note}</p>` : ""
  }</figure>`;
}

/** Whether any figure of the run's metrics is higher-is-better (the table then mixes arrows). */
function higherColumns(results: ResultsFile): boolean {
  return metricFigures(results).some((f) => f.value.direction === "higher");
}

function section(id: (typeof SECTION_IDS)[number], body: SafeHtml | SafeHtml[]): SafeHtml {
  return markup`<section id="${id}"><h2>${SECTION_TITLES[id]}</h2>${body}</section>\n`;
}

function comparisonSection(ctx: Ctx): SafeHtml {
  const tables = ctx.tables;
  const { adaptiveSolver } = ctx.results.headline;
  const seeds = seedsIn(ctx.results);
  const spread = seeds.length > 1
    ? markup` · every cell is the mean ± standard deviation over ${seeds.length} seeds (${
      seeds.join(", ")
    })`
    : markup` · one seed (${seeds.join(", ")}): run with <code>--seeds 3</code> for the spread`;
  return section("comparison", [
    markup`<p class="lede">One table per dataset · ${
      higherColumns(ctx.results)
        ? "each header's arrow says which way is better (↓ lower, ↑ higher)"
        : "lower is better everywhere"
    }${spread} ·
${
      ctx.qualityName === "FID"
        ? "FID, KID"
        : ctx.qualityName
    } and NFE from <code>${adaptiveSolver}</code> at its tightest tolerance (hover a cell for the
setting) · n/a cells have a footnote with the reason.</p>
<p class="lede rule"><strong>bold ★</strong>: ${BEST_RULE}.${
      higherColumns(ctx.results)
        ? " In a ↑ column (higher is better) the same rule marks the highest value."
        : ""
    }</p>`,
    ...missingNotes(ctx.results),
    ...tables.map((t) => {
      const pr = precisionRecallChart(ctx.results, t.dataset, ctx.colors);
      return markup`${headlineMargins(t, ctx.results.headline.quality, ctx.smoke)}${
        renderTable(t, ctx.colors)
      }${pr ? figure(ctx, pr, false) : ""}`;
    }),
    tables.length ? markup`` : markup`<p class="empty">This results file has no runs.</p>`,
  ]);
}

function perDataset(
  ctx: Ctx,
  make: (dataset: string) => SafeHtml | null,
  none: (dataset: string) => string,
): SafeHtml[] {
  return datasetsOf(ctx.results).map((d) => {
    const body = make(d);
    return markup`<div class="dataset"><h3>${d}</h3>${
      body ?? markup`<p class="empty">${none(d)}</p>`
    }</div>`;
  });
}

function qualitySection(ctx: Ctx): SafeHtml {
  return section("quality-vs-nfe", [
    markup`<p class="lede">First the frontier: for each method, the best ${ctx.qualityName}
reached within each NFE budget by any solver (hover a point for the solver). Then
${ctx.qualityName} of generated samples against the number of velocity
evaluations (NFE, log scale), one panel per solver. Fixed-step solvers trace a curve as the step
count grows; the adaptive solver's points are its tolerance settings. Lower-left is better.
Failed evaluations are not drawn (see Failures). Below it, the sampling error (Lipman et al.'s
Fig. 7): how far each fixed-step solver's samples are from a tight adaptive solve of the same
noise, a quality-vs-NFE signal that needs no external weights.</p>`,
    ...perDataset(ctx, (d) => {
      const f = frontierChart(ctx.results, d, ctx.colors);
      const c = qualityVsNfeChart(ctx.results, d, ctx.colors);
      const e = sampleErrorChart(ctx.results, d, ctx.colors);
      const q = c
        ? figure(ctx, c, true)
        : markup`<p class="empty">No successful evaluation of ${d} has a ${ctx.qualityName} value.</p>`;
      return c || e
        ? markup`${f ? figure(ctx, f, true) : ""}${q}${e ? figure(ctx, e, true) : ""}`
        : null;
    }, (d) => `No successful evaluation of ${d} has a ${ctx.qualityName} value.`),
  ]);
}

function trainingSection(ctx: Ctx): SafeHtml {
  const charts = perDataset(ctx, (d) => {
    const c = trainingChart(ctx.results, d, ctx.colors);
    const l = [learningChart(ctx.results, d, "nll", ctx.colors)].concat(
      learningChart(ctx.results, d, ctx.results.headline.quality, ctx.colors),
    ).filter((x) => x !== null).map((x) => figure(ctx, x, true));
    return c || l.length ? markup`${c ? figure(ctx, c, true) : ""}${l}` : null;
  }, (d) => `No training-loss curve was recorded for ${d}.`);
  return section("training", [
    markup`<p class="lede">Training loss against step for each method (each method's own
objective, so levels are not comparable across losses), then, when the run recorded learning
curves, the held-out NLL and sample quality of each method at log-spaced steps: a line still
falling at its last point is a model that has not finished learning.</p>`,
    markup`<div class="row">${charts}</div>`,
  ]);
}

function imageFigure(ctx: Ctx, run: RunRecord, label: string): SafeHtml {
  const uri = safeDataImageUri(run.samples?.image);
  if (!uri) {
    return markup`<figure class="sample"><figcaption>${label}</figcaption><p class="empty">The
sample image is not an inline base64 PNG/JPEG/GIF/WebP data URI, so it is not shown.</p></figure>`;
  }
  ctx.images++;
  const alt = `generated samples: ${label}`;
  const from = sampleSourceText(ctx.results, run);
  return markup`<figure class="sample"><figcaption>${swatch(ctx, label)}${label}</figcaption>
<img class="grid" src="${uri}" alt="${alt}"><p class="note">made by ${from}</p></figure>`;
}

function swatch(ctx: Ctx, series: string): SafeHtml {
  const c = ctx.colors.get(series);
  return c ? markup`<span class="swatch" style="background:${c}"></span>` : markup``;
}

function samplesSection(ctx: Ctx): SafeHtml {
  const labels = seriesLabels(ctx.results);
  return section("samples", [
    markup`<p class="lede">Generated samples per method, after the held-out data they should
look like (ground truth, where recorded).${
      ctx.results.runs.some((r) => r.samples?.points?.length)
        ? ` 2-D data: dots are samples (one shared view per dataset, clipped to the central 99%),
grey lines a few sampling trajectories from the source (open circle) to the sample (filled).`
        : ""
    }${
      ctx.results.runs.some((r) => r.samples?.image)
        ? " Images: the sample grid each run saved (PNG), scaled to 256 px wide without smoothing."
        : ""
    } Under each: the solver, setting and NFE that made the samples ("inferred" for files
written before this was recorded: the first successful evaluation of the adaptive solver, which is
the one the engine keeps).</p>`,
    ...perDataset(ctx, (d) => {
      const runs = runsOf(ctx.results, d);
      const scatters = sampleCharts(ctx.results, d, ctx.colors);
      const shown = new Set(scatters.map((c) => c.runId));
      const byId = new Map(runs.map((r) => [r.id, r]));
      const figs: SafeHtml[] = scatters.map((c) => {
        const run = byId.get(c.runId!);
        const from = run ? `; made by ${sampleSourceText(ctx.results, run)}` : "";
        return markup`<div class="sample">${
          figure(ctx, { ...c, note: `${c.note}${from}` }, false)
        }</div>`;
      });
      const images = runs.filter((r) => !shown.has(r.id) && r.samples?.image !== undefined);
      const truth = safeDataImageUri(ctx.results.heldOut?.[d]?.image);
      if (images.length && truth) {
        ctx.images++;
        figs.push(
          markup`<figure class="sample"><figcaption>Held-out data (ground truth)</figcaption>
<img class="grid" src="${truth}" alt="held-out test images of ${d}"><p class="note">test images:
what every grid beside it should look like</p></figure>`,
        );
      }
      for (const r of images) figs.push(imageFigure(ctx, r, labels.get(r.id) ?? r.method));
      return figs.length ? markup`<div class="sample-grid">${figs}</div>` : null;
    }, (d) => `No samples were recorded for ${d}.`),
  ]);
}

interface FailureRow {
  kind: string;
  dataset: string;
  method: string;
  where: string;
  reason: string;
}

/**
 * Every failed run, failed eval, headline metric missing in some (not all) evaluations, and
 * plugin load failure. A metric missing in every run is a note above the tables, not a failure.
 * @example
 * collectFailures(results)[0];
 * // { kind: "run", dataset: "moons", method: "2-RF", where: "mlp/default", reason: "..." }
 */
export function collectFailures(results: ResultsFile): FailureRow[] {
  const rows: FailureRow[] = [];
  const q = results.headline.quality;
  // A metric no run has is one row, not one per evaluation (reports/meaning.ts).
  const everywhere = missingEverywhere(results);
  for (const r of results.runs) {
    if (r.status !== "ok") {
      rows.push({
        kind: r.status === "partial" ? "incomplete run" : "run",
        dataset: r.dataset,
        method: r.method,
        where: `${r.model}/${r.preset}`,
        reason: r.status === "partial"
          ? "interrupted before it finished; resuming with the same command and --out completes it"
          : r.error ?? "no reason recorded",
      });
    }
    for (const e of r.evals ?? []) {
      const where = `${e.solver} ${formatSetting(e.setting)}`.trim();
      if (e.status !== "ok") {
        rows.push({
          kind: "eval",
          dataset: r.dataset,
          method: r.method,
          where,
          reason: e.error ?? "no reason recorded",
        });
      } else if (e.metrics?.[q] === undefined && !everywhere.some((m) => m.metric === q)) {
        rows.push({
          kind: `missing ${q}`,
          dataset: r.dataset,
          method: r.method,
          where,
          reason: e.notes?.[q] ?? (Object.values(e.notes ?? {}).join("; ") || "no reason recorded"),
        });
      }
    }
  }
  // A metric no run has (e.g. FID/KID without the Inception weights) is an expected n/a, said
  // once in the note above the tables (missingNotes), not a failure.
  for (const f of results.plugins.failures) {
    rows.push({ kind: "plugin load", dataset: "", method: "", where: f.file, reason: f.reason });
  }
  return rows;
}

/** A plain table: header labels (a "num" class right-aligns) and rows of cells. */
function plainTable(cls: string, headers: string[], rows: unknown[][]): SafeHtml {
  const head = headers.map((h) =>
    h.endsWith(" num") ? markup`<th class="num">${h.slice(0, -4)}</th>` : markup`<th>${h}</th>`
  );
  const body = rows.map((r) => markup`<tr>${r.map((c) => markup`<td>${c}</td>`)}</tr>\n`);
  return markup`<div class="table-wrap"><table class="${cls}"><thead><tr>${head}</tr></thead>
<tbody>${body}</tbody></table></div>`;
}

function code(text: unknown): SafeHtml {
  return markup`<code>${text}</code>`;
}

function reason(text: unknown): SafeHtml {
  return markup`<span class="reason">${text}</span>`;
}

function failuresSection(ctx: Ctx): SafeHtml {
  const rows = collectFailures(ctx.results);
  if (rows.length === 0) return section("failures", markup`<p class="empty">No failures.</p>`);
  return section("failures", [
    markup`<p class="lede">${rows.length} failure${rows.length === 1 ? "" : "s"}.</p>`,
    plainTable(
      "plain failures",
      ["Kind", "Dataset", "Method", "Where", "Reason"],
      rows.map((r) => [r.kind, r.dataset, r.method, code(r.where), reason(r.reason)]),
    ),
  ]);
}

function flatten(value: unknown, prefix: string, out: Array<[string, string]>, depth = 0): void {
  const scalarArray = Array.isArray(value) &&
    value.every((v) => v === null || typeof v !== "object");
  if (value !== null && typeof value === "object" && !scalarArray && depth < 4) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) out.push([prefix, Array.isArray(value) ? "[]" : "{}"]);
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out, depth + 1);
  } else {
    out.push([prefix, typeof value === "string" ? value : JSON.stringify(value)]);
  }
}

function kv(rows: Array<[string, unknown]>): SafeHtml {
  return markup`<dl class="kv">${rows.map(([k, v]) => markup`<dt>${k}</dt><dd>${v}</dd>\n`)}</dl>`;
}

/**
 * The manifest's wall time in words: elapsed time, summed over the sessions that worked on the
 * folder (a resume adds its own, a re-run that finds everything done adds a second or so).
 * @example
 * wallTimeText({ wallSeconds: 259, sessions: 2 }); // "4m 19s elapsed (2 sessions added up)"
 */
export function wallTimeText(m: { wallSeconds?: number; sessions?: number }): string {
  if (m.wallSeconds === undefined) return "not recorded";
  const n = m.sessions ?? 1;
  return `${formatDuration(m.wallSeconds)} elapsed${n > 1 ? ` (${n} sessions added up)` : ""}`;
}

function manifestSection(ctx: Ctx): SafeHtml {
  const r = ctx.results;
  const m = r.manifest as MergedManifest;
  const v = m.versions ?? ({} as MergedManifest["versions"]);
  const shardInfo = r.shard
    ? `shard ${r.shard.index} of ${r.shard.count} (0-based index): this file holds only part of the run`
    : m.mergedFrom
    ? `merged from ${m.mergedFrom.length} shard${m.mergedFrom.length === 1 ? "" : "s"} (below)`
    : "complete run (not sharded)";
  const config: Array<[string, string]> = [];
  flatten(m.config ?? {}, "", config);
  const mergedTable = m.mergedFrom?.length
    ? [
      markup`<details class="shards"><summary>Merged shards: ${m.mergedFrom.length} shard${
        m.mergedFrom.length === 1 ? "" : "s"
      }${
        m.shardSeconds !== undefined ? `, ${formatDuration(m.shardSeconds)} of shard time` : ""
      }</summary>`,
      plainTable(
        "plain",
        ["Shard", "Source", "Commit", "Backend", "Device", "Started", "Wall time num", "Runs num"],
        m.mergedFrom.map((s) => [
          `${s.index} / ${s.count}`,
          code(s.source),
          code(`${s.commit.slice(0, 12)}${s.dirty ? " (dirty)" : ""}`),
          s.backend,
          s.device,
          formatTime(s.startedAt),
          s.wallSeconds !== undefined ? formatDuration(s.wallSeconds) : "n/a",
          s.runs,
        ]),
      ),
      markup`</details>`,
    ]
    : [];
  const dirty = m.dirty ? markup` <span class="tag-failed">dirty working tree</span>` : "";
  const versions =
    `fmbench ${v.fmbench}, Deno ${v.deno}, V8 ${v.v8}, TypeScript ${v.typescript}, tfjs ${v.tfjs}`;
  const notes = m.backendNotes?.length
    ? markup`<ul class="notes">${m.backendNotes.map((n) => markup`<li>${n}</li>`)}</ul>`
    : "none";
  const json = JSON.stringify(m.config ?? {}, null, 2);
  return section("manifest", [
    kv([
      ["Suite", r.suite],
      ["Commit", markup`${code(m.commit)}${dirty}`],
      ["Versions", versions],
      ["Backend", m.backend],
      ["Device", m.device],
      ["Backend notes", notes],
      ["OS", m.os],
      ["Seed", m.seed],
      ["Config hash", code(m.configHash)],
      ["Started", formatTime(m.startedAt)],
      ["Finished", m.finishedAt ? formatTime(m.finishedAt) : "not recorded (run did not finish?)"],
      ["Wall time", wallTimeText(m)],
      ...(m.shardSeconds !== undefined
        ? [[
          "Shard time",
          `${formatDuration(m.shardSeconds)} (the shards' own wall times added up; more than ` +
          `the elapsed time when they ran side by side)`,
        ] as [string, unknown]]
        : []),
      ["Shards", shardInfo],
      ["Command", code(commandLine(m.argv ?? []))],
    ]),
    ...mergedTable,
    markup`<h3>Configuration</h3>`,
    markup`<details class="config"><summary>Show all ${config.length} settings</summary>${
      plainTable(
        "plain config",
        ["Setting", "Value"],
        config.map(([k, val]) => [code(k), code(val)]),
      )
    }</details>`,
    markup`<details><summary>Full configuration (JSON)</summary><pre>${json}</pre></details>`,
  ]);
}

function pluginsSection(ctx: Ctx): SafeHtml {
  const { loaded, failures } = ctx.results.plugins;
  const sorted = [...loaded].sort((a, b) =>
    a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name)
  );
  const s = (n: number) => n === 1 ? "" : "s";
  return section("plugins", [
    markup`<p class="lede">${`${loaded.length} plugin${
      s(loaded.length)
    } loaded, ${failures.length} failed to load.`}</p>`,
    plainTable(
      "plain",
      ["Kind", "Name", "Family", "Description", "File"],
      sorted.map((
        p,
      ) => [p.kind, markup`<strong>${p.name}</strong>`, p.family, p.description, code(p.file)]),
    ),
    ...(failures.length
      ? [
        markup`<h3>Load failures</h3>`,
        plainTable(
          "plain failures",
          ["Kind", "File", "Reason"],
          failures.map((f) => [f.kind, code(f.file), reason(f.reason)]),
        ),
      ]
      : []),
  ]);
}

function aboutSection(ctx: Ctx): SafeHtml {
  const solver = code(ctx.results.headline.adaptiveSolver);
  return section(
    "about",
    markup`<dl class="about">
<dt>NLL</dt><dd>Negative log-likelihood of held-out data under the model's ODE flow, by the
instantaneous change-of-variables formula (exact divergence, or Hutchinson's estimator with
random probes), ± the standard error of the mean. For continuous (2-D) data it is in nats per
data point. For 8-bit images it is in <em>bits per dimension</em>:
<span class="formula">bpd = -log p(y) / (D ln 2) + 7</span>, where D is the number of pixel
values and <span class="formula">y = (x + u)/128 - 1</span> with x ∈ {0, …, 255} and
u ~ U[0, 1)<sup>D</sup> (uniform dequantisation, mapping pixels into [-1, 1)); the +7 = log₂ 128
undoes the change of scale from [0, 256) to [-1, 1) in each dimension. Averaged over u this is an
upper bound on the bits/dim of the discrete 8-bit data.</dd>
<dt>W2</dt><dd>2-Wasserstein distance between generated samples and held-out data (toy data).</dd>
<dt>FID</dt><dd>Fréchet inception distance between generated and held-out images.</dd>
${
      metricFigures(ctx.results).filter((f) => !["w2", "fid"].includes(f.figure)).map((f) =>
        markup`<dt>${f.value.title} ${f.value.direction === "higher" ? "↑" : "↓"}</dt><dd>${
          f.value.description[0].toUpperCase() + f.value.description.slice(1)
        } (${f.value.direction} is better; the <code>${f.metric}</code> metric plugin on ${f.info.feature} features: ${f.info.description}).</dd>\n`
      )
    }<dt>NFE</dt><dd>Number of velocity-field evaluations per sample path, counted by the harness
(not reported by the solver). The table's NFE column is the count of the adaptive solver
${solver} for the same evaluation as the quality column (its tightest tolerance); the
quality-vs-NFE charts show every solver and setting.</dd>
<dt>Straightness</dt><dd>Liu et al.'s straightness of the learned flow,
<span class="formula">S = E ∫ ‖(X₁ − X₀) − v(X_t, t)‖² dt</span> (summed over coordinates),
measured along uniform ${straightnessWhere(ctx.results)} of the model's ODE over the path's time
range, from up to 500 seeded source samples; 0 means straight paths at constant speed. It
describes the flow, not the sampling solvers.</dd>
<dt>Train cost</dt><dd>On CPU backends: the CPU seconds of the thread that trained the method
(under <code>--jobs</code> each worker is its own thread, so another worker's load does not change
it, as it changes the wall clock), ± a standard error from the CPU time per step over the logging
intervals; kernels run on other threads (OpenBLAS with <code>FMBENCH_BLAS_THREADS</code> &gt; 1)
are not counted. On GPU backends, and for files without CPU times: wall-clock seconds (no
uncertainty). Both include what a method needs before it can train: a reflow student (2-RF) adds
its teacher's training and the generation of its reflow pairs. The wall clock is in each cell's
tooltip.</dd>
<dt>Which value a cell shows</dt><dd>Quality and NFE: the ${solver} evaluation with the
tightest tolerance (smallest rtol, then atol); if that evaluation failed the cell is n/a rather
than falling back to a looser one. NLL: the first NLL record computed with ${solver} (else the
first recorded).</dd>
<dt>Uncertainties, seeds and the ★</dt><dd>Every column has a measured uncertainty even with one
seed: NLL the standard error over the test points; ${ctx.qualityName} its ${
      ctx.qualityName === "W2" ? "bootstrap standard error over the evaluation samples" : "spread"
    } where recorded (FID has none with one seed); KID the standard deviation over its subsets;
NFE the spread of the adaptive solver's NFE over disjoint sub-batches of the evaluation noise
(divided by √count); straightness the standard error over its trajectories; train cost as above.
With several seeds every (data set, method, model) is trained and evaluated once per seed (data
draw, initial weights, batches and sampling noise all follow the seed), and a cell shows the mean
± the standard deviation across seeds. ${BEST_RULE}. It is a screen against marking noise, not a
significance test. The verdict at the top counts these ★ and names the effects that stay clear of
the noise on most data sets.</dd>
</dl>`,
  );
}

/**
 * Render a results file as one self-contained HTML document: inline CSS (screen and print),
 * inline SVG charts, data-URI images, no scripts and no external resources. Every string from
 * the results file is escaped.
 * @example
 * await Deno.writeTextFile("runs/x/report.html", renderReport(results));
 */
export function renderReport(results: ResultsFile): string {
  const smoke = smokeBudget(results) !== null;
  const ctx: Ctx = {
    results,
    tables: buildTables(results),
    smoke,
    colors: seriesColors(results),
    charts: [],
    images: 0,
    qualityName: results.headline.quality === "fid" ? "FID" : "W2",
  };
  const body = [
    comparisonSection(ctx),
    qualitySection(ctx),
    samplesSection(ctx),
    trainingSection(ctx),
    failuresSection(ctx),
    manifestSection(ctx),
    pluginsSection(ctx),
    aboutSection(ctx),
  ];
  const m = results.manifest;
  const failures = collectFailures(results).length;
  const datasets = datasetsOf(results);
  const facts = [
    `${datasets.length} dataset${datasets.length === 1 ? "" : "s"}`,
    `${results.methods.length} method${results.methods.length === 1 ? "" : "s"}`,
    `${results.runs.length} trained model${results.runs.length === 1 ? "" : "s"}`,
    `backend ${m.backend} on ${m.device}`,
    `commit ${String(m.commit).slice(0, 12)}${m.dirty ? " (dirty)" : ""}`,
    formatTime(m.finishedAt ?? m.startedAt),
  ];
  const shardBanner = results.shard
    ? markup`<p class="banner">This is shard ${results.shard.index} of ${results.shard.count}: it
holds only part of the run. Merge all shards with <code>deno task report --merge</code>.</p>`
    : "";
  const nav = SECTION_IDS.map((id) => markup`<a href="#${id}">${SECTION_TITLES[id]}</a>`);
  const failLink = failures
    ? markup` · <a href="#failures" class="tag-failed">${failures} failure${
      failures === 1 ? "" : "s"
    }</a>`
    : "";
  const nllUnit = results.headline.nll === "bpd" ? "bits/dim" : "nats";
  const version = m.versions?.fmbench ?? "";
  const doc = markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${raw(CSP)}">
<meta name="generator" content="fmbench ${version}">
<meta name="fmbench-sections" content="${SECTION_IDS.join(" ")}">
<meta name="fmbench-charts" content="${ctx.charts.length}">
<meta name="fmbench-images" content="${ctx.images}">
<title>fmbench report: ${results.suite}</title>
<style>${raw(REPORT_CSS)}</style>
</head>
<body>
<header>
<h1>fmbench report: <span class="suite">${results.suite}</span></h1>
<p class="facts">${facts.map((f, i) => markup`${i ? " · " : ""}<span>${f}</span>`)}${failLink}</p>
${shardBanner}
${smokeBanner(results)}
${convergenceBanner(results)}
${recipeLine(results)}
${verdictParagraph(verdictOf(ctx.tables, { smoke }))}
<p class="howto"><strong>How to read this.</strong> Each table below compares training recipes
(rows: a probability path, a coupling and a loss) on one dataset, as in Lipman et al.'s Table 1.
${
    higherColumns(results)
      ? "Each column's arrow says which way is better (↓ lower, ↑ higher)"
      : "All columns are lower-is-better"
  }: NLL (${nllUnit}), sample quality (${ctx.qualityName}), the
number of function evaluations (NFE) the adaptive solver ${
    code(results.headline.adaptiveSolver)
  } needed, trajectory straightness and training cost; each value has ± its measured standard error.
The best value is bold with a ★ only where it beats the runner-up by more than ${BEST_Z} combined
standard errors (√(u₁² + u₂²)); a value with no measured uncertainty, a difference inside the
noise and a smoke-test budget get none. The charts then show how quality trades off against NFE for each solver, the samples
themselves and the training curves; colours match the swatches in the tables. Every value comes
from ${code("results.json")}; missing values are marked n/a with a reason, and all failures are
listed under <a href="#failures">Failures</a>.</p>
<nav>${nav}</nav>
</header>
<main>
${body}</main>
<footer>Generated by fmbench ${version} from results.json (schema ${results.schema}) · config hash
${m.configHash} · ${ctx.charts.length} charts, ${ctx.images} images.</footer>
</body>
</html>
`;
  return doc.value;
}
