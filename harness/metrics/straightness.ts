// Straightness of a learned flow (Liu et al. 2022, "Flow Straight and Fast"):
// S = int_0^1 E |(X_1 - X_0) - v(X_t, t)|^2 dt, zero exactly when every trajectory is a straight
// line traversed at constant speed. Computed from plain arrays, or by Euler-integrating a field.
import { type Tensor, tf } from "../../core/tf.ts";
import type { VelocityField } from "../../core/types.ts";

/**
 * Straightness from recorded trajectories of n points, independent of the solver that made them.
 *
 * Inputs: `times` t_0, ..., t_K (strictly monotone, K >= 1); `states[k]` the n points at t_k
 * (row-major n x d, any d); `velocities[k]` the field v(X_{t_k}, t_k) at those points.
 * With T = t_K - t_0, D = X_{t_K} - X_{t_0} and e_k = mean_i |D_i / T - v_{k,i}|^2 (squared norm
 * summed over all d coordinates, averaged over the n trajectories), the time integral
 * S = (1/T) int e(t) dt (Liu's S when the span is [0, 1]) is discretised on the given grid:
 * - K velocity arrays (v at t_0..t_{K-1}): left Riemann sum, S = (1/T) sum_k (t_{k+1} - t_k) e_k.
 *   This matches an explicit Euler run exactly (its steps use those velocities).
 * - K + 1 velocity arrays (v at every node): trapezoidal rule,
 *   S = (1/T) sum_k (t_{k+1} - t_k) (e_k + e_{k+1}) / 2; second order for smooth trajectories.
 * Only the first and last states enter (through D); the others are checked for shape only.
 * Accumulates in float64.
 * @example
 * const s = straightness([x0, x1], [v0], [0, 1], n); // one Euler step: always 0
 */
export function straightness(
  states: Float32Array[],
  velocities: Float32Array[],
  times: number[],
  n: number,
): number {
  const K = times.length - 1;
  if (K < 1) {
    throw new RangeError(`straightness: need at least 2 times (t_0..t_K), got ${times.length}`);
  }
  if (states.length !== K + 1) {
    throw new RangeError(
      `straightness: states must have one array per time (${K + 1}), got ${states.length}`,
    );
  }
  if (velocities.length !== K && velocities.length !== K + 1) {
    throw new RangeError(
      `straightness: velocities must number K = ${K} (left rule) or K+1 = ${K + 1} ` +
        `(trapezoid), got ${velocities.length}`,
    );
  }
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`straightness: n must be a positive integer, got ${n}`);
  }
  const size = states[0].length;
  if (size % n !== 0 || size === 0) {
    throw new RangeError(
      `straightness: a state holds ${size} values, not a positive multiple of n = ${n}`,
    );
  }
  for (const [name, arrs] of [["states", states], ["velocities", velocities]] as const) {
    arrs.forEach((x, k) => {
      if (x.length !== size) {
        throw new RangeError(
          `straightness: ${name}[${k}] holds ${x.length} values, expected ${size} like states[0]`,
        );
      }
    });
  }
  const T = times[K] - times[0];
  for (let k = 0; k < K; k++) {
    const h = times[k + 1] - times[k];
    if (!(h * T > 0)) {
      throw new RangeError(
        `straightness: times must be strictly monotone; times[${k}] = ${times[k]}, ` +
          `times[${k + 1}] = ${times[k + 1]}`,
      );
    }
  }

  // Mean velocity along each path, D / T.
  const first = states[0], last = states[K];
  const rate = new Float64Array(size);
  for (let c = 0; c < size; c++) rate[c] = (last[c] - first[c]) / T;
  const err = (v: Float32Array) => {
    let s = 0;
    for (let c = 0; c < size; c++) {
      const e = rate[c] - v[c];
      s += e * e;
    }
    return s / n;
  };
  let integral = 0;
  if (velocities.length === K) {
    for (let k = 0; k < K; k++) integral += (times[k + 1] - times[k]) * err(velocities[k]);
  } else {
    let prev = err(velocities[0]);
    for (let k = 0; k < K; k++) {
      const next = err(velocities[k + 1]);
      integral += (times[k + 1] - times[k]) * 0.5 * (prev + next);
      prev = next;
    }
  }
  return integral / T;
}

/** Straightness of a flow with its standard error over the examples it was measured on. */
export interface StraightnessStats {
  /** The mean over examples: what flowStraightness returns. */
  mean: number;
  /** Standard error of that mean: the sample standard deviation over examples / sqrt(n). */
  stderr: number;
  /** Examples (trajectories). */
  n: number;
}

