// The logit-normal distribution of t: t = sigmoid(location + scale z), z ~ N(0, 1).
import {
  logit,
  normalCdf,
  normalDensity,
  normalQuantile,
  sigmoid,
  type TimeDistribution,
} from "../../core/mod.ts";

/**
 * The logit-normal distribution: logit(t) ~ N(location, scale^2), on (0, 1).
 * @example
 * logitNormal(0, 1).quantile(0.5); // 0.5
 */
export function logitNormal(location: number, scale: number): TimeDistribution {
  return {
    quantile: (u) => sigmoid(location + scale * normalQuantile(u)),
    cdf: (t) => normalCdf((logit(t) - location) / scale),
    density: (t) =>
      t > 0 && t < 1 ? normalDensity((logit(t) - location) / scale) / (scale * t * (1 - t)) : 0,
  };
}
