// The standard normal distribution in double precision (CDF, density, quantile) and the logistic
// pair (sigmoid, logit): what the training-time samplers map uniform draws through.

const SQRT2 = Math.SQRT2;
const SQRT_PI = Math.sqrt(Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** erfc(x) for x >= 0: the all-positive series of erf below 2.5, a continued fraction above. */
function erfcPositive(x: number): number {
  if (x < 2.5) {
    // erf(x) = 2/sqrt(pi) e^{-x^2} sum_n (2x^2)^n x / (1 3 5 ... (2n + 1)): no cancellation.
    let term = x, sum = x;
    for (let n = 1; n < 200 && term > sum * 1e-17; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return 1 - (2 / SQRT_PI) * Math.exp(-x * x) * sum;
  }
  if (x > 27) return 0; // below the smallest double
  // erfc(x) = e^{-x^2} / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))).
  let f = x;
  for (let n = 120; n >= 1; n--) f = x + n / 2 / f;
  return Math.exp(-x * x) / (SQRT_PI * f);
}

/**
 * The complementary error function, to about 1e-15 relative error.
 * @example
 * erfc(0); // 1
 * erfc(1); // 0.15729920705028513
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return x >= 0 ? erfcPositive(x) : 2 - erfcPositive(-x);
}

/**
 * The standard normal CDF Phi(z), accurate in the lower tail too (Phi(-30) ~ 4.9e-198).
 * @example
 * normalCdf(0); // 0.5
 * normalCdf(1.959963984540054); // 0.975
 */
export function normalCdf(z: number): number {
  if (z === -Infinity) return 0;
  if (z === Infinity) return 1;
  return 0.5 * erfc(-z / SQRT2);
}

/**
 * The standard normal density phi(z).
 * @example
 * normalDensity(0); // 0.3989422804014327
 */
export function normalDensity(z: number): number {
  return Math.exp(-0.5 * z * z) / SQRT_2PI;
}

/**
 * The standard normal quantile Phi^-1(p) (-Infinity at 0, Infinity at 1): Abramowitz and
 * Stegun's 26.2.23 start (error < 4.5e-4) polished by Halley steps on Phi, so Phi(x) = p to
 * double precision. Upper-half p go through the symmetry Phi^-1(p) = -Phi^-1(1 - p).
 * @example
 * normalQuantile(0.975); // 1.959963984540054
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (p > 0.5) return -normalQuantile(1 - p);
  const t = Math.sqrt(-2 * Math.log(p));
  let x = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
      (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
  for (let i = 0; i < 6; i++) {
    const e = (normalCdf(x) - p) / normalDensity(x);
    const step = e / (1 + 0.5 * x * e);
    x -= step;
    if (Math.abs(step) <= 1e-15 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}

/**
 * The logistic function 1 / (1 + e^-x) (0 at -Infinity, 1 at Infinity).
 * @example
 * sigmoid(0); // 0.5
 */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * The log-odds log(t / (1 - t)), the inverse of sigmoid (-Infinity at 0, Infinity at 1).
 * @example
 * logit(0.5); // 0
 */
export function logit(t: number): number {
  return Math.log(t) - Math.log1p(-t);
}
