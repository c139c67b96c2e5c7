// Dormand-Prince 5(4) with torchdiffeq's error control, so NFE counts compare with papers that
// sampled with torchdiffeq (Lipman et al., TorchCFM): Shampine's error weights, torchdiffeq's
// step-size rule, steps that run past the end time and a dense-output interpolation there.
import {
  combine,
  defineSolver,
  type SolveOptions,
  SolverError,
  type SolveResult,
  type Tensor,
  tf,
  type VelocityField,
} from "../../core/mod.ts";
import { checkOptions, startNorms, trialStep } from "./_dopri5.ts";

const NAME = "dopri5-torchdiffeq";

/** One trial step, reported to `onStep` (t is where the step starts, h its signed size). */
export interface StepEvent {
  t: number;
  h: number;
  accepted: boolean;
  /** RMS of err / (atol + rtol max(|y0|, |y1|)); accepted when <= 1. */
  ratio: number;
}

/** Options: SolveOptions plus torchdiffeq's step-control knobs (defaults as in torchdiffeq). */
export type Dopri5TorchdiffeqOptions = SolveOptions & {
  /** Safety factor (default 0.9). */
  safety?: number;
  /** Largest growth factor per step (default 10). */
  ifactor?: number;
  /** Smallest shrink factor after a rejected step (default 0.2). */
  dfactor?: number;
  /** First step size; torchdiffeq's (Hairer's) selection when absent. */
  firstStep?: number;
  /** Called after every trial step (tests compare the sequence with torchdiffeq's). */
  onStep?: (e: StepEvent) => void;
};

/**
 * Error weights b5 - b4* over the seven stages, with Shampine's (1986) embedded fourth-order
 * solution as torchdiffeq uses it (fmbench's dopri5 uses Hairer's weights; both are valid
 * estimates, and they lead to different step sequences and NFE).
 */
const E_SHAMPINE = [
  35 / 384 - 1951 / 21600,
  0,
  500 / 1113 - 22642 / 50085,
  125 / 192 - 451 / 720,
  -2187 / 6784 + 12231 / 42400,
  11 / 84 - 649 / 6300,
  -1 / 60,
];
/** Weights of the stages for y at the middle of a step (the dense output's fifth point). */
const C_MID = [
  6025192743 / 30085553152 / 2,
  0,
  51252292925 / 65400821598 / 2,
  -2691868925 / 45128329728 / 2,
  187940372067 / 1594534317056 / 2,
  -1776094331 / 19743644256 / 2,
  11237099 / 235043384 / 2,
];

/**
 * Hairer's starting step with torchdiffeq's conventions (no clamp to the span; a NaN/Inf d2
 * gives a NaN step, which the loop reports as a step size underflow); one NFE.
 */
async function initialStep(
  f: VelocityField,
  y0: Tensor,
  f0: Tensor,
  t0: number,
  dir: number,
  rtol: number,
  atol: number,
): Promise<number> {
  const { h0, d1, d2 } = await startNorms(NAME, f, y0, f0, t0, dir, rtol, atol);
  // Selection for the embedded order 4: exponent 1 / (4 + 1).
  const h1 = d1 <= 1e-15 && d2 <= 1e-15
    ? Math.max(1e-6, h0 * 1e-3)
    : Math.pow(0.01 / Math.max(d1, d2), 1 / 5);
  return Math.min(100 * h0, h1);
}

/**
 * torchdiffeq's next step: grow by up to `ifactor`; never shrink after an accepted step; after a
 * rejected one shrink by at least `dfactor`; factor = safety / ratio^(1/5) in between.
 * @example
 * nextStep(0.1, 0.9, { safety: 0.9, ifactor: 10, dfactor: 0.2 }); // 0.1: accepted, never shrinks
 */
export function nextStep(
  h: number,
  ratio: number,
  o: { safety: number; ifactor: number; dfactor: number },
): number {
  if (ratio === 0) return h * o.ifactor;
  const floor = ratio < 1 ? 1 : o.dfactor;
  return h * Math.min(o.ifactor, Math.max(o.safety / Math.pow(ratio, 1 / 5), floor));
}

