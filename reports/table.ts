// The comparison table (shape of Lipman et al. Table 1): per dataset, methods x headline metrics.
import { settingText } from "../results/setting-text.ts";
import type { MethodEntry, ResultsFile, RunRecord, SolverSetting } from "../results/schema.ts";
import { headlineEval, headlineNll } from "../results/headline.ts";
import { markup, type SafeHtml } from "./escape.ts";
import { bestIndex, groupSeeds, meanSd, seedOf, seedsIn, seedsUncertainty } from "./seeds.ts";
import { type CostMeasure, costMeasure, trainCost } from "./cost.ts";
import { columnFormat, formatWithUncertainty } from "./number-format.ts";
import { smokeBudget } from "./smoke.ts";
import { missingEverywhere } from "./missing.ts";
import { straightnessNotes } from "./outliers.ts";
import {
  interleave,
  publishedNote,
  type PublishedTableRow,
  publishedTableRows,
  renderPublishedRow,
} from "./published.ts";
import { followsTable1, nllUnit, table1Order } from "./table1.ts";
import { COLUMN_KEYS, type ColumnKey, directionArrow, type TableColumn } from "./columns.ts";
import {
  figureSelected,
  metricCells,
  metricColumns,
  metricProtocolLines,
} from "./metric-columns.ts";

export { COLUMN_KEYS, type ColumnKey, type TableColumn };

/** One cell: a number (with optional stderr) or "n/a" with the reason it is missing. */
export interface TableCell {
  /** The value ranked for "best" (the mean over seeds); absent when the cell is n/a. */
  value?: number;
  stderr?: number;
  /**
   * The measured standard error the ★ rule reads (reports/seeds.ts): one seed, that of the
   * measurement itself (NLL over test points, W2 bootstrap, NFE over noise sub-batches,
   * straightness over trajectories, CPU time over logging intervals, KID over subsets); several
   * seeds, seedsUncertainty. Undefined: no uncertainty was measured (the cell gets no ★).
   */
  uncertainty?: number;
  /** Standard deviation across seeds (runs of several seeds only). */
  spread?: number;
  /** Seeds with a value, of the row's seeds (runs of several seeds only). */
  seeds?: { used: number; total: number };
  /** Display text: the formatted value, or "n/a". */
  text: string;
  /** Kept after the value when the column is formatted in one notation (e.g. the NLL's gap). */
  suffix?: string;
  /** Why the value is missing (n/a cells only). */
  reason?: string;
  /** Where the value came from (solver setting, estimator), for a tooltip. */
  detail?: string;
  /** Best in its column by the rule of reports/seeds.ts (BEST_RULE). */
  best?: boolean;
  /** 1-based footnote number holding `reason`, set for n/a cells. */
  footnote?: number;
}

/** One trained (method, model) on the dataset: one run per seed. */
export interface TableRow {
  /** The first seed's run. */
  runId: string;
  /** Every seed's run, by ascending seed. */
  runIds: string[];
  seeds: number[];
  /** Seeds whose run failed (the row is "failed" only when all did). */
  failedSeeds: number[];
  /** The method label, or "label [model]" when one method was trained with several models. */
  series: string;
  method: MethodEntry | undefined;
  methodLabel: string;
  model: string;
  preset: string;
  paramCount: number;
  status: RunRecord["status"];
  cells: Record<ColumnKey, TableCell>;
  /** Evaluated from a released checkpoint (not trained here): its file, key and step. */
  released?: { file: string; key: string; step?: number };
}

/** The comparison table for one dataset. */
export interface DatasetTable {
  dataset: string;
  columns: TableColumn[];
  rows: TableRow[];
  /** Reasons for n/a cells; cell.footnote indexes this list from 1. */
  footnotes: string[];
  /**
   * The quality metric between two held-out samples of the evaluation size (the noise level of
   * the metric: a perfect model scores about this), and its spread over held-out draws when
   * recorded (`<metric>_std`), if known.
   */
  reference?: Record<string, number>;
  /**
   * Published reference rows shown beside the measured ones (cifar10: Table 1 and others), and
   * the solver that counted the measured NFE (for the note on comparability).
   */
  published?: { rows: PublishedTableRow[]; nfeSolver: string };
  /** How the table's FID/KID were computed, one line per distinct protocol (FID suites). */
  protocol?: string[];
  /** Lines under the table explaining values that look broken but are not (reports/outliers.ts). */
  notes?: string[];
}

/**
 * Datasets in order of first appearance in the runs.
 * @example
 * datasetsOf(results); // ["moons", "8gaussians", "checkerboard"]
 */
