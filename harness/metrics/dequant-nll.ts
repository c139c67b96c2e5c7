// Likelihood of 8-bit data with K uniform dequantisation samples per image: the importance-
// weighted estimate log (1/K) sum_k p(x + u_k) (log-mean-exp), and the K single-sample figures.
import { type Tensor, tf } from "../../core/tf.ts";
import type { VelocityField } from "../../core/types.ts";
import { dequantize } from "./bits-per-dim.ts";
import { logLikelihood, type NllOptions } from "./nll.ts";

/**
 * log((1/K) sum_k exp(v_k)), computed stably; -Infinity for no values or all -Infinity.
 * @example
 * logMeanExp([Math.log(1), Math.log(3)]); // log 2
 */
export function logMeanExp(values: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) m = Math.max(m, values[i]);
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += Math.exp(values[i] - m);
  return m + Math.log(s / values.length);
}

/** Per-image log-densities of dequantised data. */
export interface DequantizedLogLikelihood {
  /** K per image: log (1/K) sum_k p(y_k), y_k = (x + u_k)/128 - 1; one per image. */
  logp: Float64Array;
  /** Every single-sample log p(y_k), image-major (image i's draws at i K .. i K + K - 1). */
  samples: Float64Array;
  /** Dequantisation samples per image. */
  k: number;
  /** Augmented-field evaluations per trajectory (mean over batches). */
  nfe: number;
}

/**
 * The likelihood of 8-bit images under a flow, with K uniform dequantisations per image:
 * log P(x) >= log (1/K) sum_k p(x + u_k) (Burda et al.'s bound with q = uniform; tighter as K
 * grows, exact as K -> infinity), where p is the density of x + u on [0, 256)^D. Densities are
 * returned for y = (x + u)/128 - 1 (see bits-per-dim.ts for the change of units). Draws come
 * from one seeded stream, image-major; each image-draw is its own trajectory (and Hutchinson
 * probe). Integrations run in batches of `nll.evalBatch` rows (default: one image per draw,
 * i.e. as many rows as images).
 * @example
 * const r = await dequantizedLogLikelihood({ field: v, raw, draws: 20, seed: 7,
 *   nll: { solver, sourceStd: 1, divergence: "hutchinson", seed: 0 } });
 */
export async function dequantizedLogLikelihood(o: {
  field: VelocityField;
  /** 8-bit images (values 0..255), batch first. */
  raw: Tensor;
  /** Dequantisation draws K per image. */
  draws: number;
  /** How each likelihood is integrated. */
  nll: NllOptions;
  /** Seed of the dequantisation noise. */
  seed: number;
}): Promise<DequantizedLogLikelihood> {
  const { field: v, raw, draws: k, nll: opts, seed } = o;
  if (!(Number.isInteger(k) && k >= 1)) {
    throw new Error(`dequantisation samples K must be an integer >= 1, got ${k}`);
  }
  const n = raw.shape[0];
  const repeated = tf.tidy(() => {
    const r = tf.expandDims(raw, 1);
    const reps = [1, k, ...Array(raw.rank - 1).fill(1)];
    return tf.reshape(tf.tile(r, reps), [n * k, ...raw.shape.slice(1)]);
  });
  let y: Tensor;
  try {
    y = await dequantize(repeated, seed);
  } finally {
    repeated.dispose();
  }
  let res;
  try {
    res = await logLikelihood(v, y, { ...opts, evalBatch: opts.evalBatch ?? n });
  } finally {
    y.dispose();
  }
  const logp = new Float64Array(n);
  for (let i = 0; i < n; i++) logp[i] = logMeanExp(res.logp.subarray(i * k, (i + 1) * k));
  return { logp, samples: res.logp, k, nfe: res.nfe };
}
