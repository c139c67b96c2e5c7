// Closed forms for Gaussian data N(m, s^2 I) under an affine path with source N(0, std^2 I).
import type { Schedule } from "../core/types.ts";

/**
 * The marginal velocity u(x, t) = a' m + (a' a s^2 + sg' sg std^2) / v (x - a m),
 * v = a^2 s^2 + sg^2 std^2 (the posterior mean of the conditional velocity).
 */
export function gaussianMarginalVelocity(
  sch: Schedule,
  m: number,
  s: number,
  std: number,
): (x: number, t: number) => number {
  return (x, t) => {
    const a = sch.alpha(t), sg = sch.sigma(t), da = sch.dAlpha(t), ds = sch.dSigma(t);
    const v = a * a * s * s + sg * sg * std * std;
    return da * m + ((da * a * s * s + ds * sg * std * std) / v) * (x - a * m);
  };
}

/** Posterior of x1 given x_t = x: mean and std. */
export function posteriorX1(
  sch: Schedule,
  m: number,
  s: number,
  std: number,
  x: number,
  t: number,
) {
  const a = sch.alpha(t), sg = sch.sigma(t);
  const v = a * a * s * s + sg * sg * std * std;
  return {
    mean: m + ((a * s * s) / v) * (x - a * m),
    std: Math.sqrt((s * s * sg * sg * std * std) / v),
  };
}
