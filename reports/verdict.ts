// The verdict across data sets, computed from the comparison tables: which method is best
// overall (most ★, the rule of reports/seeds.ts), on which columns and by how much, the biggest
// effects (a few methods far ahead of the rest), and where the differences are inside the noise.
import type { ColumnKey } from "./columns.ts";
import { markup, type SafeHtml } from "./escape.ts";
import { BEST_Z, bestMargin } from "./seeds.ts";
import type { DatasetTable, TableRow } from "./table.ts";

/** A ★ a method earned: where, and its gap to the runner-up relative to the runner-up's value. */
export interface Star {
  dataset: string;
  column: ColumnKey;
  /** (runner-up - best) / |runner-up|. */
  relative: number;
}

/** A group of methods far ahead of the rest in one column, on some of the data sets. */
export interface Effect {
  column: ColumnKey;
  /** The leading methods (series names), sorted. */
  lead: string[];
  /** Data sets where exactly this group leads beyond the noise. */
  datasets: string[];
  /** Geometric mean over those data sets of median(rest) / median(lead). */
  ratio: number;
  /** Medians over those data sets of the lead's and the rest's medians. */
  leadValue: number;
  restValue: number;
  /** Medians over those data sets of the rest's smallest and largest value. */
  restMin: number;
  restMax: number;
}

/** Columns without a clear best on some data sets, and why. */
export interface Unclear {
  column: ColumnKey;
  /** The leader's gap is inside BEST_Z combined standard errors. */
  inside: string[];
  /** The leader or the runner-up has no measured uncertainty. */
  unmeasured: string[];
}

/** Everything the top paragraph says, as data. */
export interface Verdict {
  datasets: string[];
  smoke: boolean;
  /** Columns (with at least two values) over all data sets: what ★ counts are out of. */
  columns: number;
  /** Methods with at least one ★, most first (ties in table order). */
  leaders: Array<{ series: string; stars: Star[] }>;
  /** The biggest effects, largest ratio first (at most `maxEffects`). */
  effects: Effect[];
  unclear: Unclear[];
  /** Column titles by key, for the text. */
  titles: Partial<Record<ColumnKey, string>>;
}

/** Columns where a ratio between values means something (all positive, lower is better). */
const RATIO_COLUMNS: ColumnKey[] = ["straightness", "nfe", "quality", "kid", "trainTime"];

/** Smallest median(rest) / median(lead) reported as an effect. */
export const MIN_EFFECT_RATIO = 1.25;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The leading group of one column of one table: sorted by value, split at the largest ratio
 * between neighbours among groups of at most half of the rows, kept when the split is beyond the
 * noise (BEST_Z combined standard errors of the two values at it) and the rest's median is at
 * least MIN_EFFECT_RATIO times the group's.
 */
function leadingGroup(rows: TableRow[], key: ColumnKey) {
  const cells = rows.filter((r) => r.cells[key].value !== undefined)
    .sort((a, b) => a.cells[key].value! - b.cells[key].value!);
  if (cells.length < 3 || cells.some((r) => !(r.cells[key].value! > 0))) return null;
  const v = cells.map((r) => r.cells[key].value!);
  // The split is searched among leading groups of at most half the rows: a lone laggard far
  // behind the rest (e.g. a straightness in the hundreds) is not a group ahead.
  let k = 1;
  for (let i = 2; i <= v.length / 2; i++) if (v[i] / v[i - 1] > v[k] / v[k - 1]) k = i;
  const [a, b] = [cells[k - 1].cells[key], cells[k].cells[key]];
  if (a.uncertainty === undefined || b.uncertainty === undefined) return null;
  if (!(v[k] - v[k - 1] > BEST_Z * Math.hypot(a.uncertainty, b.uncertainty))) return null;
  const lead = v.slice(0, k), rest = v.slice(k);
  const ratio = median(rest) / median(lead);
  if (!(ratio >= MIN_EFFECT_RATIO)) return null;
  return {
    lead: cells.slice(0, k).map((r) => r.series).sort(),
    ratio,
    leadValue: median(lead),
    restValue: median(rest),
    restMin: rest[0],
    restMax: rest[rest.length - 1],
  };
}

/**
 * The verdict of a report from its tables: ★ counts per method, the biggest effects (a group
 * that leads one column on at least half of the data sets) and the columns without a clear best.
 * Pure: the same tables give the same verdict.
 * @example
 * const v = verdictOf(buildTables(results), { smoke: false });
 * v.leaders[0]?.series; // "OT-CFM"
 * v.effects[0]; // { column: "straightness", lead: ["2-RF", "OT-CFM"], ratio: 96, ... }
 */
