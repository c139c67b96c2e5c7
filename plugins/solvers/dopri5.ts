// Adaptive Dormand-Prince 5(4) with FSAL, error-norm step control and Hairer's initial step.
import {
  combine,
  defineSolver,
  rkStages,
  type SolveOptions,
  SolverError,
  type SolveResult,
  type Tableau,
  type Tensor,
  tf,
  type VelocityField,
} from "../../core/mod.ts";

const NAME = "dopri5";

/** dopri5 options: SolveOptions plus step-control knobs (all optional). */
export type Dopri5Options = SolveOptions & {
  /** Safety factor on the optimal step (default 0.9). */
  safety?: number;
  /** Bounds on the step-size change factor per step (defaults 0.2 and 10). */
  minFactor?: number;
  maxFactor?: number;
  /** First step size; chosen by Hairer's algorithm when absent. */
  firstStep?: number;
};

/** The first six stages; the seventh is f at the 5th-order solution (first-same-as-last). */
export const TAB6: Tableau = {
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1],
  a: [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  ],
  b: [],
};
/** 5th-order weights (the solution that is propagated). */
export const B5 = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84];
/** 5th minus embedded 4th-order weights over the seven stages: the local error estimate. */
const E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];
const ORDER = 5;

/**
 * RMS of each of `xs` divided by `scale`, computed on the device and read back as one small
 * array (one read, however large the state). NaN/Inf propagate.
 */
async function scaledRms(xs: Tensor[], scale: Tensor): Promise<number[]> {
  const r = tf.tidy(() => tf.stack(xs.map((x) => tf.sqrt(tf.mean(tf.square(tf.div(x, scale)))))));
  try {
    return Array.from((await r.data()) as Float32Array);
  } finally {
    r.dispose();
  }
}

/** Hairer, Norsett & Wanner's starting step (Solving ODEs I, II.4); costs one NFE. */
async function initialStep(
  f: VelocityField,
  y0: Tensor,
  f0: Tensor,
  t0: number,
  span: number,
  dir: number,
  rtol: number,
  atol: number,
): Promise<number> {
  const scale = tf.tidy(() => tf.add(tf.mul(tf.abs(y0), rtol), atol));
  try {
    const [d0, d1] = await scaledRms([y0, f0], scale);
    if (!Number.isFinite(d0)) throw new SolverError(NAME, "initial state has NaN/Inf", t0, 0);
    if (!Number.isFinite(d1)) {
      throw new SolverError(NAME, "velocity is NaN/Inf at the initial state", t0, 0);
    }
    let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * (d0 / d1);
    h0 = Math.min(h0, span);
    const y1 = combine(y0, dir * h0, [1], [f0]);
    const f1 = f(y1, t0 + dir * h0);
    y1.dispose();
    const diff = tf.tidy(() => tf.sub(f1, f0));
    f1.dispose();
    const d2 = (await scaledRms([diff], scale))[0] / h0;
    diff.dispose();
    const m = Math.max(d1, d2);
    let h1: number;
    if (!Number.isFinite(d2)) h1 = h0;
    else if (m <= 1e-15) h1 = Math.max(1e-6, h0 * 1e-3);
    else h1 = Math.pow(0.01 / m, 1 / ORDER);
    return Math.min(100 * h0, h1, span);
  } finally {
    scale.dispose();
  }
}

/**
 * Integrate with Dormand-Prince 5(4). The error of each trial step is the RMS over all elements
 * of err / (atol + rtol max(|y|, |y_new|)), reduced on the device (one scalar read per step);
 * steps with norm <= 1 are accepted. A trial whose state or velocity is NaN/Inf is rejected with the smallest factor.
 */
