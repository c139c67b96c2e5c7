// Variance-exploding diffusion path: x_t = x1 + sigma(t) z, sigma from sigma_max (t=0) to sigma_min.
import { definePath } from "../../core/mod.ts";

/**
 * The noise level sigma(1) at the data end of the path.
 * @example
 * SIGMA_MAX * (SIGMA_MIN / SIGMA_MAX) ** 1; // sigma(1) = 0.01
 */
export const SIGMA_MIN = 0.01;
/**
 * For 2-D toy data in [-4, 4]; Song et al. use the largest pairwise data distance.
 * @example
 * SIGMA_MAX * (SIGMA_MIN / SIGMA_MAX) ** 0; // sigma(0) = 10, also the source's std
 */
export const SIGMA_MAX = 10;

const sigma = (t: number) => SIGMA_MAX * (SIGMA_MIN / SIGMA_MAX) ** t;

export default definePath({
  name: "ve-diffusion",
  family: "diffusion",
  description: "VE diffusion path: x_t = x1 + s(t) z, s(t) = s_max (s_min/s_max)^t, " +
    "source N(0, s_max^2 I) (x0 = s_max z)",
  sourceStd: SIGMA_MAX,
  // With x0 ~ N(0, s_max^2 I): x_t = x1 + (s(t) / s_max) x0.
  schedule: {
    alpha: () => 1,
    sigma: (t) => sigma(t) / SIGMA_MAX,
    dAlpha: () => 0,
    dSigma: (t) => (sigma(t) / SIGMA_MAX) * Math.log(SIGMA_MIN / SIGMA_MAX),
  },
});
