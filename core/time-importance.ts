// Importance sampling of training times: warp uniform draws to a density q(t) ∝ w(t) on a range
// and return the weight that keeps a loss estimate unbiased (Song et al. 2021, likelihood weighting).

/** A time sampler: uniform draws in, importance-sampled times and their weights out. */
export interface TimeSampler {
  /**
   * Map u in [0, 1) to a time t ~ q and its weight (1 / (t1 - t0)) / q(t), so that for any f,
   * E_q[weight f(t)] equals the mean of f over the range under uniform t.
   */
  warp(u: number): { t: number; weight: number };
  /** The integral of the (unnormalised) density over the range, by the tabulation. */
  mass: number;
  /** Cell boundaries of the piecewise-constant density (for tests and diagnostics). */
  nodes: Float64Array;
}

/** Options of importanceTimeSampler. */
export interface TimeSamplerOptions {
  /** Smallest cell next to either end, as a fraction of the range (default 1e-9). */
  finest?: number;
  /** Growth ratio of neighbouring cells away from each end (default 1.02). */
  ratio?: number;
}

/**
 * A sampler of times with density proportional to `density` on [t0, t1]. The density is
 * tabulated on cells that shrink geometrically towards both ends (where schedules are singular),
 * made piecewise constant (trapezoid mass per cell) and sampled exactly by inverting its CDF; the
 * weight uses that same piecewise-constant density, so weighted estimates stay unbiased however
 * coarse the tabulation. Throws if the density is negative, not finite or integrates to 0.
 * @example
 * const s = importanceTimeSampler((t) => 1 / (1 - t), [0, 1 - 1e-5]);
 * const { t, weight } = s.warp(0.5);
 */
export function importanceTimeSampler(
  density: (t: number) => number,
  range: [number, number],
  opts: TimeSamplerOptions = {},
): TimeSampler {
  const [t0, t1] = range;
  if (!(Number.isFinite(t0) && Number.isFinite(t1) && t1 > t0)) {
    throw new Error(`importanceTimeSampler: range must be finite with t0 < t1, got [${range}]`);
  }
  const finest = opts.finest ?? 1e-9, ratio = opts.ratio ?? 1.02;
  const len = t1 - t0;
  // Fractions of the range: 0, finest, finest r, ... up to 1/2, mirrored towards 1.
  const half: number[] = [];
  for (let d = finest; d < 0.5; d *= ratio) half.push(d);
  const fr = [0, ...half, 0.5, ...half.reverse().map((d) => 1 - d), 1];
  const nodes = Float64Array.from(fr, (f) => t0 + f * len);
  nodes[nodes.length - 1] = t1;
  const w = Float64Array.from(nodes, (t) => density(t));
  for (let i = 0; i < w.length; i++) {
    if (!(w[i] >= 0 && Number.isFinite(w[i]))) {
      throw new Error(
        `importanceTimeSampler: density must be finite and >= 0 on [${t0}, ${t1}]; ` +
          `it is ${w[i]} at t = ${nodes[i]}`,
      );
    }
  }
  const cells = nodes.length - 1;
  const cdf = new Float64Array(nodes.length);
  for (let i = 0; i < cells; i++) {
    cdf[i + 1] = cdf[i] + 0.5 * (nodes[i + 1] - nodes[i]) * (w[i] + w[i + 1]);
  }
  const mass = cdf[cells];
  if (!(mass > 0)) throw new Error("importanceTimeSampler: the density integrates to 0");
  return {
    mass,
    nodes,
    warp(u) {
      const target = Math.min(Math.max(u, 0), 1) * mass;
      let lo = 0, hi = cells - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (cdf[mid] <= target) lo = mid;
        else hi = mid - 1;
      }
      // Skip empty cells (a zero density there is never sampled).
      while (lo < cells - 1 && cdf[lo + 1] - cdf[lo] <= 0) lo++;
      const m = cdf[lo + 1] - cdf[lo], dt = nodes[lo + 1] - nodes[lo];
      const t = Math.min(nodes[lo] + ((target - cdf[lo]) / m) * dt, nodes[lo + 1]);
      // q(t) = m / (dt mass) on this cell; weight = (1 / len) / q(t).
      return { t, weight: (dt * mass) / (m * len) };
    },
  };
}
