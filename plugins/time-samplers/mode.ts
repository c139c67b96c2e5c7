// Stable Diffusion 3's "mode" training times (Esser et al. 2024, eq. 20): a heavier middle than
// uniform without logit-normal's vanishing ends.
import { defineTimeSampler, type TimeDistribution } from "../../core/mod.ts";

/**
 * The largest scale that keeps the map from u to t increasing (SD3: s <= 2 / (pi - 2)).
 * @example
 * MAX_MODE_SCALE; // 1.7519...
 */
export const MAX_MODE_SCALE = 2 / (Math.PI - 2);

/**
 * SD3's mode distribution in fmbench's time: t = 1 - f(u) with f(u) = 1 - u - s (cos^2(pi u / 2)
 * - 1 + u), u ~ U(0, 1). (Its law is symmetric about 1/2, so t = f(u) has the same one.)
 * @example
 * modeTimes(0).quantile(0.3); // 0.3: scale 0 is uniform
 */
export function modeTimes(s: number): TimeDistribution {
  const q = (u: number) => u + s * (Math.cos((Math.PI * u) / 2) ** 2 - 1 + u);
  const dq = (u: number) => 1 + s * (1 - (Math.PI / 2) * Math.sin(Math.PI * u));
  /** The u with q(u) = t, by bisection (q increases from q(0) = 0 to q(1) = 1). */
  const inverse = (t: number) => {
    if (t <= 0) return 0;
    if (t >= 1) return 1;
    let lo = 0, hi = 1;
    for (let i = 0; i < 200; i++) {
      const mid = 0.5 * (lo + hi);
      if (mid <= lo || mid >= hi) break;
      if (q(mid) < t) lo = mid;
      else hi = mid;
    }
    return 0.5 * (lo + hi);
  };
  return {
    quantile: q,
    cdf: inverse,
    density: (t) => (t >= 0 && t <= 1 ? 1 / dq(inverse(t)) : 0),
  };
}

export default defineTimeSampler({
  name: "mode",
  description: "SD3's mode sampling (Esser et al. 2024; diffusers' weighting_scheme \"mode\"): " +
    "t = 1 - f(u), f(u) = 1 - u - scale (cos^2(pi u/2) - 1 + u), u ~ U(0, 1); scale > 0 " +
    "favours mid t, < 0 the ends, 0 is uniform",
  params: {
    scale: {
      default: 1.29,
      min: -1,
      max: MAX_MODE_SCALE,
      description: "SD3's s: how much mass moves to the middle (the map stays monotone in " +
        "[-1, 2/(pi - 2)])",
    },
  },
  prepare: ({ params }) => modeTimes(params.scale),
});
