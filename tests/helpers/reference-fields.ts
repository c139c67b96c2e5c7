// The analytic fields of bench/torchdiffeq_steps.py and bench/scipy_rk_steps.py, for fixture tests.
import { tf } from "../../core/tf.ts";
import type { VelocityField } from "../../core/types.ts";

const LAM = -0.5, W = 2;
const MT = tf.keep(tf.tensor2d([[LAM, W], [-W, LAM]]));

/**
 * rotation (dy/dt = A y per row, A = [[LAM, -W], [W, LAM]]), cubic and relax (a stiff-ish pull
 * toward sin 8t), by the names the fixtures use.
 * @example
 * const k = REFERENCE_FIELDS.rotation(tf.tensor2d([[1, 0]]), 0);
 */
export const REFERENCE_FIELDS: Record<string, VelocityField> = {
  rotation: (y) => tf.matMul(y as tf.Tensor2D, MT),
  cubic: (y, t) => tf.tidy(() => tf.add(tf.mul(y, Math.cos(6 * t)), tf.mul(tf.pow(y, 3), 0.3))),
  relax: (y, t) => tf.tidy(() => tf.mul(tf.sub(y, Math.sin(8 * t)), -30)),
};