export function datasetsOf(results: ResultsFile): string[] {
  return [...new Set(results.runs.map((r) => r.dataset))];
}

/**
 * Runs of one dataset, ordered as results.methods lists the methods, then by model.
 * @example
 * runsOf(results, "moons").map((r) => r.method); // ["FM w/ OT", "FM w/ Diffusion", ...]
 */
export function runsOf(results: ResultsFile, dataset: string): RunRecord[] {
  const order = new Map(results.methods.map((m, i) => [m.label, i]));
  const rank = (r: RunRecord) => order.get(r.method) ?? results.methods.length;
  return results.runs.filter((r) => r.dataset === dataset)
    .map((r, i) => ({ r, i }))
    .sort((a, b) =>
      rank(a.r) - rank(b.r) || a.r.method.localeCompare(b.r.method) ||
      a.r.model.localeCompare(b.r.model) || a.i - b.i
    )
    .map(({ r }) => r);
}

/**
 * The series name of every run (keyed by run id): the method label, with the model appended
 * in brackets only where a method was trained with more than one model on some dataset.
 * Charts and tables use it for legends and colours.
 * @example
 * seriesLabels(results).get(run.id); // "FM w/ OT", or "FM w/ OT [unet/small]" when models differ
 */
export function seriesLabels(results: ResultsFile): Map<string, string> {
  const models = new Map<string, Set<string>>();
  for (const r of results.runs) {
    const key = `${r.dataset}\u0000${r.method}`;
    if (!models.has(key)) models.set(key, new Set());
    models.get(key)!.add(`${r.model}/${r.preset}`);
  }
  const ambiguous = new Set(
    [...models].filter(([, s]) => s.size > 1).map(([k]) => k.split("\u0000")[1]),
  );
  return new Map(
    results.runs.map((
      r,
    ) => [r.id, ambiguous.has(r.method) ? `${r.method} [${r.model}/${r.preset}]` : r.method]),
  );
}

/**
 * Render a solver setting compactly, e.g. "rtol=1e-5, atol=1e-5" or "steps=8".
 * @example
 * formatSetting({ rtol: 1e-5, atol: 1e-5 }); // "rtol=1e-5, atol=1e-5"
 * formatSetting({ steps: 8, grid: "edm" }); // "steps=8, grid=edm"
 */
export function formatSetting(
  setting: Readonly<Record<string, number | string | undefined>> | undefined,
): string {
  return settingText(setting, { separator: ", ", number: formatNumber });
}

/**
 * Format a number for display: integers exactly, otherwise three significant digits.
 * @example
 * formatNumber(42); // "42"
 * formatNumber(0.012345); // "0.0123"
 * formatNumber(0.000123); // "1.23e-4"
 */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 1e-3) return String(Number(v.toPrecision(3)));
  return v.toExponential(2).replace(/\.?0+e/, "e");
}

/**
 * Format a mean with its standard error, both rounded to the stderr's two leading digits.
 * @example
 * formatWithError(3.14159, 0.0123); // "3.142 ± 0.012"
 */
export function formatWithError(v: number, stderr: number | undefined): string {
  if (stderr === undefined || !Number.isFinite(stderr) || stderr <= 0) return formatNumber(v);
  const decimals = Math.max(0, Math.min(6, 1 - Math.floor(Math.log10(stderr))));
  return `${v.toFixed(decimals)} ± ${stderr.toFixed(decimals)}`;
}

/**
 * Format a duration in seconds as "12.3 s", "4m 05s" or "1h 02m".
 * @example
 * formatDuration(7.5); // "7.50 s"
 * formatDuration(245); // "4m 05s"
 * formatDuration(3725); // "1h 02m"
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(2) : seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

const na = (reason: string): TableCell => ({ text: "n/a", reason });

function evalLabel(e: { solver: string; setting: SolverSetting }): string {
  const s = formatSetting(e.setting);
  return s ? `${e.solver} (${s})` : e.solver;
}

function nllCell(run: RunRecord, results: ResultsFile): TableCell {
  const n = headlineNll(run, results.headline.adaptiveSolver);
  if (!n) return na("no NLL evaluation recorded for this run");
  const probes = n.probes ? `, ${n.probes} ${n.noise ? `${n.noise} ` : ""}probe(s)` : "";
  const k = n.bpd !== undefined
    ? `, K=${n.dequantSamples ?? 1}${
      typeof n.bpdSingleSample === "number"
        ? ` (K=1 on the same draws: ${formatNumber(n.bpdSingleSample)})`
        : ""
    }`
    : "";
  const detail = `${n.estimator}${probes}, ${evalLabel(n)}, n=${n.n}, NFE ${n.nfe}${k}`;
  const bpd = results.headline.nll === "bpd";
  const value = bpd ? n.bpd : n.nats;
  if (value === undefined) {
    return na("the NLL record has no bits/dim value (bpd is only defined for 8-bit images)");
  }
  if (value === null || !Number.isFinite(value)) {
    return na(`the NLL value is not finite (${value ?? "null in results.json"})`);
  }
  const stderr = n.stderr ?? undefined;
  // The record's stderr is in bits/dim whenever bpd is present (see NllRecord.stderr).
  if (!bpd && n.bpd !== undefined) {
    return { value, text: formatNumber(value), detail: `${detail}; stderr only in bits/dim` };
  }
  return {
    value,
    stderr,
    ...(typeof stderr === "number" ? { uncertainty: stderr } : {}),
    text: formatWithError(value, stderr),
    detail: `${detail}; ± standard error over the ${n.n} test points`,
  };
}

/**
 * The NLL cell with its gap to the data's optimum (its entropy, known for toy data) when the
 * results record it: the gap says how far a model is from having learned its data.
 */
