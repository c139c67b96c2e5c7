// Exact 2-Wasserstein distance between two equal-size empirical measures (uniform weights) by
// optimal assignment on float64 squared distances, plus a seeded subsampling variant.
import { solveAssignment } from "../../core/ot/assignment.ts";
import { sqdist } from "../../core/ot/sqdist.ts";
import { rng } from "../../core/rng.ts";

/**
 * W2 between the empirical measures of a and b (each n points of dimension d, row-major):
 * sqrt(min over permutations sigma of (1/n) sum_i |a_i - b_sigma(i)|^2). Cost O(n^2 d + n^3).
 * @example
 * w2(new Float32Array([0, 0]), new Float32Array([3, 4]), 1, 2); // 5
 */
export function w2(a: Float32Array, b: Float32Array, n: number, d: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`w2: n must be a positive integer (number of points), got ${n}`);
  }
  if (a.length !== n * d || b.length !== n * d) {
    throw new RangeError(
      `w2: a and b must each hold n*d = ${n}*${d} = ${n * d} values, ` +
        `got ${a.length} and ${b.length}`,
    );
  }
  const { total } = solveAssignment(sqdist(a, b, n, n, d), n);
  return Math.sqrt(Math.max(total, 0) / n);
}

/** Pick k distinct rows of x (count rows of dimension d) uniformly, by partial Fisher-Yates. */
function subsample(x: Float32Array, count: number, d: number, k: number, seed: number) {
  if (k === count) return x;
  const u = rng(seed);
  const idx = Int32Array.from({ length: count }, (_, i) => i);
  const out = new Float32Array(k * d);
  for (let s = 0; s < k; s++) {
    const r = s + Math.floor(u() * (count - s));
    const t = idx[s];
    idx[s] = idx[r];
    idx[r] = t;
    out.set(x.subarray(idx[s] * d, idx[s] * d + d), s * d);
  }
  return out;
}

/**
 * W2 between a (nA points) and b (nB points) after drawing k = min(nA, nB, cap) points from
 * each without replacement (seeded; the sets are left as they are when they already have k).
 * The sizes may differ. Subsampling biases W2 upward for small k; compare like with like.
 * @example
 * w2Subsampled(generated, test, 2, 1000, 7);
 */
export function w2Subsampled(
  a: Float32Array,
  b: Float32Array,
  d: number,
  cap: number,
  seed: number,
): number {
  if (!Number.isInteger(d) || d < 1) {
    throw new RangeError(`w2Subsampled: d must be a positive integer, got ${d}`);
  }
  if (!Number.isInteger(cap) || cap < 1) {
    throw new RangeError(`w2Subsampled: cap must be a positive integer, got ${cap}`);
  }
  if (a.length % d !== 0 || b.length % d !== 0 || a.length === 0 || b.length === 0) {
    throw new RangeError(
      `w2Subsampled: a (${a.length} values) and b (${b.length}) must be non-empty multiples ` +
        `of d = ${d}`,
    );
  }
  const nA = a.length / d, nB = b.length / d;
  const k = Math.min(nA, nB, cap);
  const sa = subsample(a, nA, d, k, seed);
  const sb = subsample(b, nB, d, k, (seed ^ 0x5bd1e995) >>> 0);
  return w2(sa, sb, k, d);
}
