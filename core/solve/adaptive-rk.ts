// One adaptive Runge-Kutta solver: an embedded FSAL tableau driven by a pluggable step controller.
import { defineSolver } from "../define.ts";
import { type Tensor, tf } from "../tf.ts";
import type { SolveOptions, Solver, SolveResult, VelocityField } from "../types.ts";
import type { StepController } from "./controllers/controller.ts";
import { quarticInterpolant, type StepRecord } from "./dense-output.ts";
import { type EmbeddedTableau, trialStep } from "./embedded-step.ts";
import { SolverError } from "./errors.ts";

/** One trial step, reported to `onStep` (t is where the step starts, h its signed size). */
export interface StepEvent {
  t: number;
  h: number;
  accepted: boolean;
  /** RMS of err / (atol + rtol max(|y0|, |y1|)); accepted when <= 1. */
  ratio: number;
}

/** Options of every adaptive solver: SolveOptions plus these (the controller adds its knobs). */
export type AdaptiveOptions = SolveOptions & {
  /** First step size (its sign follows t1 - t0); the controller's selection when absent. */
  firstStep?: number;
  /** Called after every trial step (tests compare the sequence with a reference's). */
  onStep?: (e: StepEvent) => void;
};

/** What an adaptive solver plugin states: its tableau and controller, not how it integrates. */
export interface AdaptiveSolverInput<O> {
  name: string;
  description: string;
  tableau: EmbeddedTableau;
  controller: StepController<O>;
}

/** The options every adaptive solver checks the same way, with their defaults applied. */
interface CheckedOptions {
  rtol: number;
  atol: number;
  maxSteps: number;
}

/** Check t0/t1, rtol/atol, maxSteps and firstStep; defaults 1e-5, 1e-5, 10,000. */
function checkOptions(name: string, opts: AdaptiveOptions): CheckedOptions {
  const { t0, t1 } = opts;
  if (!Number.isFinite(t0) || !Number.isFinite(t1)) {
    throw new Error(`${name}: t0 and t1 must be finite, got t0=${t0}, t1=${t1}`);
  }
  const rtol = opts.rtol ?? 1e-5, atol = opts.atol ?? 1e-5;
  if (!(rtol >= 0 && atol >= 0 && rtol + atol > 0)) {
    throw new Error(`${name}: rtol and atol must be >= 0, not both 0; got ${rtol}, ${atol}`);
  }
  const maxSteps = opts.maxSteps ?? 10_000;
  if (!(maxSteps >= 1)) throw new Error(`${name}: maxSteps must be >= 1, got ${maxSteps}`);
  if (opts.firstStep !== undefined && !(opts.firstStep > 0)) {
    throw new Error(
      `${name}: firstStep must be > 0 (its sign follows t1 - t0), got ${opts.firstStep}`,
    );
  }
  return { rtol, atol, maxSteps };
}

/** Throw if the tableau does not fit the FSAL scheme or the controller's needs. */
function checkTableau<O>(s: AdaptiveSolverInput<O>): void {
  const { c, a, b, e, mid } = s.tableau, n = c.length;
  const bad = (why: string) => new Error(`${s.name}: bad adaptive tableau: ${why}`);
  if (n < 1 || c[0] !== 0) throw bad("c[0] must be 0 (the FSAL stage is the next step's first)");
  if (a.length !== n || a.some((row, j) => row.length !== j)) throw bad("a[j] needs j entries");
  if (b.length !== n) throw bad(`b needs ${n} weights, one per stage`);
  if (e.length !== n + 1) throw bad(`e needs ${n + 1} weights: the stages and f(y_new, t + h)`);
  if (mid && mid.length !== n + 1) throw bad(`mid needs ${n + 1} weights, as e`);
  if (s.controller.overshoots && !mid) {
    throw bad("its controller steps past the end time, so it needs dense-output weights (mid)");
  }
}

/**
 * Integrate from t0 to t1: f(t0), the controller's first step (one NFE when chosen), then
 * c.length NFE per trial step, each with one scalar read (its error norm). The controller
 * accepts a trial when the norm is <= 1 and picks the next size.
 */