function withOptimumGap(cell: TableCell, results: ResultsFile, dataset: string): TableCell {
  const optimum = results.headline.nll === "bpd"
    ? undefined
    : finite(results.references?.[dataset]?.entropy);
  if (cell.value === undefined || optimum === undefined) return cell;
  const gap = cell.value - optimum;
  const suffix = ` (gap ${gap >= 0 ? "+" : ""}${gap.toFixed(2)})`;
  return {
    ...cell,
    suffix,
    text: `${cell.text}${suffix}`,
    detail: `${cell.detail ?? ""}; gap to the optimum: NLL minus the data's entropy ` +
      `${optimum.toFixed(4)} nats`,
  };
}

function evalCells(
  run: RunRecord,
  results: ResultsFile,
  everywhere: Set<string>,
): [TableCell, TableCell, TableCell] {
  const { adaptiveSolver, quality } = results.headline;
  const e = headlineEval(run, adaptiveSolver);
  if (!e) {
    const reason = `no evaluation with the adaptive solver "${adaptiveSolver}" was recorded`;
    return [na(reason), na(reason), na(reason)];
  }
  const where = evalLabel(e);
  if (e.status !== "ok") {
    const reason = `${where} failed: ${e.error ?? "no reason recorded"}`;
    return [na(reason), na(reason), na(reason)];
  }
  const samples = e.protocol ? `, ${e.protocol.generated} samples, NFE ${e.nfe}` : "";
  const why = (metric: string) =>
    e.notes?.[metric] ?? (Object.values(e.notes ?? {}).join("; ") || "no reason recorded");
  // FID and KID missing for the same reason (e.g. no Inception weights) share one footnote.
  const both = e.metrics?.[quality] === undefined && e.metrics?.kid === undefined &&
    why(quality) === why("kid");
  const missing = (metric: string) =>
    !figureSelected(results, metric)
      ? na(`${metric.toUpperCase()} was not among the selected metrics (--metrics)`)
      : e.metrics?.[metric] === null
      ? na(`${metric.toUpperCase()} was not finite for ${where} (null in results.json)`)
      : everywhere.has(metric)
      // No run has it (e.g. no Inception weights): the reason is said once, above the tables.
      ? na(
        `${
          both ? "FID/KID" : metric.toUpperCase()
        } n/a in every run: see the note above the tables`,
      )
      : na(`${both ? "FID/KID" : metric.toUpperCase()} not computed for ${where}: ${why(metric)}`);
  const q = e.metrics?.[quality];
  // The evaluation's own spread when recorded, else the noise level's: the spread of the metric
  // between independent held-out draws of the same size (what sampling alone moves it by).
  const ownStd = finite(e.metrics?.[`${quality}_std`]);
  const noiseStd = finite(results.references?.[run.dataset]?.[`${quality}_std`]);
  const qStd = ownStd ?? noiseStd;
  const qCell: TableCell = typeof q === "number" && Number.isFinite(q)
    ? {
      value: q,
      ...(qStd !== undefined ? { uncertainty: qStd, stderr: qStd } : {}),
      text: formatWithError(q, qStd),
      detail: `${where}${samples}${
        qStd !== undefined
          ? ownStd !== undefined
            ? `; ± its standard error (${quality}_std)`
            : `; ± the spread of ${quality.toUpperCase()} between independent held-out draws ` +
              `of this size (the noise level's standard deviation)`
          : "; no uncertainty recorded for this value (no ★)"
      }`,
    }
    : missing(quality);
  const k = e.metrics?.kid;
  const kStd = finite(e.metrics?.kid_std);
  const kidCell: TableCell = typeof k === "number" && Number.isFinite(k)
    ? {
      value: k,
      ...(kStd !== undefined ? { uncertainty: kStd, stderr: kStd } : {}),
      text: formatWithError(k, kStd),
      detail: `${where}${samples}; ± std over ${e.protocol?.kid?.subsets ?? "the"} subsets`,
    }
    : missing("kid");
  const draws = e.nfeDraws?.nfe ?? [];
  const nfeU = draws.length > 1 ? meanSd(draws).sd / Math.sqrt(draws.length) : undefined;
  const nfeCell: TableCell = Number.isFinite(e.nfe)
    ? {
      value: e.nfe,
      ...(nfeU !== undefined ? { uncertainty: nfeU, stderr: nfeU } : {}),
      text: formatWithError(e.nfe, nfeU),
      detail: nfeU !== undefined
        ? `${where}; ± standard error from the NFE on ${draws.length} disjoint sub-batches of ` +
          `${e.nfeDraws!.batch} noise samples (${draws.join(", ")}) / √${draws.length}`
        : `${where}; no NFE spread recorded (no ★)`,
    }
    : na(`NFE not recorded for ${where}`);
  return [qCell, kidCell, nfeCell];
}

/**
 * One line per distinct FID/KID protocol among a dataset's runs: reference set and size, samples
 * per solver setting, preprocessing, KID settings and the weights' hash.
 * @example
 * protocolLines(results.runs.filter((r) => r.dataset === "cifar10")); // ["FID/KID protocol: reference cifar10 train, 50,000 images · ..."]
 */
export function protocolLines(runs: RunRecord[]): string[] {
  const count = (n: number) => n.toLocaleString("en-US");
  const seen = new Map<string, string>();
  for (const r of runs) {
    for (const e of r.evals ?? []) {
      const p = e.protocol;
      if (!p) continue;
      const key = JSON.stringify(p);
      if (seen.has(key)) continue;
      const kid = p.kid
        ? `KID: ${p.kid.estimator}, kernel ${p.kid.kernel}, ${p.kid.subsets} subsets of ` +
          `${count(p.kid.subsetSize)}, against ${
            count(p.reference.kidFeatures ?? p.reference.n)
          } reference features · `
        : "";
      const published = p.weights.published ? " (pytorch-fid's published file)" : "";
      seen.set(
        key,
        `FID/KID protocol: reference ${p.reference.dataset} ${p.reference.split}, ` +
          `${count(p.reference.n)} images · ${
            count(p.generated)
          } generated samples per solver setting (solver and NFE: the NFE column and each ` +
          `cell's tooltip) · ${p.preprocessing} · ${kid}${p.network}, ${p.weights.file} ` +
          `sha256 ${p.weights.sha256}${published}`,
      );
    }
  }
  return [...seen.values()];
}

