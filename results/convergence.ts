// The one "not converged" rule: a run whose held-out NLL still fell over the last decade of its
// training by more than twice that change's standard error, unless its NLL is already within
// noise of the data's optimum (its true entropy, when the results record it).
import type { LearningPoint, ResultsFile } from "./schema.ts";

/**
 * The rule in words, for reports.
 * @example
 * CONVERGENCE_RULE; // "a model is not converged when the NLL of the learning curve's ..."
 */
export const CONVERGENCE_RULE = "a model is not converged when the NLL of the learning curve's " +
  "held-out points fell over the last decade of training (from the probe at or below a tenth of " +
  "the last step to the last step) by more than 2 standard errors of that change, and, where the " +
  "data's optimum is known, its NLL is more than 2 standard errors above it";

/** What a learning curve says about convergence. */
export interface Convergence {
  /** false: still improving (not converged); true: not beyond its noise; null: cannot tell. */
  converged: boolean | null;
  /** The window compared: its first and last step. */
  from?: number;
  to?: number;
  /** NLL change over it (nats; negative: improved) and its standard error. */
  change?: number;
  stderr?: number;
  /**
   * "paired": the mean change of each held-out point's NLL (what the probe records); else from
   * the two points' own standard errors (larger: the same points' noise is not cancelled).
   */
  basis?: "paired" | "independent";
  /** Whether the NLL is within 2 standard errors of the optimum (absent: optimum unknown). */
  atOptimum?: boolean;
  /** Why it cannot tell, when converged is null. */
  why?: string;
}

/** The data's optimum and the run's own NLL estimate to compare with it. */
export interface OptimumInput {
  /** The data's entropy (nats): the lowest mean NLL any model can reach. */
  optimum?: number;
  /** The run's NLL estimate (its headline, more points than a probe); absent: the last probe's. */
  nll?: { nats: number | null; stderr: number | null };
}

const finite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/**
 * Apply the rule to a learning curve (points in step order), knowing the data's optimum if given.
 * @example
 * convergence([{ step: 100, nll: 3.1, stderr: 0.07, ... },
 *   { step: 1000, nll: 2.5, stderr: 0.07, change: { from: 100, nll: -0.6, stderr: 0.04 }, ... }]);
 * // { converged: false, from: 100, to: 1000, change: -0.6, stderr: 0.04, basis: "paired" }
 */
export function convergence(
  curve: LearningPoint[] | undefined,
  o: OptimumInput = {},
): Convergence {
  if (!curve?.length) return { converged: null, why: "no learning curve was recorded" };
  const last = curve.findLast((p) => finite(p.nll));
  if (!last) return { converged: null, why: "no probe of the learning curve has an NLL" };
  const nll = o.nll && finite(o.nll.nats) ? o.nll : { nats: last.nll, stderr: last.stderr };
  const atOptimum = finite(o.optimum) && finite(nll.stderr)
    ? nll.nats! - o.optimum <= 2 * nll.stderr
    : undefined;
  const known = atOptimum === undefined ? {} : { atOptimum };
  let from: number, change: number, stderr: number, basis: Convergence["basis"];
  const d = last.change;
  if (d && finite(d.nll) && finite(d.stderr)) {
    ({ from, nll: change, stderr } = d);
    basis = "paired";
  } else {
    const first = curve.findLast((p) =>
      p.step <= last.step / 10 && finite(p.nll) && finite(p.stderr)
    );
    if (!first || !finite(last.stderr)) {
      return {
        converged: atOptimum ? true : null,
        ...known,
        why: `no probe with an NLL at or below a tenth of step ${last.step} to compare with`,
      };
    }
    from = first.step;
    change = last.nll! - first.nll!;
    stderr = Math.hypot(first.stderr!, last.stderr);
    basis = "independent";
  }
  const improving = -change > 2 * stderr;
  return {
    converged: !improving || atOptimum === true,
    from,
    to: last.step,
    change,
    stderr,
    basis,
    ...known,
  };
}

/**
 * The data set's optimum NLL (its true entropy, nats) when the results record one
 * (`references[dataset].entropy`), else undefined.
 * @example
 * optimumNats(results, "checkerboard"); // 2.0794... (log 8) when recorded
 */
export function optimumNats(results: ResultsFile, dataset: string): number | undefined {
  const h = results.references?.[dataset]?.entropy;
  return finite(h) ? h : undefined;
}
