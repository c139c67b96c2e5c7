// Parts shared by dopri5 and dopri5-torchdiffeq (the "_" keeps it from loading as a solver).
import {
  combine,
  rkStages,
  type SolveOptions,
  SolverError,
  type Tableau,
  type Tensor,
  tf,
  type VelocityField,
} from "../../core/mod.ts";

/**
 * The first six Dormand-Prince stages; the seventh is f at the 5th-order solution
 * (first-same-as-last).
 * @example
 * const ks = rkStages(f, y, t, h, TAB6, k1); // six stages, ks[0] === k1
 */
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

/**
 * 5th-order weights (the solution that is propagated).
 * @example
 * const yNew = combine(y, h, B5, ks);
 */
export const B5 = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84];

/**
 * Sum of squares of all elements of `x`, as a scalar tensor on the device (no read); the host
 * finishes the RMS as sqrt(sum / size) in float64 (`rmsFromSum`), so the only float32 roundings
 * are the squares' and the sum's (a mean and sqrt on the device added two more, enough to move
 * the tiny, round-off-dominated error estimate after torchdiffeq's first step past the fixture
 * test's 2% on the next step size). A sum beyond float32's range reads as Inf: non-finite.
 * @example
 * const s = tf.tidy(() => sumSquares(tf.div(err, scale)));
 */
function sumSquares(x: Tensor): Tensor {
  return tf.sum(tf.square(x));
}

/**
 * The RMS of `size` elements from their sum of squares read off the device.
 * @example
 * const rms = rmsFromSum((await s.data())[0], err.size);
 */
function rmsFromSum(sum: number, size: number): number {
  return Math.sqrt(sum / size);
}

/**
 * RMS of each of `xs` divided by `scale`, reduced on the device to sums of squares and read back
 * as one small array (one read, however large the state). NaN/Inf propagate.
 * @example
 * const [d0, d1] = await scaledRms([y0, f0], scale);
 */
async function scaledRms(xs: Tensor[], scale: Tensor): Promise<number[]> {
  const r = tf.tidy(() => tf.stack(xs.map((x) => sumSquares(tf.div(x, scale)))));
  try {
    const sums = (await r.data()) as Float32Array;
    return xs.map((x, i) => rmsFromSum(sums[i], x.size));
  } finally {
    r.dispose();
  }
}

/** The options both Dormand-Prince solvers check the same way, with their defaults applied. */
export interface CheckedOptions {
  rtol: number;
  atol: number;
  maxSteps: number;
}

/**
 * Check t0/t1, rtol/atol, maxSteps and firstStep (errors name the solver); returns the tolerances
 * and maxSteps with their defaults (1e-5, 1e-5, 10,000).
 * @example
 * const { rtol, atol, maxSteps } = checkOptions("dopri5", opts);
 */
export function checkOptions(
  name: string,
  opts: SolveOptions & { firstStep?: number },
): CheckedOptions {
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

/** What Hairer's starting-step selection needs from the field: its norms and trial step. */
export interface StartNorms {
  /** The trial step 0.01 d0 / d1 (1e-6 when either is tiny), capped at `maxH0`. */
  h0: number;
  /** RMS of f0 / scale. */
  d1: number;
  /** RMS of (f(y0 + h0 f0) - f0) / scale, over h0: may be NaN/Inf. */
  d2: number;
}

/**
 * The norms of Hairer, Norsett & Wanner's starting step (Solving ODEs I, II.4), with
 * scale = atol + rtol |y0|: two reads of at most two scalars and one NFE. Throws a SolverError if
 * y0 or f0 has NaN/Inf. Each solver turns them into its first step with its own rule.
 * @example
 * const { h0, d1, d2 } = await startNorms("dopri5", f, y0, f0, t0, dir, rtol, atol, span);
 * const h = Math.min(100 * h0, Math.pow(0.01 / Math.max(d1, d2), 1 / 5), span);
 */
export async function startNorms(
  name: string,
  f: VelocityField,
  y0: Tensor,
  f0: Tensor,
  t0: number,
  dir: number,
  rtol: number,
  atol: number,
  maxH0 = Infinity,
): Promise<StartNorms> {
  const scale = tf.tidy(() => tf.add(tf.mul(tf.abs(y0), rtol), atol));
  try {
    const [d0, d1] = await scaledRms([y0, f0], scale);
    if (!Number.isFinite(d0)) throw new SolverError(name, "initial state has NaN/Inf", t0, 0);
    if (!Number.isFinite(d1)) {
      throw new SolverError(name, "velocity is NaN/Inf at the initial state", t0, 0);
    }
    const h0 = Math.min(d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * (d0 / d1), maxH0);
    const y1 = combine(y0, dir * h0, [1], [f0]);
    let f1: Tensor;
    try {
      f1 = f(y1, t0 + dir * h0);
    } finally {
      y1.dispose();
    }
    const diff = tf.tidy(() => tf.sub(f1, f0));
    f1.dispose();
    try {
      return { h0, d1, d2: (await scaledRms([diff], scale))[0] / h0 };
    } finally {
      diff.dispose();
    }
  } finally {
    scale.dispose();
  }
}

/** One Dormand-Prince trial step, before the controller accepts or rejects it. */
export interface Trial {
  /** The seven stages: ks[0] is the caller's k1 (still the caller's), ks[6] = f(yNew, t + h). */
  ks: Tensor[];
  /** The 5th-order solution at t + h. */
  yNew: Tensor;
  /**
   * RMS over all elements of err / (atol + rtol max(|y|, |yNew|)), err = h sum e_j k_j; NaN
   * when yNew or ks[6] has NaN/Inf (so the trial is rejected).
   */
  norm: number;
}

/**
 * A trial step from (t, y) of signed size h with the error weights `e` (seven, 5th minus
 * embedded 4th order): six NFE, and the error norm reduced on the device and read back as one
 * scalar. The caller owns ks[1..6] and yNew (on a throw they are disposed here).
 * @example
 * const { ks, yNew, norm } = await trialStep(f, y, t, h, k1, E, rtol, atol);
 */
export async function trialStep(
  f: VelocityField,
  y: Tensor,
  t: number,
  h: number,
  k1: Tensor,
  e: number[],
  rtol: number,
  atol: number,
): Promise<Trial> {
  const ks = rkStages(f, y, t, h, TAB6, k1);
  let yNew: Tensor | null = null;
  try {
    yNew = combine(y, h, B5, ks);
    ks.push(f(yNew, t + h));
    const r = tf.tidy(() => {
      const err = combine(tf.zerosLike(y), h, e, ks);
      const scale = tf.add(tf.mul(tf.maximum(tf.abs(y), tf.abs(yNew!)), rtol), atol);
      // 0 * yNew and 0 * k7 turn any Inf/NaN in them into NaN, so such trials are rejected.
      const k7 = ks[6];
      return sumSquares(tf.add(tf.div(err, scale), tf.add(tf.mul(yNew!, 0), tf.mul(k7, 0))));
    });
    try {
      // The one read of a trial step: a scalar.
      return { ks, yNew, norm: rmsFromSum((await r.data())[0], y.size) };
    } finally {
      r.dispose();
    }
  } catch (err) {
    yNew?.dispose();
    for (let j = 1; j < ks.length; j++) ks[j].dispose();
    throw err;
  }
}