/**
 * The Euler steps straightness was measured with (the run config's eval.straightnessSteps).
 * @example
 * straightnessSteps(results); // 100
 */
export function straightnessSteps(results: ResultsFile): number | undefined {
  const cfg = results.manifest.config as { eval?: { straightnessSteps?: unknown } } | undefined;
  const n = cfg?.eval?.straightnessSteps;
  return typeof n === "number" ? n : undefined;
}

/**
 * Where straightness is measured, in words: "explicit-Euler trajectories (100 steps)".
 * @example
 * straightnessWhere(results); // "explicit-Euler trajectories (100 steps)"
 */
export function straightnessWhere(results: ResultsFile): string {
  const n = straightnessSteps(results);
  return `explicit-Euler trajectories${n === undefined ? "" : ` (${n} steps)`}`;
}

/** A finite number, or undefined (absent, null or not finite). */
function finite(x: unknown): number | undefined {
  return typeof x === "number" && Number.isFinite(x) ? x : undefined;
}

/** The training-cost cell: own work plus what the method needs first (reports/cost.ts). */
function costCell(run: RunRecord, results: ResultsFile, measure: CostMeasure): TableCell {
  const c = trainCost(results, run, measure);
  if (!c) return na("no training record");
  const unit = measure === "cpu" ? "CPU s" : "s wall clock";
  const parts = c.parts.length > 1
    ? `; ${c.parts.map((p) => `${p.what} ${formatNumber(p.seconds)} ${unit}`).join(" + ")}`
    : "";
  const missing = c.missing.length ? `; not in this file: ${c.missing.join(", ")}` : "";
  const wall = measure === "cpu" && c.wallSeconds !== undefined
    ? `; own training wall clock ${formatDuration(c.wallSeconds)}`
    : "";
  return {
    value: c.seconds,
    ...(c.stderr !== undefined ? { uncertainty: c.stderr, stderr: c.stderr } : {}),
    text: formatDuration(c.seconds),
    detail: `${run.train!.steps} steps x batch ${run.train!.batch}${parts}${missing}${wall}${
      c.stderr !== undefined
        ? "; ± standard error of the CPU time from its spread per step over logging intervals"
        : "; no uncertainty measured (no ★)"
    }`,
  };
}