async function integrate(
  f: VelocityField,
  x0: Tensor,
  opts: Dopri5Options,
): Promise<SolveResult> {
  const { t0, t1 } = opts;
  if (!Number.isFinite(t0) || !Number.isFinite(t1)) {
    throw new Error(`${NAME}: t0 and t1 must be finite, got t0=${t0}, t1=${t1}`);
  }
  const rtol = opts.rtol ?? 1e-5, atol = opts.atol ?? 1e-5;
  const maxSteps = opts.maxSteps ?? 10_000;
  const safety = opts.safety ?? 0.9, minF = opts.minFactor ?? 0.2, maxF = opts.maxFactor ?? 10;
  if (!(rtol >= 0 && atol >= 0 && rtol + atol > 0)) {
    throw new Error(`${NAME}: rtol and atol must be >= 0, not both 0; got ${rtol}, ${atol}`);
  }
  if (!(maxSteps >= 1)) throw new Error(`${NAME}: maxSteps must be >= 1, got ${maxSteps}`);
  if (opts.firstStep !== undefined && !(opts.firstStep > 0)) {
    throw new Error(
      `${NAME}: firstStep must be > 0 (its sign follows t1 - t0), got ${opts.firstStep}`,
    );
  }
  if (t0 === t1) return { x: tf.clone(x0), stats: { accepted: 0, rejected: 0 } };

  const dir = Math.sign(t1 - t0), span = Math.abs(t1 - t0);
  let y = tf.clone(x0);
  let k1: Tensor | null = null;
  let t = t0, accepted = 0, rejected = 0, lastRejected = false, lastNonFinite = false;
  try {
    k1 = f(y, t0);
    let h = opts.firstStep ?? await initialStep(f, y, k1, t0, span, dir, rtol, atol);
    while (dir * (t1 - t) > 0) {
      if (accepted + rejected >= maxSteps) {
        throw new SolverError(
          NAME,
          `exceeded maxSteps=${maxSteps} (${accepted} accepted, ${rejected} rejected)`,
          t,
          dir * h,
        );
      }
      if (!(h > 8 * Number.EPSILON * Math.max(Math.abs(t), Math.abs(t1), 1e-300))) {
        const why = lastNonFinite ? "; the state or velocity became NaN/Inf" : "";
        throw new SolverError(NAME, `step size underflow${why}`, t, dir * h);
      }
      let hs = dir * h, last = false;
      if (dir * (t + hs - t1) >= -1e-10 * h) {
        hs = t1 - t;
        last = true;
      }
      const ks = rkStages(f, y, t, hs, TAB6, k1);
      let yNew: Tensor | null = null, k7: Tensor | null = null;
      let norm: number;
      try {
        yNew = combine(y, hs, B5, ks);
        k7 = f(yNew, t + hs);
        const all = [...ks, k7];
        const ratio = tf.tidy(() => {
          const err = combine(tf.zerosLike(y), hs, E, all);
          const scale = tf.add(tf.mul(tf.maximum(tf.abs(y), tf.abs(yNew!)), rtol), atol);
          // 0 * yNew and 0 * k7 turn any Inf/NaN in them into NaN, so such trials are rejected.
          const r = tf.add(tf.div(err, scale), tf.add(tf.mul(yNew!, 0), tf.mul(k7!, 0)));
          return tf.sqrt(tf.mean(tf.square(r)));
        });
        // The one read of a step: a scalar.
        norm = (await ratio.data())[0];
        ratio.dispose();
      } catch (e) {
        yNew?.dispose();
        k7?.dispose();
        throw e;
      } finally {
        for (let j = 1; j < ks.length; j++) ks[j].dispose();
      }
      if (norm <= 1) {
        t = last ? t1 : t + hs;
        y.dispose();
        k1.dispose();
        y = yNew;
        k1 = k7;
        accepted++;
        let factor = norm === 0 ? maxF : Math.min(maxF, safety * Math.pow(norm, -1 / ORDER));
        if (lastRejected) factor = Math.min(1, factor);
        h = Math.abs(hs) * Math.max(factor, minF);
        lastRejected = lastNonFinite = false;
      } else {
        yNew.dispose();
        k7.dispose();
        rejected++;
        lastNonFinite = !Number.isFinite(norm);
        const factor = lastNonFinite ? minF : Math.max(minF, safety * Math.pow(norm, -1 / ORDER));
        h = Math.abs(hs) * factor;
        lastRejected = true;
      }
    }
  } catch (e) {
    y.dispose();
    k1?.dispose();
    throw e;
  }
  k1?.dispose();
  return { x: y, stats: { accepted, rejected } };
}

export default defineSolver({
  name: NAME,
  description: "Dormand-Prince 5(4), adaptive with FSAL; rtol/atol default 1e-5; 6 NFE per step",
  order: 5,
  adaptive: true,
  integrate: (f, x0, opts) => integrate(f, x0, opts as Dopri5Options),
});
