// The one headline rule: which evaluation stands for a run in the comparison table, the terminal
// summary and the log line (the adaptive solver at its tightest tolerance, failed or not).
import type { EvalRecord, NllRecord, RunRecord } from "./schema.ts";

function tol(e: EvalRecord, key: "rtol" | "atol"): number {
  const v = Number(e.setting?.[key]);
  return Number.isFinite(v) ? v : Infinity;
}

/**
 * The evaluation behind the quality and NFE headline: the adaptive solver's eval with the
 * tightest tolerance (smallest rtol, then atol; first listed on ties), failed or not. A failure
 * at the tight tolerance is reported as such, never replaced by a looser setting's figure.
 * @example
 * const e = headlineEval(run, "dopri5"); // e.status === "ok" ? e.metrics.w2 : e.error
 */
export function headlineEval(run: RunRecord, adaptiveSolver: string): EvalRecord | undefined {
  const candidates = (run.evals ?? []).filter((e) => e.solver === adaptiveSolver);
  let best: EvalRecord | undefined;
  for (const e of candidates) {
    if (
      !best || tol(e, "rtol") < tol(best, "rtol") ||
      (tol(e, "rtol") === tol(best, "rtol") && tol(e, "atol") < tol(best, "atol"))
    ) best = e;
  }
  return best;
}

/**
 * The NLL record behind the NLL headline: the first one computed with the adaptive solver.
 * @example
 * const n = headlineNll(run, "dopri5"); // n?.bpd ?? n?.nats
 */
export function headlineNll(run: RunRecord, adaptiveSolver: string): NllRecord | undefined {
  const nll = run.nll ?? [];
  return nll.find((n) => n.solver === adaptiveSolver) ?? nll[0];
}
