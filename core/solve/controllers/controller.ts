// The contract of an adaptive solver's step controller: first step, next step, end handling.
import type { StartInput } from "../start-step.ts";

/** The step-size rule of one solve (it may remember earlier trials, e.g. the last rejection). */
export interface StepRule {
  /**
   * The next step size (unsigned) after a trial of size |h| whose error norm is `norm`: the
   * trial was accepted when norm <= 1; a NaN/Inf norm means it met NaN/Inf.
   */
  next(h: number, norm: number): number;
}

/**
 * How an adaptive Runge-Kutta solver picks its steps, apart from the tableau. `O` is the knobs
 * it reads from the solve options (safety factor, growth bounds...).
 */
export interface StepController<O = Record<never, never>> {
  /**
   * false: a step that would pass t1 is shortened to land on it. true: steps run past t1 and the
   * state there is the dense-output interpolant of the step that passes it (the tableau needs
   * `mid`).
   */
  overshoots: boolean;
  /** The first step size (unsigned) when the options give none; may evaluate f (one NFE). */
  firstStep(p: StartInput): Promise<number>;
  /** True when the step h from t is too small to go on toward t1 (or not a positive number). */
  underflow(t: number, h: number, p: { t1: number; dir: number }): boolean;
  /** A fresh rule for one solve with its options' knobs (defaults applied) and exponent q. */
  rule(opts: O, q: number): StepRule;
}
