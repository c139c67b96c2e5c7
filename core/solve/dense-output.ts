// torchdiffeq's dense output: the quartic through y0, y1, y(t + h/2), f0 and f1 of one step.
import { type Tensor, tf } from "../tf.ts";
import { combine } from "./fixed-step.ts";

/** An accepted step: where it started, its states and stages (the FSAL one last), its size. */
export interface StepRecord {
  /** The step's start time. */
  t: number;
  y0: Tensor;
  y1: Tensor;
  ks: Tensor[];
  h: number;
  /** The tableau's weights of the stages for y(t + h/2). */
  mid: number[];
}

/**
 * y at time `at` (within the step; beyond it, extrapolated) from the quartic through y0, y1,
 * y_mid, f0 = ks[0] and f1 = the last stage of an accepted step. A new tensor.
 * @example
 * const yEnd = quarticInterpolant({ t, y0, y1, ks, h, mid }, t1);
 */
export function quarticInterpolant(s: StepRecord, at: number): Tensor {
  const { y0, y1, ks, h } = s;
  const x = (at - s.t) / h;
  return tf.tidy(() => {
    const yMid = combine(y0, h, s.mid, ks);
    const f0 = ks[0], f1 = ks[ks.length - 1];
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
