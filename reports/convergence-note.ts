// The report's plain statement of whether its models have learned their data: per data set, the
// methods the learning-curve rule finds still improving and, when the data's optimum is known,
// how far every method's NLL is above it (the gap).
import type { ResultsFile, RunRecord } from "../results/schema.ts";
import { headlineNll } from "../results/headline.ts";
import { convergence, CONVERGENCE_RULE, optimumNats } from "../results/convergence.ts";
import { markup, type SafeHtml } from "./escape.ts";
import { groupSeeds, meanSd } from "./seeds.ts";
import { datasetsOf, formatWithError, runsOf, seriesLabels } from "./table.ts";

/** One series' verdict: not converged when any of its seeds' curves is still improving. */
export interface SeriesConvergence {
  series: string;
  /** false: still improving; true: within its noise; null: cannot tell. */
  converged: boolean | null;
  /** The first run (seed) whose curve is still improving, or else the first, with its verdict. */
  detail: ReturnType<typeof convergence>;
  runs: RunRecord[];
}

/**
 * Every series of a data set with a learning curve, and the convergence rule's verdict on it.
 * @example
 * seriesConvergence(results, "moons").filter((s) => s.converged === false).map((s) => s.series);
 */
export function seriesConvergence(results: ResultsFile, dataset: string): SeriesConvergence[] {
  const labels = seriesLabels(results);
  const out: SeriesConvergence[] = [];
  for (const runs of groupSeeds(results, runsOf(results, dataset))) {
    const withCurve = runs.filter((r) => r.train?.learningCurve?.length);
    if (!withCurve.length) continue;
    const optimum = optimumNats(results, dataset);
    const verdicts = withCurve.map((r) =>
      convergence(r.train!.learningCurve, {
        optimum,
        nll: headlineNll(r, results.headline.adaptiveSolver),
      })
    );
    const i = verdicts.findIndex((v) => v.converged === false);
    const converged = i >= 0 ? false : verdicts.every((v) => v.converged === true) ? true : null;
    out.push({
      series: labels.get(runs[0].id) ?? runs[0].method,
      converged,
      detail: verdicts[Math.max(i, 0)],
      runs: withCurve,
    });
  }
  return out;
}

/**
 * "-0.420 ± 0.021 nats from step 100 to 1000" for a verdict with a compared window.
 * @example
 * changeText(convergence(run.train.learningCurve)); // "-0.420 ± 0.021 nats from step 100 to 1000"
 */
export function changeText(c: ReturnType<typeof convergence>): string {
  if (c.change === undefined) return c.why ?? "";
  return `${c.change > 0 ? "+" : ""}${formatWithError(c.change, c.stderr)} nats ` +
    `from step ${c.from} to ${c.to}`;
}

/** One data set's convergence summary. */
export interface DatasetConvergence {
  dataset: string;
  /** Series with a learning curve, and those the rule finds still improving. */
  measured: number;
  open: Array<{ series: string; text: string; change: number }>;
  /** The data's optimum NLL (entropy, nats) and each series' gap (headline NLL - optimum). */
  optimum?: number;
  gaps: Array<{ series: string; gap: number }>;
}

/**
 * Per data set: the series still improving (rule in results/convergence.ts) and each series' gap
 * to the optimum when the results record the data's entropy.
 * @example
 * convergenceSummary(results)[0].open.length; // 9: nine methods not converged on moons
 */
export function convergenceSummary(results: ResultsFile): DatasetConvergence[] {
  const out: DatasetConvergence[] = [];
  for (const dataset of datasetsOf(results)) {
    const verdicts = seriesConvergence(results, dataset);
    if (!verdicts.length) continue;
    const optimum = optimumNats(results, dataset);
    const gaps = optimum === undefined ? [] : verdicts.flatMap((v) => {
      const nats = v.runs.map((r) => headlineNll(r, results.headline.adaptiveSolver)?.nats)
        .filter((x): x is number => typeof x === "number" && Number.isFinite(x));
      return nats.length ? [{ series: v.series, gap: meanSd(nats).mean - optimum }] : [];
    });
    out.push({
      dataset,
      measured: verdicts.length,
      open: verdicts.filter((v) => v.converged === false).map((v) => ({
        series: v.series,
        text: changeText(v.detail),
        change: v.detail.change!,
      })),
      ...(optimum !== undefined ? { optimum } : {}),
      gaps,
    });
  }
  return out;
}

/** "0.12–0.45" (nats, two decimals), or one value when all are equal at that precision. */
const range = (xs: number[]) => {
  const lo = Math.min(...xs).toFixed(2), hi = Math.max(...xs).toFixed(2);
  return lo === hi ? lo : `${lo}–${hi}`;
};

/** One data set's line: how many methods still improve, by how much, and the gap if known. */
function datasetLine(d: DatasetConvergence): string {
  const open = d.open.length
    ? `${d.open.length} of ${d.measured} methods still improving (held-out NLL fell by ${
      range(d.open.map((o) => -o.change))
    } nats over the last decade of training)`
    : `all ${d.measured} methods converged by the rule`;
  const gap = d.optimum !== undefined && d.gaps.length
    ? `; NLL ${range(d.gaps.map((g) => g.gap))} nats above the data's optimum (entropy ${
      d.optimum.toFixed(3)
    } nats)`
    : "";
  return `${open}${gap}`;
}

/**
 * The terminal summary's lines on convergence (none when no run has a learning curve).
 * @example
 * convergenceLines(results); // ["not converged (learning curves): moons: 9 of 10 methods ..."]
 */
export function convergenceLines(results: ResultsFile): string[] {
  const all = convergenceSummary(results);
  if (!all.length) return [];
  const head = all.some((d) => d.open.length)
    ? "\nnot converged (learning curves; the rule is in the report):"
    : "\nconverged (learning curves; the rule is in the report):";
  return [head, ...all.map((d) => `  ${d.dataset}: ${datasetLine(d)}`)];
}

/**
 * The banner at the top of a report whose runs recorded learning curves: "Not converged" with,
 * per data set, how many methods still improve, by how much over the last decade, and the gap
 * to the data's optimum when known; a quieter line when every method is converged. Empty when
 * no run has a learning curve.
 * @example
 * convergenceBanner(results); // <p class="banner converged">... <strong>Not converged.</strong> ...
 */
export function convergenceBanner(results: ResultsFile): SafeHtml {
  const all = convergenceSummary(results);
  if (!all.length) return markup``;
  const steps = (results.manifest.config as { train?: { steps?: unknown } }).train?.steps;
  const budget = results.budget?.name;
  const lines = all.map((d) => markup`<li><strong>${d.dataset}</strong>: ${datasetLine(d)}.</li>`);
  const anyOpen = all.some((d) => d.open.length);
  const longer = results.suite === "toy2d" && budget !== "converged"
    ? markup` For models that have learned their data run <code>--budget converged</code>.`
    : markup``;
  return anyOpen
    ? markup`<div class="banner" role="note"><strong>Not converged.</strong> These models have
not finished learning their data${
      typeof steps === "number" ? ` in ${steps} training steps` : ""
    }: the table ranks how far each method got in this budget, not how good a model it can
learn.${longer}<ul class="headline">${lines}</ul><p class="note">Rule: ${CONVERGENCE_RULE}.
Learning curves under <a href="#training">Training</a>.</p></div>`
    : markup`<div class="banner missing" role="note">Every method's learning curve has stopped
improving by the rule (${CONVERGENCE_RULE}).<ul class="headline">${lines}</ul></div>`;
}
