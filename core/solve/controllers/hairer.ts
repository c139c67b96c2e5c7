// Hairer's step control (as in SciPy's solve_ivp): steps land on the end time.
import { startNorms } from "../start-step.ts";
import type { StepController } from "./controller.ts";

/** The knobs of Hairer's controller (all optional; SciPy's defaults). */
export interface HairerOptions {
  /** Safety factor on the optimal step (default 0.9). */
  safety?: number;
  /** Bounds on the step-size change factor per step (defaults 0.2 and 10). */
  minFactor?: number;
  maxFactor?: number;
}

/**
 * Hairer, Norsett & Wanner's controller (Solving ODEs I, II.4; SciPy's RK45/RK23): first step
 * from the starting-step norms, clamped to the span; factor safety * norm^(-1/q) bounded by
 * [minFactor, maxFactor], and no growth right after a rejection; a trial that met NaN/Inf
 * shrinks by minFactor; the last step is shortened to land on t1.
 * @example
 * export default adaptiveSolver({ name: "dopri5", description, tableau, controller: hairer });
 */
export const hairer: StepController<HairerOptions> = {
  overshoots: false,
  async firstStep(p) {
    const { h0, d1, d2 } = await startNorms({ ...p, maxH0: p.span });
    const m = Math.max(d1, d2);
    let h1: number;
    if (!Number.isFinite(d2)) h1 = h0;
    else if (m <= 1e-15) h1 = Math.max(1e-6, h0 * 1e-3);
    else h1 = Math.pow(0.01 / m, 1 / p.q);
    return Math.min(100 * h0, h1, p.span);
  },
  underflow: (t, h, { t1 }) =>
    !(h > 8 * Number.EPSILON * Math.max(Math.abs(t), Math.abs(t1), 1e-300)),
  rule(opts, q) {
    const safety = opts.safety ?? 0.9, minF = opts.minFactor ?? 0.2, maxF = opts.maxFactor ?? 10;
    let lastRejected = false;
    return {
      next(h, norm) {
        if (norm <= 1) {
          let factor = norm === 0 ? maxF : Math.min(maxF, safety * Math.pow(norm, -1 / q));
          if (lastRejected) factor = Math.min(1, factor);
          lastRejected = false;
          return h * Math.max(factor, minF);
        }
        lastRejected = true;
        return h * (Number.isFinite(norm) ? Math.max(minF, safety * Math.pow(norm, -1 / q)) : minF);
      },
    };
  },
};
