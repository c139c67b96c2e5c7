// Published reference rows in a comparison table: each paper's figures beside the measured rows of
// the same recipe, labelled "published" with their source, and the note saying how NFE compare.
import { publishedRows, type PublishedSource } from "../results/published.ts";
import type { ResultsFile } from "../results/schema.ts";
import { markup, type SafeHtml } from "./escape.ts";
import type { ColumnKey, TableColumn } from "./columns.ts";
import { TABLE1_ORDER } from "./table1.ts";

/** A published row ready for a table: figures by column key (absent = not reported). */
export interface PublishedTableRow {
  method: string;
  fmbenchMethod: string;
  source: PublishedSource;
  values: Partial<Record<ColumnKey, number>>;
}

/**
 * The solver whose NFE stand comparable beside torchdiffeq-counted published figures.
 * @example
 * publishedNote(TORCHDIFFEQ_SOLVER, rows); // says the measured NFE compare with torchdiffeq's
 */
export const TORCHDIFFEQ_SOLVER = "dopri5-torchdiffeq";

/**
 * The published rows of a results file's suite for one data set, with the figures that fit its
 * columns (bits/dim only for a bits/dim NLL column, FID only for an FID quality column).
 * @example
 * publishedTableRows(results, "cifar10").length; // 9 for cifar10
 */
export function publishedTableRows(results: ResultsFile, dataset: string): PublishedTableRow[] {
  const { nll, quality } = results.headline;
  const ran = new Set(results.runs.filter((x) => x.dataset === dataset).map((x) => x.method));
  const beside = (r: { fmbenchMethod: string; alsoBeside?: string[] }) =>
    ran.has(r.fmbenchMethod)
      ? r.fmbenchMethod
      : r.alsoBeside?.find((l) => ran.has(l)) ?? r.fmbenchMethod;
  return publishedRows(results.suite, dataset).map((r) => ({
    method: r.method,
    fmbenchMethod: beside(r),
    source: r.source,
    values: {
      ...(nll === "bpd" && r.bpd !== undefined ? { nll: r.bpd } : {}),
      ...(quality === "fid" && r.fid !== undefined ? { quality: r.fid } : {}),
      ...(r.nfe !== undefined ? { nfe: r.nfe } : {}),
    },
  }));
}

/** One table line: a measured row (by index) or a published one. */
export type TableLine<R> = { run: R } | { published: PublishedTableRow };

/**
 * Measured rows grouped by method with each group's published rows right after it; groups in
 * Table 1's order, then the others as they come (measured first), so a published recipe that was
 * not measured still appears where Table 1 puts it.
 * @example
 * const lines = interleave(rows, publishedTableRows(results, "cifar10"));
 * // measured "DDPM-style", then published "DDPM", ..., in Table 1's order
 */
export function interleave<R extends { methodLabel: string }>(
  rows: R[],
  published: PublishedTableRow[],
): TableLine<R>[] {
  const labels: string[] = [];
  for (const l of [...rows.map((r) => r.methodLabel), ...published.map((p) => p.fmbenchMethod)]) {
    if (!labels.includes(l)) labels.push(l);
  }
  const rank = (l: string) => {
    const i = TABLE1_ORDER.indexOf(l);
    return i >= 0 ? i : TABLE1_ORDER.length + labels.indexOf(l);
  };
  labels.sort((a, b) => rank(a) - rank(b));
  return labels.flatMap((l) => [
    ...rows.filter((r) => r.methodLabel === l).map((run) => ({ run })),
    ...published.filter((p) => p.fmbenchMethod === l).map((p) => ({ published: p })),
  ]);
}

function figure(v: number | undefined, key: ColumnKey): string {
  if (v === undefined) return "—";
  return key === "nfe" ? String(v) : v.toFixed(2);
}

/**
 * A published row: greyed, tagged "published", its source in place of the recipe.
 * @example
 * renderPublishedRow(publishedTableRows(results, "cifar10")[0], columns).value;
 * // '<tr class="published"><th scope="row"><span class="method">DDPM</span> ...'
 */
export function renderPublishedRow(row: PublishedTableRow, columns: TableColumn[]): SafeHtml {
  const cells = columns.map((c) => {
    const v = row.values[c.key];
    const title = v === undefined
      ? `not reported by ${row.source.label}`
      : `${row.source.label}${
        c.key === "nfe" || c.key === "quality" ? `; ${row.source.solver}` : ""
      }`;
    return markup`<td class="num" title="${title}">${figure(v, c.key)}</td>`;
  });
  const same = row.method === row.fmbenchMethod
    ? ""
    : ` (the recipe fmbench trains as ${row.fmbenchMethod})`;
  return markup`<tr class="published"><th scope="row"><span class="method">${row.method}</span> \
<span class="tag-published">published</span><div class="recipe">${row.source.label}, \
arXiv:${row.source.arxiv}${same}</div></th>${cells}</tr>`;
}

/**
 * The note under a table with published rows: sources, and which controller counted the NFE.
 * @example
 * const note = publishedNote("dopri5", publishedTableRows(results, "cifar10"));
 */
export function publishedNote(solver: string, rows: PublishedTableRow[]): SafeHtml {
  const sources = [...new Set(rows.map((r) => r.source))];
  const comparable = solver === TORCHDIFFEQ_SOLVER
    ? markup`Measured NFE were counted by <code>${solver}</code>, torchdiffeq's error control
(Shampine's error weights and its step rule), so they compare with the torchdiffeq figures.`
    : markup`Measured NFE were counted by <code>${solver}</code>, not torchdiffeq's controller:
expect roughly 15% fewer evaluations with <code>${TORCHDIFFEQ_SOLVER}</code> on the same model.`;
  return markup`<div class="published-note"><p class="note"><strong>Published rows</strong> (grey,
tagged "published") are the papers' figures for their own models, not measured here. ${comparable}
Published bits/dim use the papers' dequantisation; measured ones say K in the header.</p>
<ul class="note">${
    sources.map((s) =>
      markup`<li>${s.label}: ${s.citation} arXiv:${s.arxiv}. Sampler: ${s.solver}.${
        s.note ? ` ${s.note}` : ""
      }</li>`
    )
  }</ul></div>`;
}
