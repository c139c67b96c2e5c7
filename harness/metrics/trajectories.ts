// Record a few Euler trajectories of a 2-D flow for the report's scatter plots.
import { type Tensor, tf } from "../../core/tf.ts";
import type { VelocityField } from "../../core/types.ts";

/** Which trajectories to record: Euler steps of `field` from x0 over [t0, t1]. */
export interface TrajectoryRequest {
  field: VelocityField;
  x0: Tensor;
  steps: number;
  t0: number;
  t1: number;
}

/**
 * States of each example at every Euler step: result[i][k] is example i at step k.
 * @example
 * const paths = await recordTrajectories({ field: f, x0, steps: 20, t0: 0, t1: 1 }); // 21 points each
 */
export async function recordTrajectories(
  { field: f, x0, steps, t0, t1 }: TrajectoryRequest,
): Promise<number[][][]> {
  const n = x0.shape[0];
  const out: number[][][] = Array.from({ length: n }, () => []);
  const h = (t1 - t0) / steps;
  let x = x0.clone();
  const push = async (s: Tensor) => {
    const rows = await s.array() as number[][];
    rows.forEach((r, i) => out[i].push(r.map((v) => Math.round(v * 1e4) / 1e4)));
  };
  try {
    await push(x);
    for (let k = 0; k < steps; k++) {
      const v = f(x, t0 + k * h);
      const next = tf.tidy(() => tf.add(x, tf.mul(v, h)));
      v.dispose();
      x.dispose();
      x = next;
      await push(x);
    }
  } finally {
    x.dispose();
  }
  return out;
}
