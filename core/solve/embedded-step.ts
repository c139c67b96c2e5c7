// One trial step of an embedded Runge-Kutta pair: the new state and its error norm (one read).
import { type Tensor, tf } from "../tf.ts";
import type { VelocityField } from "../types.ts";
import { combine, rkStages, type Tableau } from "./fixed-step.ts";
import { rmsFromSum, sumSquares } from "./rms.ts";

/**
 * An explicit Runge-Kutta pair with first-same-as-last (FSAL) stages: `c`, `a` and `b` give the
 * stages and the propagated solution y_new = y + h sum b_j k_j; one more stage,
 * f(y_new, t + h), is evaluated after them: it enters the error estimate and is the next step's
 * first stage (so c[0] must be 0).
 */
export interface EmbeddedTableau extends Tableau {
  /**
   * Error weights over the stages and the FSAL stage (c.length + 1 of them): b minus the
   * embedded solution's weights, so err = h sum e_j k_j.
   */
  e: number[];
  /** Convergence order of the propagated solution (5 for dopri5). */
  order: number;
  /** Order of the embedded solution (4 for dopri5); step factors go as norm^(-1/(errorOrder+1)). */
  errorOrder: number;
  /**
   * Weights of the stages (and the FSAL stage) for y(t + h/2): the fifth point of torchdiffeq's
   * quartic dense output, which a controller that steps past the end time needs.
   */
  mid?: number[];
}

/** One trial step, before the controller accepts or rejects it. */
export interface Trial {
  /** The stages: ks[0] is the caller's k1 (still the caller's), the last is f(yNew, t + h). */
  ks: Tensor[];
  /** The propagated solution at t + h. */
  yNew: Tensor;
  /**
   * RMS over all elements of err / (atol + rtol max(|y|, |yNew|)); NaN when yNew or the last
   * stage has NaN/Inf (so the trial is rejected).
   */
  norm: number;
}

/** Where a trial step starts and what it uses. */
export interface TrialInput {
  f: VelocityField;
  y: Tensor;
  t: number;
  /** The signed step size. */
  h: number;
  /** f(y, t) (the previous step's FSAL stage). */
  k1: Tensor;
  tableau: EmbeddedTableau;
  rtol: number;
  atol: number;
}

/**
 * A trial step from (t, y) of signed size h: c.length NFE (k1 is given), and the error norm
 * reduced on the device and read back as one scalar. The caller owns ks[1..] and yNew (on a
 * throw they are disposed here).
 * @example
 * const { ks, yNew, norm } = await trialStep({ f, y, t, h, k1, tableau, rtol, atol });
 */
export async function trialStep(p: TrialInput): Promise<Trial> {
  const { f, y, t, h, tableau, rtol, atol } = p;
  const ks = rkStages(f, y, t, h, tableau, p.k1);
  let yNew: Tensor | null = null;
  try {
    yNew = combine(y, h, tableau.b, ks);
    ks.push(f(yNew, t + h));
    const r = tf.tidy(() => {
      const err = combine(tf.zerosLike(y), h, tableau.e, ks);
      const scale = tf.add(tf.mul(tf.maximum(tf.abs(y), tf.abs(yNew!)), rtol), atol);
      // 0 * yNew and 0 * kLast turn any Inf/NaN in them into NaN, so such trials are rejected.
      const kLast = ks[ks.length - 1];
      return sumSquares(tf.add(tf.div(err, scale), tf.add(tf.mul(yNew!, 0), tf.mul(kLast, 0))));
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