async function integrate<O>(
  s: AdaptiveSolverInput<O>,
  f: VelocityField,
  x0: Tensor,
  opts: AdaptiveOptions & O,
): Promise<SolveResult> {
  const { name, tableau, controller: ctl } = s;
  const { t0, t1 } = opts;
  const { rtol, atol, maxSteps } = checkOptions(name, opts);
  const q = tableau.errorOrder + 1;
  const rule = ctl.rule(opts, q);
  if (t0 === t1) return { x: tf.clone(x0), stats: { accepted: 0, rejected: 0 } };

  const dir = Math.sign(t1 - t0), span = Math.abs(t1 - t0);
  let y = tf.clone(x0);
  let k1: Tensor | null = null;
  /**
   * The last accepted step (kept only when the controller steps past t1), for the dense output
   * there. It owns y0 and its stages but the last, which is the next step's first (k1, FSAL).
   */
  let last: StepRecord | null = null;
  const dropLast = () => {
    if (!last) return;
    last.y0.dispose();
    for (let j = 0; j < last.ks.length - 1; j++) last.ks[j].dispose();
    last = null;
  };
  let t = t0, accepted = 0, rejected = 0, lastNonFinite = false;
  try {
    k1 = f(y, t0);
    let h = opts.firstStep ??
      await ctl.firstStep({ solver: name, f, y0: y, f0: k1, t0, dir, rtol, atol, span, q });
    while (dir * (t1 - t) > 0) {
      if (accepted + rejected >= maxSteps) {
        throw new SolverError(
          name,
          `exceeded maxSteps=${maxSteps} (${accepted} accepted, ${rejected} rejected)`,
          t,
          dir * h,
        );
      }
      if (ctl.underflow(t, h, { t1, dir })) {
        const why = lastNonFinite ? "; the state or velocity became NaN/Inf" : "";
        throw new SolverError(name, `step size underflow${why}`, t, dir * h);
      }
      let hs = dir * h, lands = false;
      if (!ctl.overshoots && dir * (t + hs - t1) >= -1e-10 * h) {
        hs = t1 - t;
        lands = true;
      }
      const { ks, yNew, norm } = await trialStep({ f, y, t, h: hs, k1, tableau, rtol, atol });
      const kLast = ks[ks.length - 1];
      const ok = norm <= 1;
      opts.onStep?.({ t, h: hs, accepted: ok, ratio: norm });
      if (ok) {
        if (ctl.overshoots) {
          dropLast();
          last = { t, y0: y, y1: yNew, ks, h: hs, mid: tableau.mid! };
        } else {
          y.dispose();
          for (let j = 0; j < ks.length - 1; j++) ks[j].dispose();
        }
        y = yNew;
        k1 = kLast;
        t = lands ? t1 : t + hs;
        accepted++;
        lastNonFinite = false;
      } else {
        yNew.dispose();
        for (let j = 1; j < ks.length; j++) ks[j].dispose();
        rejected++;
        lastNonFinite = !Number.isFinite(norm);
      }
      h = rule.next(Math.abs(hs), norm);
    }
    let out = y;
    if (t !== t1 && last) {
      out = quarticInterpolant(last, t1);
      y.dispose();
    }
    dropLast();
    k1.dispose();
    return { x: out, stats: { accepted, rejected } };
  } catch (e) {
    y.dispose();
    k1?.dispose();
    dropLast();
    throw e;
  }
}

/**
 * An adaptive solver plugin from an embedded FSAL tableau and a step controller (`hairer`,
 * `torchdiffeq` or your own). Options: AdaptiveOptions plus the controller's knobs.
 * @example
 * export default adaptiveSolver({
 *   name: "bosh3", description: "Bogacki-Shampine 3(2)", tableau: BOSH3, controller: hairer,
 * });
 */
export function adaptiveSolver<O>(s: AdaptiveSolverInput<O>): Solver {
  checkTableau(s);
  return defineSolver({
    name: s.name,
    description: s.description,
    order: s.tableau.order,
    adaptive: true,
    integrate: (f, x0, opts) => integrate(s, f, x0, opts as AdaptiveOptions & O),
  });
}