export function verdictOf(
  tables: DatasetTable[],
  opts: { smoke: boolean; maxEffects?: number },
): Verdict {
  const stars = new Map<string, Star[]>();
  const order: string[] = [];
  const unclear = new Map<ColumnKey, Unclear>();
  const groups = new Map<
    string,
    Array<{ dataset: string; g: NonNullable<ReturnType<typeof leadingGroup>> }>
  >();
  const titles: Partial<Record<ColumnKey, string>> = {};
  let columns = 0;
  for (const t of tables) {
    for (const r of t.rows) if (!order.includes(r.series)) order.push(r.series);
    for (const c of t.columns) {
      titles[c.key] = c.title;
      const rows = t.rows.filter((r) => r.cells[c.key].value !== undefined);
      const m = bestMargin(rows.map((r) => ({
        value: r.cells[c.key].value!,
        uncertainty: r.cells[c.key].uncertainty,
      })));
      if (!m) continue;
      columns++;
      const starred = rows.find((r) => r.cells[c.key].best);
      if (starred) {
        const runnerUp = rows[m.runnerUp].cells[c.key].value!;
        const list = stars.get(starred.series) ?? [];
        list.push({
          dataset: t.dataset,
          column: c.key,
          relative: runnerUp !== 0 ? m.gap / Math.abs(runnerUp) : Infinity,
        });
        stars.set(starred.series, list);
      } else if (!opts.smoke) {
        const u = unclear.get(c.key) ?? { column: c.key, inside: [], unmeasured: [] };
        (m.noise === undefined ? u.unmeasured : u.inside).push(t.dataset);
        unclear.set(c.key, u);
      }
      if (!opts.smoke && RATIO_COLUMNS.includes(c.key)) {
        const g = leadingGroup(t.rows, c.key);
        if (g) {
          const key = `${c.key}\u0000${g.lead.join("\u0000")}`;
          groups.set(key, [...(groups.get(key) ?? []), { dataset: t.dataset, g }]);
        }
      }
    }
  }
  const half = Math.ceil(tables.length / 2);
  const effects: Effect[] = [...groups].filter(([, list]) => list.length >= half)
    .map(([key, list]) => ({
      column: key.split("\u0000")[0] as ColumnKey,
      lead: list[0].g.lead,
      datasets: list.map((x) => x.dataset),
      ratio: Math.exp(list.reduce((a, x) => a + Math.log(x.g.ratio), 0) / list.length),
      leadValue: median(list.map((x) => x.g.leadValue)),
      restValue: median(list.map((x) => x.g.restValue)),
      restMin: median(list.map((x) => x.g.restMin)),
      restMax: median(list.map((x) => x.g.restMax)),
    }))
    .sort((a, b) => b.ratio - a.ratio)
    .slice(0, opts.maxEffects ?? 3);
  const leaders = [...stars].map(([series, s]) => ({ series, stars: s }))
    .sort((a, b) =>
      b.stars.length - a.stars.length || order.indexOf(a.series) - order.indexOf(b.series)
    );
  return {
    datasets: tables.map((t) => t.dataset),
    smoke: opts.smoke,
    columns,
    leaders: opts.smoke ? [] : leaders,
    effects,
    unclear: [...unclear.values()],
    titles,
  };
}

/** "a", "a and b", "a, b and c"; text is escaped, SafeHtml kept. */
function list(items: Array<string | SafeHtml>): SafeHtml {
  if (items.length <= 1) return markup`${items}`;
  const head = items.slice(0, -1).map((x, i) => markup`${i ? ", " : ""}${x}`);
  return markup`${head} and ${items.at(-1)}`;
}

/** Three significant digits, plainly. */
function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

/** "about 96x" for ratios of 10 and more, "1.7x" below. */
function times(r: number): string {
  const x = num(Number(r.toPrecision(2)));
  return r >= 10 ? `about ${x}x` : `${x}x`;
}

/** "0.021 against 0.32–463 (median 2.01)": the lead's value against the rest's range. */
function against(e: Effect, unit = ""): string {
  const range = e.restMin === e.restMax
    ? `${num(e.restMin)}${unit}`
    : `${num(e.restMin)}–${num(e.restMax)}${unit}, median ${num(e.restValue)}${unit}`;
  return `${num(e.leadValue)}${unit} against ${range}`;
}

/** The effect as a predicate: "are about 96x straighter (...)", "needs 2.8x fewer ...". */
const EFFECT_WORDS: Partial<Record<ColumnKey, (e: Effect, one: boolean) => string>> = {
  straightness: (e, one) =>
    `${one ? "is" : "are"} ${times(e.ratio)} straighter than the median of the rest ` +
    `(straightness ${against(e)})`,
  nfe: (e, one) =>
    `${one ? "needs" : "need"} ${times(e.ratio)} fewer function evaluations than the median of ` +
    `the rest (NFE ${against(e)})`,
  trainTime: (e, one) =>
    `${one ? "is" : "are"} ${times(e.ratio)} cheaper to train than the median of the rest ` +
    `(${against(e, " s")})`,
};

