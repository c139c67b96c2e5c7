// Rectified flow++'s U-shaped training times (Lee et al. 2024): more weight at both ends of t.
import { defineTimeSampler, type TimeDistribution } from "../../core/mod.ts";

/**
 * The U-shaped density a cosh(a (t - 1/2)) / (2 sinh(a / 2)) on [0, 1]: sangyun884/rfpp's
 * t_dist.py mixes the density a e^{a t} / (e^a - 1) with its mirror image, which is this.
 * @example
 * uShaped(4).quantile(0.5); // 0.5
 */
export function uShaped(a: number): TimeDistribution {
  const sh = Math.sinh(a / 2);
  return {
    quantile: (u) => 0.5 + Math.asinh((2 * u - 1) * sh) / a,
    cdf: (t) => (t <= 0 ? 0 : t >= 1 ? 1 : (Math.sinh(a * (t - 0.5)) + sh) / (2 * sh)),
    density: (t) => (t >= 0 && t <= 1 ? (a * Math.cosh(a * (t - 0.5))) / (2 * sh) : 0),
  };
}

export default defineTimeSampler({
  name: "u-shaped",
  description: "Rectified flow++'s U-shaped t (Lee et al. 2024; sangyun884/rfpp t_dist.py): " +
    "density proportional to cosh(a (t - 1/2)), a = 4; favours both ends of the path",
  params: {
    a: { default: 4, above: 0, max: 100, description: "how steep the U is (a -> 0: uniform)" },
  },
  prepare: ({ params }) => uShaped(params.a),
});
