// torchdiffeq's step control: its step rule, no shrinking after an accepted step, past the end.
import { startNorms } from "../start-step.ts";
import type { StepController } from "./controller.ts";

/** The knobs of torchdiffeq's controller (all optional; torchdiffeq's defaults). */
export interface TorchdiffeqOptions {
  /** Safety factor (default 0.9). */
  safety?: number;
  /** Largest growth factor per step (default 10). */
  ifactor?: number;
  /** Smallest shrink factor after a rejected step (default 0.2). */
  dfactor?: number;
}

/** torchdiffeq's step-rule knobs, defaults applied, and its exponent's denominator q. */
export interface TorchdiffeqRule {
  safety: number;
  ifactor: number;
  dfactor: number;
  /** The method's order in torchdiffeq (5 for dopri5, 3 for bosh3): factor ~ ratio^(-1/q). */
  q: number;
}

/**
 * torchdiffeq's next step: grow by up to `ifactor`; never shrink after an accepted step; after a
 * rejected one shrink by at least `dfactor`; factor = safety / ratio^(1/q) in between.
 * @example
 * torchdiffeqNextStep(0.1, 0.9, { safety: 0.9, ifactor: 10, dfactor: 0.2, q: 5 }); // 0.1
 */
export function torchdiffeqNextStep(h: number, ratio: number, o: TorchdiffeqRule): number {
  if (ratio === 0) return h * o.ifactor;
  const floor = ratio < 1 ? 1 : o.dfactor;
  return h * Math.min(o.ifactor, Math.max(o.safety / Math.pow(ratio, 1 / o.q), floor));
}

/**
 * torchdiffeq's controller (`odeint` with an adaptive Runge-Kutta method): Hairer's first step
 * without the clamp to the span (a NaN/Inf d2 gives a NaN step, which the solver reports as a
 * step size underflow), `torchdiffeqNextStep`, a trial that met NaN/Inf shrinks by dfactor
 * (torchdiffeq would stop), and steps that run past t1 with the dense output there.
 * @example
 * export default adaptiveSolver({ name: "bosh3-torchdiffeq", description, tableau, controller: torchdiffeq });
 */
export const torchdiffeq: StepController<TorchdiffeqOptions> = {
  overshoots: true,
  async firstStep(p) {
    const { h0, d1, d2 } = await startNorms({ ...p, maxH0: Infinity });
    const h1 = d1 <= 1e-15 && d2 <= 1e-15
      ? Math.max(1e-6, h0 * 1e-3)
      : Math.pow(0.01 / Math.max(d1, d2), 1 / p.q);
    return Math.min(100 * h0, h1);
  },
  underflow: (t, h, { dir }) => !(t + dir * h !== t && h > 0 && Number.isFinite(h)),
  rule(opts, q) {
    const o = {
      safety: opts.safety ?? 0.9,
      ifactor: opts.ifactor ?? 10,
      dfactor: opts.dfactor ?? 0.2,
      q,
    };
    return {
      next: (h, ratio) => Number.isFinite(ratio) ? torchdiffeqNextStep(h, ratio, o) : h * o.dfactor,
    };
  },
};
