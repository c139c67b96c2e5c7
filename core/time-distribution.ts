// Distributions of the training time t: what a time sampler plugin returns, the uniform one, the
// restriction of any of them to a path's time range, and the checks of a sampler's parameters.
import type { TimeDistribution, TimeSamplerParam } from "./types.ts";

/** A time distribution restricted to a path's time range: what training draws from. */
export interface RangedTimes {
  /** The time for a uniform draw u in [0, 1): increasing in u, within `range`. */
  time(u: number): number;
  /** The density of t on `range` (integrates to 1 there). */
  density(t: number): number;
  /** The probability the unrestricted distribution gives the range (1 when it lies inside). */
  mass: number;
  range: [number, number];
}

/**
 * The uniform distribution on [t0, t1]: quantile t0 + (t1 - t0) u, the very expression the
 * trainer has always drawn times with, so a uniform sampler reproduces earlier runs bit for bit.
 * @example
 * uniformTimes([0, 1]).quantile(0.25); // 0.25
 */
export function uniformTimes(range: [number, number]): TimeDistribution {
  const [t0, t1] = range;
  const len = t1 - t0;
  return {
    quantile: (u) => t0 + (t1 - t0) * u,
    cdf: (t) => (t <= t0 ? 0 : t >= t1 ? 1 : (t - t0) / len),
    density: (t) => (t >= t0 && t <= t1 ? 1 / len : 0),
    support: [t0, t1],
  };
}

/**
 * Restrict a time distribution to a path's time range (and the distribution's own support): the
 * draws are those of the distribution conditioned on the range (its quantile at
 * cdf(lo) + u (cdf(hi) - cdf(lo))), the density is renormalised. A range holding the whole
 * distribution (cdf 0 and 1 at its ends, exactly) changes nothing: time(u) = quantile(u). Throws when the range holds less
 * than `minMass` (default 1e-6) of the probability, naming the sampler and the range.
 * @example
 * const r = restrictToRange(uniformTimes([0, 1]), { range: [0, 0.5], name: "uniform" });
 * r.time(0.5); // 0.25
 */
export function restrictToRange(
  d: TimeDistribution,
  { range, name, minMass = 1e-6 }: {
    /** The path's time range. */
    range: [number, number];
    /** The sampler's name, for the message. */
    name: string;
    /** The least probability the range must hold (default 1e-6). */
    minMass?: number;
  },
): RangedTimes {
  const [s0, s1] = d.support ?? [0, 1];
  const lo = Math.max(range[0], s0), hi = Math.min(range[1], s1);
  const f0 = d.cdf(lo), f1 = d.cdf(hi);
  const mass = f1 - f0;
  if (!(hi > lo) || !(mass >= minMass)) {
    throw new Error(
      `time sampler "${name}" puts ${
        Number.isFinite(mass) ? mass.toPrecision(3) : mass
      } of its probability in the path's time range [${range[0]}, ${range[1]}]` +
        `${s0 > 0 || s1 < 1 ? ` (its own support is [${s0}, ${s1}])` : ""}; ` +
        `it needs at least ${minMass}: change its parameters or use another sampler`,
    );
  }
  return {
    time: (u) => Math.min(Math.max(d.quantile(f0 + u * mass), lo), hi),
    density: (t) => (t >= lo && t <= hi ? d.density(t) / mass : 0),
    mass,
    range: [lo, hi],
  };
}

/**
 * What is wrong with a parameter value, or undefined when it is valid.
 * @example
 * paramProblem({ default: 1, above: 0, description: "spread" }, 0); // "must be > 0"
 */
export function paramProblem(p: TimeSamplerParam, v: number): string | undefined {
  const bounds = paramBounds(p);
  const ok = Number.isFinite(v) && (p.min === undefined || v >= p.min) &&
    (p.max === undefined || v <= p.max) && (p.above === undefined || v > p.above) &&
    (p.below === undefined || v < p.below);
  return ok ? undefined : `must be a finite number${bounds ? ` ${bounds}` : ""}`;
}

/**
 * A parameter's bounds in words ("> 0", ">= -1 and <= 1.752"), "" when any number goes.
 * @example
 * paramBounds({ default: 4, above: 0, description: "" }); // "> 0"
 */
export function paramBounds(p: TimeSamplerParam): string {
  const parts = [
    p.above !== undefined ? `> ${p.above}` : "",
    p.min !== undefined ? `>= ${p.min}` : "",
    p.below !== undefined ? `< ${p.below}` : "",
    p.max !== undefined ? `<= ${Number(p.max.toPrecision(4))}` : "",
  ].filter(Boolean);
  return parts.join(" and ");
}

/**
 * The parameters of a time sampler in words, for messages and --list:
 * "location (default 0), scale (> 0, default 1)"; "none" when it has none.
 * @example
 * describeParams({ a: { default: 4, above: 0, description: "" } }); // "a (> 0, default 4)"
 */
export function describeParams(params: Record<string, TimeSamplerParam>): string {
  const items = Object.entries(params).map(([k, p]) => {
    const b = paramBounds(p);
    return `${k} (${b ? `${b}, ` : ""}default ${p.default})`;
  });
  return items.length ? items.join(", ") : "none";
}