/** What {@link flowStraightness} and {@link flowStraightnessStats} integrate. */
export interface FlowStraightnessInput {
  field: VelocityField;
  x0: Tensor;
  steps: number;
  t0?: number;
  t1?: number;
  /** Examples per pass; all at once when absent. */
  evalBatch?: number;
}

/**
 * Straightness of the flow of `f` from x0 (a batch, first axis = examples) over [t0, t1]
 * (default [0, 1]) on `steps` uniform explicit Euler steps: the left-rule value of straightness()
 * for that Euler trajectory. For Euler, D / T is exactly the mean of the step velocities, so S is
 * the (population) variance over steps of each path's velocity, summed over coordinates and
 * averaged over examples; it is accumulated with Welford's recurrence (stable, O(batch) memory,
 * exactly 0 for a constant field). With `evalBatch`, examples go through in batches of that size.
 * Does not dispose x0; disposes everything it creates.
 * @example
 * const s = await flowStraightness({ field: loss.velocity(model, path), x0, steps: 100 });
 */
export async function flowStraightness(opts: FlowStraightnessInput): Promise<number> {
  return (await flowStraightnessStats(opts)).mean;
}

/**
 * {@link flowStraightness} with its standard error: S is a mean over examples of each example's
 * own value (the variance over steps of its velocity), so the spread of those values over the
 * examples gives the standard error of S for this noise draw (accumulated in float64).
 * @example
 * const { mean, stderr } = await flowStraightnessStats({ field: vf, x0, steps: 100 });
 */
export async function flowStraightnessStats(
  opts: FlowStraightnessInput,
): Promise<StraightnessStats> {
  const { x0 } = opts;
  const n = x0.rank >= 1 ? x0.shape[0] : 0;
  const bs = opts.evalBatch && opts.evalBatch < n ? opts.evalBatch : n;
  const values = new Float64Array(n);
  if (bs < n) {
    // Batches fill their slice of the per-example values: the same values as all at once.
    for (let start = 0; start < n; start += bs) {
      const m = Math.min(bs, n - start);
      const part = x0.slice(start, m);
      try {
        values.set(await perExample({ ...opts, x0: part }), start);
      } finally {
        part.dispose();
      }
    }
  } else {
    values.set(await perExample(opts));
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += (values[i] - mean) / (i + 1);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) * (values[i] - mean);
  const stderr = n > 1 ? Math.sqrt(ss / (n - 1) / n) : 0;
  return { mean, stderr, n };
}

/** Each example's straightness (the variance over Euler steps of its velocity, summed). */
async function perExample(opts: FlowStraightnessInput): Promise<Float32Array> {
  const { field: f, x0, steps } = opts;
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`flowStraightness: steps must be a positive integer, got ${steps}`);
  }
  if (x0.rank < 1 || x0.shape[0] === 0) {
    throw new RangeError(`flowStraightness: x0 needs a non-empty batch axis, got [${x0.shape}]`);
  }
  const t0 = opts.t0 ?? 0, t1 = opts.t1 ?? 1;
  if (!(Number.isFinite(t0) && Number.isFinite(t1) && t0 !== t1)) {
    throw new RangeError(`flowStraightness: need finite t0 != t1, got t0=${t0}, t1=${t1}`);
  }
  const h = (t1 - t0) / steps;
  const axes = x0.shape.slice(1).map((_, i) => i + 1);
  let x = x0.clone();
  let mean = tf.zerosLike(x0);
  let m2 = tf.zeros([x0.shape[0]]);
  try {
    for (let k = 0; k < steps; k++) {
      const t = t0 + k * h;
      const v = f(x, t);
      let next: Tensor[];
      try {
        next = tf.tidy(() => {
          const delta = tf.sub(v, mean);
          const mNew = tf.add(mean, tf.div(delta, k + 1));
          const prod = tf.mul(delta, tf.sub(v, mNew));
          const inc = axes.length > 0 ? tf.sum(prod, axes) : prod;
          return [tf.add(x, tf.mul(v, h)), mNew, tf.add(m2, inc)];
        });
      } finally {
        v.dispose();
      }
      const [xNext, meanNext, m2Next] = next;
      x.dispose();
      mean.dispose();
      m2.dispose();
      x = xNext;
      mean = meanNext;
      m2 = m2Next;
    }
    const per = (await m2.data()) as Float32Array;
    return per.map((v) => v / steps);
  } finally {
    x.dispose();
    mean.dispose();
    m2.dispose();
  }
}
