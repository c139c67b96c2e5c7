// The report's plain statement of whether its models have learned their data: per data set, the
// methods the learning-curve rule finds still improving and, when the data's optimum is known,
// how far every method's NLL is above it (the gap).
import type { ResultsFile } from "../results/schema.ts";
import { headlineNll } from "../results/headline.ts";
import { CONVERGENCE_RULE, optimumNats } from "../results/convergence.ts";
import { markup, type SafeHtml } from "./escape.ts";
import { changeText, seriesConvergence } from "./learning-chart.ts";
import { meanSd } from "./seeds.ts";
import { datasetsOf } from "./table.ts";

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

/**
 * The banner at the top of a report whose runs recorded learning curves: "Not converged" with,
 * per data set, how many methods still improve, by how much over the last doubling, and the gap
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
  const lines = all.map((d) => {
    const open = d.open.length
      ? `${d.open.length} of ${d.measured} methods still improving (held-out NLL fell by ${
        range(d.open.map((o) => -o.change))
      } nats over the last doubling of training)`
      : `all ${d.measured} methods converged by the rule`;
    const gap = d.optimum !== undefined && d.gaps.length
      ? `; NLL ${range(d.gaps.map((g) => g.gap))} nats above the data's optimum (entropy ${
        d.optimum.toFixed(3)
      } nats)`
      : "";
    return markup`<li><strong>${d.dataset}</strong>: ${open}${gap}.</li>`;
  });
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
