// Lipman et al.'s conditional OT path: mu_t = t x1, sigma_t = 1 - (1 - sigma_min) t.
import { definePath } from "../../core/mod.ts";

/**
 * sigma_min of the path; Lipman et al. use a small positive value.
 * @example
 * const sigma1 = 1 - (1 - SIGMA_MIN) * 1; // sigma_t at t = 1: 1e-4
 */
export const SIGMA_MIN = 1e-4;

export default definePath({
  name: "cond-ot",
  family: "ot",
  description: "Conditional OT path (Lipman et al.): x_t = t x1 + (1 - (1 - sigma_min) t) x0",
  schedule: {
    alpha: (t) => t,
    sigma: (t) => 1 - (1 - SIGMA_MIN) * t,
    dAlpha: () => 1,
    dSigma: () => -(1 - SIGMA_MIN),
  },
});