function runCells(
  run: RunRecord,
  results: ResultsFile,
  measure: CostMeasure,
  everywhere: Set<string>,
): Record<ColumnKey, TableCell> {
  if (run.status !== "ok") {
    const reason = run.status === "partial"
      ? "run incomplete (interrupted): resume it with the same command and --out"
      : `run failed: ${run.error ?? "no reason recorded"}`;
    const cell = na(reason);
    const metrics = metricColumns(results).map((c) => [c.key, cell]);
    return {
      nll: cell,
      quality: cell,
      kid: cell,
      nfe: cell,
      straightness: cell,
      trainTime: cell,
      ...Object.fromEntries(metrics),
    };
  }
  const [quality, kid, nfe] = evalCells(run, results, everywhere);
  const sU = finite(run.straightnessStderr);
  const straightness: TableCell = typeof run.straightness === "number" &&
      Number.isFinite(run.straightness)
    ? {
      value: run.straightness,
      ...(sU !== undefined ? { uncertainty: sU, stderr: sU } : {}),
      text: formatWithError(run.straightness, sU),
      detail: `${straightnessWhere(results)}${
        sU !== undefined
          ? "; ± standard error over the trajectories"
          : "; no uncertainty recorded (no ★)"
      }`,
    }
    : na("straightness was not computed for this run");
  const trainTime = costCell(run, results, measure);
  const metrics = Object.entries(metricCells(results, run, evalLabel)).map(([key, c]) => [
    key,
    c.value === undefined ? na(c.reason ?? "no reason recorded") : {
      value: c.value,
      // A metric's own spread (KID's over subsets, IS's over splits) is its uncertainty, as
      // KID's is; a figure without one gets no ★ from one seed.
      ...(c.spread !== undefined ? { uncertainty: c.spread, stderr: c.spread } : {}),
      text: formatWithError(c.value, c.spread),
      detail: c.spread !== undefined
        ? `${c.detail}; ± the metric's own standard deviation`
        : `${c.detail}; no uncertainty recorded for this value (no ★)`,
    },
  ]);
  return {
    nll: nllCell(run, results),
    quality,
    kid,
    nfe,
    straightness,
    trainTime,
    ...Object.fromEntries(metrics),
  };
}

/**
 * The column headers for a results file's headline conventions (and its number of seeds).
 * @example
 * tableColumns(results).map((c) => c.key);
 * // toy2d: ["nll", "quality", "nfe", "straightness", "trainTime"] (FID suites add "kid")
 */
export function tableColumns(results: ResultsFile): TableColumn[] {
  const n = seedsIn(results).length;
  const cols = headlineColumns(results);
  if (n < 2) return cols;
  return cols.map((c) => ({
    ...c,
    help: `${c.help.replace(/; ± .*$/, "")}; mean ± standard deviation over ${n} seeds`,
  }));
}

