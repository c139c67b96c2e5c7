// Lipman et al.'s variance-preserving diffusion path (eqs. 18-19), noise at t = 0, data at t = 1.
import { definePath } from "../../core/mod.ts";

/**
 * Linear beta schedule of the VP SDE, as in Song et al. and Lipman et al.
 * @example
 * BETA_MIN + 0.5 * (BETA_MAX - BETA_MIN); // beta(s) at s = 0.5: 10.05
 */
export const BETA_MIN = 0.1;
/**
 * The upper end of the linear beta schedule: beta(s) = BETA_MIN + s (BETA_MAX - BETA_MIN).
 * @example
 * BETA_MIN + 1 * (BETA_MAX - BETA_MIN); // beta(1) = 20
 */
export const BETA_MAX = 20;

/** T(s) = int_0^s beta(r) dr for beta(r) = beta_min + r (beta_max - beta_min). */
const T = (s: number) => BETA_MIN * s + 0.5 * (BETA_MAX - BETA_MIN) * s * s;
const beta = (s: number) => BETA_MIN + s * (BETA_MAX - BETA_MIN);
/** alpha_s = exp(-T(s) / 2), evaluated at s = 1 - t. */
const a = (t: number) => Math.exp(-0.5 * T(1 - t));
/** d/dt alpha_{1-t} = alpha_{1-t} * beta(1-t) / 2. */
const da = (t: number) => 0.5 * a(t) * beta(1 - t);

export default definePath({
  name: "vp-diffusion",
  family: "diffusion",
  // sigma_t ~ sqrt(0.1 (1 - t)) has an infinite slope at t = 1: stop at 1 - 1e-5 (Lipman et al.).
  tRange: [0, 1 - 1e-5],
  description: "VP diffusion path (Lipman et al. eq. 19): mu_t = a_{1-t} x1, " +
    "sigma_t = sqrt(1 - a_{1-t}^2), a_s = exp(-T(s)/2), beta 0.1..20",
  schedule: {
    alpha: a,
    sigma: (t) => Math.sqrt(Math.max(1 - a(t) ** 2, 0)),
    dAlpha: da,
    dSigma: (t) => {
      const s = Math.sqrt(Math.max(1 - a(t) ** 2, 1e-12));
      return (-a(t) * da(t)) / s;
    },
  },
});