/** "", " on all 3 data sets", " on 2 of 3 data sets (moons and circles)". */
function where(datasets: string[], all: number): SafeHtml {
  if (all === 1) return markup``;
  if (datasets.length === all) return markup` on all ${all} data sets`;
  return markup` on ${datasets.length} of ${all} data sets (${list(datasets)})`;
}

/** One leader's ★ by column: "NFE on moons and circles (12–30% below the runner-up)". */
function starsText(stars: Star[], title: (k: ColumnKey) => string, datasets: number): SafeHtml {
  const byColumn = new Map<ColumnKey, Star[]>();
  for (const s of stars) byColumn.set(s.column, [...(byColumn.get(s.column) ?? []), s]);
  return list([...byColumn].map(([k, ss]) => {
    const rel = ss.map((s) => 100 * s.relative).filter(Number.isFinite);
    const lo = Math.min(...rel), hi = Math.max(...rel);
    const pct = rel.length
      ? ` (${lo === hi ? num(lo) : `${num(lo)}–${num(hi)}`}% below the runner-up)`
      : "";
    const on = datasets > 1 ? markup` on ${list(ss.map((s) => s.dataset))}` : markup``;
    return markup`${title(k)}${on}${pct}`;
  }));
}

/**
 * The verdict as one short paragraph for the top of the report.
 * @example
 * verdictParagraph(verdictOf(buildTables(results), { smoke: false }));
 * // <p class="verdict"><strong>Verdict across 3 data sets (...).</strong> Best overall: ...
 */
export function verdictParagraph(v: Verdict): SafeHtml {
  const d = v.datasets.length;
  if (!d) return markup``;
  const scope = d > 1
    ? markup` across ${d} data sets (${list(v.datasets)})`
    : markup` on ${v.datasets[0]}`;
  if (v.smoke) {
    return markup`<p class="verdict"><strong>Verdict${scope}: none.</strong> This is a
smoke-test budget: its numbers show that every part runs end to end, not which method is better,
so no method is marked best.</p>`;
  }
  const title = (k: ColumnKey) => v.titles[k] ?? k;
  const parts: SafeHtml[] = [];
  if (v.leaders.length) {
    const top = v.leaders[0].stars.length;
    const best = v.leaders.filter((l) => l.stars.length === top);
    parts.push(
      best.length === 1
        ? markup`Best overall: <strong>${best[0].series}</strong>, ★ in ${top} of ${v.columns}
columns: ${starsText(best[0].stars, title, d)}.`
        : markup`No single best: ${
          list(best.map((l) => markup`<strong>${l.series}</strong>`))
        } lead ${top} of ${v.columns} columns each (${
          best.map((l, i) => markup`${i ? "; " : ""}${l.series}: ${starsText(l.stars, title, d)}`)
        }).`,
    );
  } else {
    parts.push(
      markup`No method is clearly best: in no column does the leader beat the runner-up by more
than ${BEST_Z} combined standard errors.`,
    );
  }
  if (v.effects.length) {
    const effects = v.effects.map((e, i) => {
      const one = e.lead.length === 1;
      const words = EFFECT_WORDS[e.column]?.(e, one) ??
        `${one ? "has" : "have"} ${times(e.ratio)} lower ${
          title(e.column)
        } than the median of the rest (${against(e)})`;
      return markup`${i ? "; " : ""}${list(e.lead)} ${words}${where(e.datasets, d)}`;
    });
    parts.push(markup`Biggest effects: ${effects}.`);
  }
  const on = (ds: string[]) =>
    d === 1 ? markup`` : ds.length === d ? markup` (every data set)` : markup` on ${list(ds)}`;
  const inside = v.unclear.filter((u) => u.inside.length);
  if (inside.length) {
    parts.push(markup`Inside the noise (the leader within ${BEST_Z} standard errors of the
runner-up): ${list(inside.map((u) => markup`${title(u.column)}${on(u.inside)}`))}.`);
  }
  const unmeasured = v.unclear.filter((u) => u.unmeasured.length);
  if (unmeasured.length) {
    parts.push(
      markup`No measured uncertainty, so no ★: ${
        list(unmeasured.map((u) => markup`${title(u.column)}${on(u.unmeasured)}`))
      }.`,
    );
  }
  return markup`<p class="verdict"><strong>Verdict${scope}.</strong> ${
    parts.map((p, i) => markup`${i ? " " : ""}${p}`)
  }</p>`;
}