function headlineColumns(results: ResultsFile): TableColumn[] {
  const { adaptiveSolver, quality, nll } = results.headline;
  const q = quality === "fid" ? "FID" : "W2";
  const columns: TableColumn[] = [
    {
      key: "nll",
      title: "NLL",
      sub: nllUnit(results),
      help: nll === "bpd"
        ? "negative log-likelihood in bits per dimension of 8-bit data with K uniform " +
          "dequantisations per image (log (1/K) sum_k p(x + u_k)); ± standard error over the " +
          "test images"
        : "negative log-likelihood in nats per data point; ± standard error over the test points",
    },
    {
      key: "quality",
      title: q,
      sub: adaptiveSolver,
      help: `${
        q === "FID" ? "Fréchet inception distance" : "2-Wasserstein distance to held-out data"
      } of samples from the adaptive solver ${adaptiveSolver} (tightest tolerance); ± ${
        q === "FID"
          ? "none with one seed (FID has no per-run uncertainty here: no ★)"
          : `standard error (${quality}_std, by the delta method over the matched pairs) where ` +
            "recorded, else none (no ★)"
      }`,
    },
    ...(figureSelected(results, "kid")
      ? [{
        key: "kid" as const,
        title: "KID",
        sub: `${adaptiveSolver} · ± std`,
        help: `kernel inception distance (unbiased MMD² with the cubic polynomial kernel, mean ` +
          `± std over subsets) of the same samples as the FID column`,
      }]
      : []),
    ...metricColumns(results),
    {
      key: "nfe",
      title: "NFE",
      sub: adaptiveSolver,
      help: `velocity evaluations per sample path used by ${adaptiveSolver}, counted by the ` +
        "harness; ± standard error from its NFE on disjoint sub-batches of the evaluation noise",
    },
    {
      key: "straightness",
      title: "Straightness",
      sub: "0 = straight",
      help: "Liu et al.'s straightness of the learned flow along explicit-Euler trajectories " +
        "(lower is straighter); ± standard error over the trajectories",
    },
    costMeasure(results) === "cpu"
      ? {
        key: "trainTime",
        title: "Train cost",
        sub: "CPU s, own thread",
        help: "CPU seconds of the thread that trained the method (its own work: the same " +
          "whatever other --jobs workers do; kernels on other threads, e.g. OpenBLAS with " +
          "FMBENCH_BLAS_THREADS > 1, are not counted), plus what it needs before it can train " +
          "(2-RF: its teacher's training and the reflow pair generation); ± standard error " +
          "from the CPU time per step over logging intervals. The wall clock is in the tooltip.",
      }
      : {
        key: "trainTime",
        title: "Train cost",
        sub: "wall clock",
        help: "training wall-clock time on this run's backend (a GPU's work is not CPU time), " +
          "plus what the method needs before it can train (2-RF: its teacher's training and " +
          "the reflow pairs); no uncertainty is measured for it (no ★ with one seed)",
      },
  ];
  return columns;
}

/**
 * One cell from the same column of every seed's run: a single seed's cell as it is; several
 * seeds give mean ± standard deviation over the seeds that have a value (n/a when none has).
 */
function seedCell(cells: TableCell[], key: ColumnKey): TableCell {
  if (cells.length === 1) return cells[0];
  const ok = cells.filter((c) => c.value !== undefined);
  const missing = cells.filter((c) => c.value === undefined);
  if (ok.length === 0) {
    const reasons = [...new Set(missing.map((c) => c.reason ?? "no reason recorded"))];
    return na(`every seed: ${reasons.join("; ")}`);
  }
  const { mean, sd } = meanSd(ok.map((c) => c.value!));
  const text = key === "trainTime"
    ? (sd > 0 ? `${formatDuration(mean)} ± ${formatDuration(sd)}` : formatDuration(mean))
    : formatWithError(mean, sd);
  const uncertainty = seedsUncertainty(ok.map((c) => c.value!), ok.map((c) => c.uncertainty));
  const notes = [
    `mean ± standard deviation over ${ok.length} of ${cells.length} seeds`,
    ok[0].detail,
    ...(missing.length
      ? [`${missing.length} seed(s) n/a: ${[...new Set(missing.map((c) => c.reason))].join("; ")}`]
      : []),
  ].filter((s) => s);
  return {
    value: mean,
    spread: sd,
    ...(uncertainty !== undefined ? { uncertainty } : {}),
    seeds: { used: ok.length, total: cells.length },
    text,
    detail: notes.join("; "),
  };
}

/** The finite values of a metric record (null, "could not be computed", is left out); undefined if none. */
function finiteValues(
  values: Record<string, number | null> | undefined,
): Record<string, number> | undefined {
  const kept = Object.entries(values ?? {}).filter((kv): kv is [string, number] =>
    typeof kv[1] === "number" && Number.isFinite(kv[1])
  );
  return kept.length ? Object.fromEntries(kept) : undefined;
}

/**
 * Write every value cell of one column in one notation (reports/number-format.ts): the value ±
 * its standard error with one seed, the mean ± the standard deviation over seeds with several.
 */
function formatColumn(cells: TableCell[], key: ColumnKey): void {
  const shown = (c: TableCell) => c.spread ?? c.uncertainty;
  const format = columnFormat(cells.map((c) => c.value!), cells.map(shown), {
    seconds: key === "trainTime",
  });
  for (const c of cells) {
    c.text = formatWithUncertainty(format, c.value!, shown(c)) + (c.suffix ?? "");
  }
}

/**
 * Build the comparison tables (one per dataset) from a results file.
 * @example
 * const [table] = buildTables(results); // table.dataset: "moons"; table.rows: one per series
 */
