// The one "not converged" rule: a run whose held-out NLL still fell over its last decade of
// training (from step s/10 to its last step s) by more than twice that change's standard error;
// and the data set's optimum (its true entropy) when the results record it.
import type { LearningPoint, ResultsFile } from "./schema.ts";

/**
 * The rule in words, for reports.
 * @example
 * CONVERGENCE_RULE; // "not converged: the NLL of the learning curve's held-out points fell ..."
 */
export const CONVERGENCE_RULE = "not converged: the NLL of the learning curve's held-out points " +
  "fell over the last decade of training (from the probe at or below a tenth of the last step " +
  "to the last step) by more than 2 standard errors of that change";

/** What a learning curve says about convergence. */
export interface Convergence {
  /** false: still improving (not converged); true: not beyond its noise; null: cannot tell. */
  converged: boolean | null;
  /** The decade compared: its first and last step. */
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
  /** Why it cannot tell, when converged is null. */
  why?: string;
}

const finite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/**
 * Apply the rule to a learning curve (points in step order).
 * @example
 * convergence([{ step: 100, nll: 3.0, stderr: 0.07, ... },
 *   { step: 1000, nll: 2.5, stderr: 0.07, decade: { from: 100, change: -0.5, stderr: 0.02 }, ... }]);
 * // { converged: false, from: 100, to: 1000, change: -0.5, stderr: 0.02, basis: "paired" }
 */
export function convergence(curve: LearningPoint[] | undefined): Convergence {
  if (!curve?.length) return { converged: null, why: "no learning curve was recorded" };
  const last = curve.findLast((p) => finite(p.nll));
  if (!last) return { converged: null, why: "no probe of the learning curve has an NLL" };
  let from: number, change: number, stderr: number, basis: Convergence["basis"];
  const d = last.decade;
  if (d && finite(d.change) && finite(d.stderr)) {
    ({ from, change, stderr } = d);
    basis = "paired";
  } else {
    const first = curve.findLast((p) =>
      p.step <= last.step / 10 && finite(p.nll) && finite(p.stderr)
    );
    if (!first || !finite(last.stderr)) {
      return {
        converged: null,
        why: `no probe with an NLL at or below a tenth of step ${last.step} to compare with`,
      };
    }
    from = first.step;
    change = last.nll! - first.nll!;
    stderr = Math.hypot(first.stderr!, last.stderr);
    basis = "independent";
  }
  return { converged: !(-change > 2 * stderr), from, to: last.step, change, stderr, basis };
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