/** y(t0 + x h) on an accepted step from the quartic through y0, y1, y_mid, f0, f1. */
function interpolate(
  y0: Tensor,
  y1: Tensor,
  ks: Tensor[],
  h: number,
  x: number,
): Tensor {
  return tf.tidy(() => {
    const yMid = combine(y0, h, C_MID, ks);
    const f0 = ks[0], f1 = ks[6];
    const a = tf.addN([
      tf.mul(tf.sub(f1, f0), 2 * h),
      tf.mul(tf.add(y1, y0), -8),
      tf.mul(yMid, 16),
    ]);
    const b = tf.addN([
      tf.mul(f0, 5 * h),
      tf.mul(f1, -3 * h),
      tf.mul(y0, 18),
      tf.mul(y1, 14),
      tf.mul(yMid, -32),
    ]);
    const c = tf.addN([
      tf.mul(f1, h),
      tf.mul(f0, -4 * h),
      tf.mul(y0, -11),
      tf.mul(y1, -5),
      tf.mul(yMid, 16),
    ]);
    const d = tf.mul(f0, h);
    return tf.addN([y0, tf.mul(d, x), tf.mul(c, x ** 2), tf.mul(b, x ** 3), tf.mul(a, x ** 4)]);
  });
}

/**
 * Integrate like torchdiffeq's `odeint(method="dopri5")` from t0 to t1: f(t0) plus one NFE for
 * the first step, six per trial step; a step is accepted when the RMS (over every element) of
 * err / (atol + rtol max(|y0|, |y1|)) is <= 1. Steps are not shortened to land on t1: the
 * solution there is the interpolant of the step that passes it. A trial whose state or
 * velocity is NaN/Inf is rejected with the smallest factor (torchdiffeq would stop).
 */
async function integrate(
  f: VelocityField,
  x0: Tensor,
  opts: Dopri5TorchdiffeqOptions,
): Promise<SolveResult> {
  const { t0, t1 } = opts;
  const { rtol, atol, maxSteps } = checkOptions(NAME, opts);
  const ctl = {
    safety: opts.safety ?? 0.9,
    ifactor: opts.ifactor ?? 10,
    dfactor: opts.dfactor ?? 0.2,
  };
  if (t0 === t1) return { x: tf.clone(x0), stats: { accepted: 0, rejected: 0 } };

  const dir = Math.sign(t1 - t0);
  let y = tf.clone(x0);
  let k1: Tensor | null = null;
  /**
   * The last accepted step, kept for the interpolation at t1. It owns y0 and its stages but the
   * seventh, which is the next step's first (k1, FSAL).
   */
  let last: { y0: Tensor; ks: Tensor[]; t: number; h: number } | null = null;
  const dropLast = () => {
    if (!last) return;
    last.y0.dispose();
    for (let j = 0; j < last.ks.length - 1; j++) last.ks[j].dispose();
    last = null;
  };
  let t = t0, accepted = 0, rejected = 0;
  try {
    k1 = f(y, t0);
    let h = opts.firstStep ?? await initialStep(f, y, k1, t0, dir, rtol, atol);
    while (dir * (t1 - t) > 0) {
      if (accepted + rejected >= maxSteps) {
        throw new SolverError(
          NAME,
          `exceeded maxSteps=${maxSteps} (${accepted} accepted, ${rejected} rejected)`,
          t,
          dir * h,
        );
      }
      if (!(t + dir * h !== t && h > 0 && Number.isFinite(h))) {
        throw new SolverError(NAME, "step size underflow", t, dir * h);
      }
      const hs = dir * h;
      const { ks, yNew, norm: ratio } = await trialStep(f, y, t, hs, k1, E_SHAMPINE, rtol, atol);
      const k7 = ks[6];
      const ok = ratio <= 1;
      opts.onStep?.({ t, h: hs, accepted: ok, ratio });
      if (ok) {
        dropLast();
        last = { y0: y, ks, t, h: hs };
        y = yNew;
        k1 = k7;
        t = t + hs;
        accepted++;
        h = nextStep(h, ratio, ctl);
      } else {
        yNew.dispose();
        for (let j = 1; j < ks.length; j++) ks[j].dispose();
        rejected++;
        h = Number.isFinite(ratio) ? nextStep(h, ratio, ctl) : h * ctl.dfactor;
      }
    }
    let out: Tensor;
    if (t === t1 || !last) {
      out = y;
    } else {
      const l = last as { y0: Tensor; ks: Tensor[]; t: number; h: number };
      out = interpolate(l.y0, y, l.ks, l.h, (t1 - l.t) / l.h);
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

export default defineSolver({
  name: NAME,
  description: "Dormand-Prince 5(4) with torchdiffeq's error control (Shampine's error weights, " +
    "its step rule, interpolation at the end time): NFE comparable with papers using torchdiffeq",
  order: 5,
  adaptive: true,
  integrate: (f, x0, opts) => integrate(f, x0, opts as Dopri5TorchdiffeqOptions),
});