export function buildTables(results: ResultsFile): DatasetTable[] {
  const methods = new Map(results.methods.map((m) => [m.label, m]));
  const series = seriesLabels(results);
  const columns = tableColumns(results);
  const keys = columns.map((c) => c.key);
  const measure = costMeasure(results);
  const smoke = smokeBudget(results) !== null;
  const everywhere = new Set(missingEverywhere(results).map((m) => m.metric));
  return datasetsOf(results).map((dataset) => {
    const runs = runsOf(results, dataset);
    const measured: TableRow[] = groupSeeds(results, runs).map((group) => {
      const run = group[0];
      const perSeed = group.map((r) => runCells(r, results, measure, everywhere));
      const cells = Object.fromEntries(
        [...new Set([...COLUMN_KEYS, ...keys])]
          .map((k) => [k, seedCell(perSeed.map((c) => c[k]), k)]),
      ) as Record<ColumnKey, TableCell>;
      cells.nll = withOptimumGap(cells.nll, results, run.dataset);
      const statuses = group.map((r) => r.status);
      return {
        runId: run.id,
        runIds: group.map((r) => r.id),
        seeds: group.map((r) => seedOf(results, r)),
        failedSeeds: group.filter((r) => r.status === "failed").map((r) => seedOf(results, r)),
        series: series.get(run.id) ?? run.method,
        method: methods.get(run.method),
        methodLabel: run.method,
        model: run.model,
        preset: run.preset,
        paramCount: run.paramCount,
        ...releasedOf(run),
        status: statuses.includes("ok")
          ? "ok"
          : statuses.includes("partial")
          ? "partial"
          : "failed",
        cells,
      };
    });
    const table1 = followsTable1(results);
    const rows = table1 ? table1Order(measured) : measured;
    for (const column of columns) {
      const key = column.key;
      // Higher-is-better columns rank by the negated value.
      const sign = column.direction === "higher" ? -1 : 1;
      const withValue = rows.filter((r) => r.cells[key].value !== undefined);
      formatColumn(withValue.map((r) => r.cells[key]), key);
      // A smoke-test budget's numbers say nothing about which method is better: no ★.
      if (smoke) continue;
      const i = bestIndex(withValue.map((r) => ({
        value: sign * r.cells[key].value!,
        uncertainty: r.cells[key].uncertainty,
      })));
      if (i >= 0) withValue[i].cells[key].best = true;
    }
    const footnotes: string[] = [];
    for (const r of rows) {
      for (const key of keys) {
        const cell = r.cells[key];
        if (cell.reason === undefined) continue;
        let i = footnotes.indexOf(cell.reason);
        if (i < 0) i = footnotes.push(cell.reason) - 1;
        cell.footnote = i + 1;
      }
    }
    const reference = finiteValues(results.references?.[dataset]);
    const protocol = [...protocolLines(runs), ...metricProtocolLines(results)];
    const notes = straightnessNotes(rows);
    const published = table1 ? publishedTableRows(results, dataset) : [];
    return {
      dataset,
      columns,
      rows,
      footnotes,
      reference,
      ...(protocol.length ? { protocol } : {}),
      ...(notes.length ? { notes } : {}),
      ...(published.length
        ? { published: { rows: published, nfeSolver: results.headline.adaptiveSolver } }
        : {}),
    };
  });
}

/**
 * The caption's note on the quality metric's noise level: its value between two held-out samples
 * of the evaluation size (± its spread over held-out draws where recorded), an estimate of what a
 * perfect model would score, not a floor.
 * @example
 * noiseLevelCaption({ w2: 0.279, w2_std: 0.021 });
 * // " · noise level: W2 0.279 ± 0.021 between two held-out samples of the evaluation size ..."
 */
export function noiseLevelCaption(reference: Record<string, number> | undefined): SafeHtml {
  const entries = Object.entries(reference ?? {}).filter(([k]) => !k.endsWith("_std"));
  if (!entries.length) return markup``;
  const text = entries.map(([k, v]) =>
    `${k.toUpperCase()} ${formatWithError(v, reference![`${k}_std`])}`
  ).join(", ");
  const spread = entries.some(([k]) => reference![`${k}_std`] !== undefined);
  return markup`<span class="reference"> · noise level: ${text} between two held-out samples of
the evaluation size${
    spread ? " (± its spread over held-out draws)" : ""
  }: about what a perfect model would score, an estimate with noise of its own</span>`;
}

