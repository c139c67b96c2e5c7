// Inception Score (Salimans et al. 2016) as torch-fidelity's ISC computes it: class
// probabilities from the 1008-way logits, samples shuffled by NumPy's RandomState(2020), 10
// splits, exp of the mean KL divergence to the split's marginal, in float64.
import { numpyPermutation } from "./mt19937.ts";

/** Options of inceptionScore. */
export interface InceptionScoreOptions {
  /** Number of splits (default 10, torch-fidelity's isc_splits). */
  splits?: number;
  /** Shuffle the rows first, as torch-fidelity's samples_shuffle (default true). */
  shuffle?: boolean;
  /** Seed of NumPy's RandomState for the shuffle (default 2020, torch-fidelity's rng_seed). */
  seed?: number;
}

/** An Inception Score with its spread over splits. */
export interface InceptionScore {
  /** Mean over splits (higher is better). */
  mean: number;
  /** Population standard deviation over splits (np.std). */
  std: number;
  splits: number;
  n: number;
  classes: number;
}

/**
 * Inception Score of n samples from their logits (row-major [n, classes], float32 or float64):
 * per row p = softmax(logits) in float64; rows split into `splits` consecutive chunks
 * [i n / s, (i + 1) n / s) (integer division) after an optional NumPy-compatible shuffle; per
 * chunk exp(mean over rows of KL(p || mean p)); mean and std over chunks. Same as
 * torch-fidelity's `isc_features_to_metric` on the same logits.
 * @example
 * const is = inceptionScore(logits, 1008); // { mean, std, splits: 10, n, classes: 1008 }
 */
export function inceptionScore(
  logits: ArrayLike<number>,
  classes: number,
  opts: InceptionScoreOptions = {},
): InceptionScore {
  const n = logits.length / classes;
  if (!Number.isInteger(classes) || classes < 2 || !Number.isInteger(n)) {
    throw new Error(
      `inceptionScore: ${logits.length} logits is not a whole number of rows of ${classes} classes`,
    );
  }
  const splits = opts.splits ?? 10;
  if (!Number.isInteger(splits) || splits < 1 || splits > n) {
    throw new Error(`inceptionScore: splits must be an integer in [1, ${n}], got ${splits}`);
  }
  const order = (opts.shuffle ?? true)
    ? numpyPermutation(n, opts.seed ?? 2020)
    : Int32Array.from({ length: n }, (_, i) => i);
  // log-softmax per row, float64, with the max subtracted (as torch's log_softmax).
  const logp = new Float64Array(n * classes);
  for (let r = 0; r < n; r++) {
    const src = order[r] * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[src + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[src + c] - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < classes; c++) logp[r * classes + c] = logits[src + c] - lse;
  }
  if (!logp.every(Number.isFinite)) {
    throw new Error("inceptionScore: the logits hold a non-finite value");
  }
  const scores: number[] = [];
  const q = new Float64Array(classes);
  for (let s = 0; s < splits; s++) {
    const lo = Math.floor((s * n) / splits), hi = Math.floor(((s + 1) * n) / splits);
    q.fill(0);
    for (let r = lo; r < hi; r++) {
      for (let c = 0; c < classes; c++) q[c] += Math.exp(logp[r * classes + c]);
    }
    for (let c = 0; c < classes; c++) q[c] = Math.log(q[c] / (hi - lo));
    let kl = 0;
    for (let r = lo; r < hi; r++) {
      let row = 0;
      for (let c = 0; c < classes; c++) {
        const lp = logp[r * classes + c];
        row += Math.exp(lp) * (lp - q[c]);
      }
      kl += row;
    }
    scores.push(Math.exp(kl / (hi - lo)));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, v) => a + (v - mean) ** 2, 0) / splits);
  return { mean, std, splits, n, classes };
}
