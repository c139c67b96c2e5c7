// The norms of Hairer's starting-step selection, shared by every adaptive step controller.
import { type Tensor, tf } from "../tf.ts";
import type { VelocityField } from "../types.ts";
import { SolverError } from "./errors.ts";
import { combine } from "./fixed-step.ts";
import { scaledRms } from "./rms.ts";

/** Where a solve starts, as a step controller's first-step rule sees it. */
export interface StartInput {
  /** The solver's name (for errors). */
  solver: string;
  f: VelocityField;
  y0: Tensor;
  /** f(y0, t0), already evaluated. */
  f0: Tensor;
  t0: number;
  /** Direction of integration: sign(t1 - t0). */
  dir: number;
  rtol: number;
  atol: number;
  /** |t1 - t0|. */
  span: number;
  /** The error estimate's order plus one: step factors go as norm^(-1/q) (5 for dopri5). */
  q: number;
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
 * y0 or f0 has NaN/Inf. Each controller turns them into its first step with its own rule.
 * @example
 * const { h0, d1, d2 } = await startNorms({ ...input, maxH0: input.span });
 * const h = Math.min(100 * h0, Math.pow(0.01 / Math.max(d1, d2), 1 / input.q), input.span);
 */
export async function startNorms(p: StartInput & { maxH0: number }): Promise<StartNorms> {
  const { solver, f, y0, f0, t0, dir, rtol, atol } = p;
  const scale = tf.tidy(() => tf.add(tf.mul(tf.abs(y0), rtol), atol));
  try {
    const [d0, d1] = await scaledRms([y0, f0], scale);
    if (!Number.isFinite(d0)) throw new SolverError(solver, "initial state has NaN/Inf", t0, 0);
    if (!Number.isFinite(d1)) {
      throw new SolverError(solver, "velocity is NaN/Inf at the initial state", t0, 0);
    }
    const h0 = Math.min(d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * (d0 / d1), p.maxH0);
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