/**
 * Human-readable parameter count: 1234 -> "1.23k".
 * @example
 * formatCount(1234); // "1.23k"
 * formatCount(2_500_000); // "2.5M"
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n >= 1e6) return `${Number((n / 1e6).toPrecision(3))}M`;
  if (n >= 1e3) return `${Number((n / 1e3).toPrecision(3))}k`;
  return String(n);
}

function renderCell(cell: TableCell): SafeHtml {
  if (cell.reason !== undefined) {
    return markup`<td class="num na" title="${cell.reason}">n/a<sup>${cell.footnote}</sup></td>`;
  }
  if (cell.best) {
    const title = cell.detail ? `best in column; ${cell.detail}` : "best in column";
    const mark = markup`<span class="best-mark" aria-label="best">★</span>`;
    return markup`<td class="num best" title="${title}"><strong>${cell.text}</strong>${mark}</td>`;
  }
  return markup`<td class="num" title="${cell.detail ?? ""}">${cell.text}</td>`;
}

/** The released checkpoint a run evaluated (provenance.checkpoint), if it did. */
function releasedOf(run: RunRecord): Pick<TableRow, "released"> {
  const c = run.provenance?.checkpoint as Record<string, unknown> | undefined;
  if (!c || typeof c.file !== "string" || typeof c.key !== "string") return {};
  return {
    released: {
      file: c.file,
      key: c.key,
      ...(typeof c.step === "number" ? { step: c.step } : {}),
    },
  };
}

function renderRowHead(row: TableRow, color: string | undefined): SafeHtml {
  const m = row.method;
  const recipe = m
    ? `${m.path} · ${m.coupling} · ${m.loss}`
    : "method not listed in results.methods";
  const teacher = m?.teacher ? ` · reflow of ${m.teacher}` : "";
  const ts = m?.timeSampler;
  const times = ts
    ? ` · t ~ ${ts.name}${
      Object.keys(ts.params).length
        ? ` (${Object.entries(ts.params).map(([k, v]) => `${k} ${v}`).join(", ")})`
        : ""
    }: reweights the loss relative to uniform t`
    : "";
  const swatch = color ? markup`<span class="swatch" style="background:${color}"></span>` : "";
  const failed = row.status === "failed"
    ? markup` <span class="tag-failed">failed</span>`
    : row.status === "partial"
    ? markup` <span class="tag-failed">incomplete</span>`
    : row.failedSeeds.length
    ? markup` <span class="tag-failed">seed ${row.failedSeeds.join(", ")} failed</span>`
    : "";
  const seeds = row.seeds.length > 1
    ? markup`<div class="recipe">${row.seeds.length} seeds (${row.seeds.join(", ")})</div>`
    : "";
  const model = `${row.model}/${row.preset} · ${formatCount(row.paramCount)} params`;
  const r = row.released;
  const released = r
    ? markup` <span class="tag-released">evaluated from a checkpoint</span><div class="recipe">\
${r.file} · ${r.key}${r.step !== undefined ? ` · step ${r.step}` : ""} · not trained here</div>`
    : "";
  return markup`<th scope="row">${swatch}<span class="method">${row.series}</span>${failed}\
${released}<div class="recipe">${recipe}${times}${teacher}</div><div class="recipe">${model}</div>${seeds}</th>`;
}

/**
 * Render one dataset's table as HTML. `colors` maps series names to CSS colours (trusted,
 * generated by charts.ts) for the swatch linking a row to the charts.
 * @example
 * const html = buildTables(results).map((t) => renderTable(t, seriesColors(results)));
 */
export function renderTable(table: DatasetTable, colors?: Map<string, string>): SafeHtml {
  const head = table.columns.map((c) =>
    markup`<th scope="col" class="num" title="${c.help}">${c.title} \
<span class="arrow">${directionArrow(c)}</span><div class="unit">${c.sub}</div></th>`
  );
  const runRow = (r: TableRow) =>
    markup`<tr class="${r.status === "ok" ? "" : "failed"}">${
      renderRowHead(r, colors?.get(r.series))
    }${table.columns.map((c) => renderCell(r.cells[c.key]))}</tr>`;
  const body = table.published
    ? interleave(table.rows, table.published.rows).map((l) =>
      "run" in l ? runRow(l.run) : renderPublishedRow(l.published, table.columns)
    )
    : table.rows.map(runRow);
  const notes = table.footnotes.length
    ? markup`<ol class="footnotes">${table.footnotes.map((f) => markup`<li>${f}</li>`)}</ol>`
    : "";
  const protocol = (table.protocol ?? []).map((p) => markup`<p class="protocol">${p}</p>`);
  const explained = (table.notes ?? []).map((n) => markup`<p class="note outlier">${n}</p>`);
  return markup`<div class="table-wrap"><table class="comparison" data-dataset="${table.dataset}">
<caption>${table.dataset}${noiseLevelCaption(table.reference)}</caption>
<thead><tr><th scope="col">Method <div class="unit">path · coupling · loss</div></th>${head}</tr></thead>
<tbody>${body}</tbody></table>${explained}${protocol}${notes}${
    table.published ? publishedNote(table.published.nfeSolver, table.published.rows) : ""
  }</div>`;
}
