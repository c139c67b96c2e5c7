// Noise levels of an affine path and the diffusion samplers' time grids over them (uniform in t,
// uniform in log-SNR, Karras et al.'s rho grid), in fmbench's time: noise at t0, data at t1.
import type { Schedule } from "../types.ts";
import { SolverError } from "./errors.ts";
import type { NoiseGridKind } from "./time-grid.ts";

/**
 * EDM's noise-level window (Karras et al. 2022, and zju-pi/diff-sampler for every solver): the
 * default sigmaMin and sigmaMax of the "logsnr" and "karras" grids, which need finite ends.
 * @example
 * EDM_SIGMA.max; // 80
 */
export const EDM_SIGMA = { min: 0.002, max: 80 } as const;

/** One time of a sampling grid with the path's coefficients there. */
export interface GridPoint {
  /** fmbench time (noise at t0, data at t1). */
  t: number;
  /** alpha(t): the data's coefficient in x_t. */
  alpha: number;
  /** sigma(t) * sourceStd: the standard deviation of the noise in x_t. */
  sigma: number;
  /** EDM's noise level sigma / alpha (Infinity where alpha = 0). */
  level: number;
  /** Half the log signal-to-noise ratio, log(alpha / sigma) = -log(level). */
  lambda: number;
}

/**
 * The path's coefficients at time t.
 * @example
 * gridPoint(linear.schedule!, 1, 0.5); // { t: 0.5, alpha: 0.5, sigma: 0.5, level: 1, lambda: 0 }
 */
export function gridPoint(s: Schedule, sourceStd: number, t: number): GridPoint {
  const alpha = s.alpha(t), sigma = s.sigma(t) * sourceStd;
  const level = alpha > 0 ? sigma / alpha : Infinity;
  return { t, alpha, sigma, level, lambda: Math.log(alpha) - Math.log(sigma) };
}

/**
 * The time in [t0, t1] at which the path's noise level is `level`, by bisection (the level falls
 * from t0 to t1); to about 1e-16 in t.
 * @example
 * timeAtLevel(linear.schedule!, 1, 0, 1, 80); // 1 / 81
 */
export function timeAtLevel(
  s: Schedule,
  sourceStd: number,
  t0: number,
  t1: number,
  level: number,
): number {
  let lo = t0, hi = t1;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (gridPoint(s, sourceStd, mid).level > level) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** What samplingGrid spaces: the path, its time range, the step count and the window. */
export interface SamplingGridOptions {
  schedule: Schedule;
  sourceStd: number;
  t0: number;
  t1: number;
  steps: number;
  kind: NoiseGridKind;
  /** Exponent of the "karras" grid (EDM: 7). */
  rho: number;
  /** Lower end of the noise-level window (0: the path's own end). */
  sigmaMin: number;
  /** Upper end of the noise-level window (Infinity: the path's own start). */
  sigmaMax: number;
}

/** A sampling grid: `steps + 1` points from the (possibly clipped) start to t1. */
export interface SamplingGrid {
  points: GridPoint[];
  /**
   * The factor from the solver's x0 (the noise at t0) to the state at points[0]: 1 when the grid
   * starts at t0, sigma(t_start) / sigma(t0) when sigmaMax clips the start (EDM's start, x =
   * sigma_max * noise, which neglects alpha(t_start) x1).
   */
  startScale: number;
}

/**
 * The grid a sampler steps on. The window is the path's own noise levels [level(t1), level(t0)]
 * cut to [sigmaMin, sigmaMax]. When sigmaMax is below level(t0) the grid starts at the time of
 * sigmaMax (EDM starts at sigma_max = 80 whatever the model's range). The kind spaces the steps
 * over the window; when sigmaMin is above level(t1), it spaces `steps - 1` of them and the last
 * goes from sigmaMin on to t1 (EDM's final step to sigma = 0, at the path's end level). Refuses
 * (SolverError) a backward solve, a path that does not start in noise or whose noise level does
 * not fall, an empty window, and a "logsnr" or "karras" grid with an infinite or zero end.
 * @example
 * samplingGrid("ipndm", { schedule: linear.schedule!, sourceStd: 1, t0: 0, t1: 1, steps: 4,
 *   kind: "karras", rho: 7, sigmaMin: 0.002, sigmaMax: 80 }).points.map((p) => p.level);
 * // [80, 9.7, 0.47, 0.002, 0]
 */
export function samplingGrid(solver: string, o: SamplingGridOptions): SamplingGrid {
  const { schedule: s, sourceStd: std, t0, t1, steps: n } = o;
  const refuse = (why: string) => new SolverError(solver, why);
  if (!Number.isInteger(n) || n < 1) throw refuse(`steps must be a positive integer, got ${n}`);
  if (!(t1 > t0)) {
    throw refuse(
      `samples forward only, from the noise at t0 to the data at t1; got t0=${t0}, t1=${t1}`,
    );
  }
  const p0 = gridPoint(s, std, t0), p1 = gridPoint(s, std, t1);
  if (!(p0.sigma > 0)) throw refuse(`the path has no noise at its start: sigma(${t0}) = 0`);
  if (!(p0.level > p1.level) || !(p1.level >= 0)) {
    throw refuse(
      `the path's noise level sigma/alpha must fall from t0 to t1; it is ${p0.level} at ` +
        `t=${t0} and ${p1.level} at t=${t1}`,
    );
  }
  if (!(o.sigmaMin >= 0) || !(o.sigmaMax > o.sigmaMin)) {
    throw refuse(
      `needs 0 <= sigmaMin < sigmaMax, got sigmaMin=${o.sigmaMin}, sigmaMax=${o.sigmaMax}`,
    );
  }
  const hi = Math.min(p0.level, o.sigmaMax), lo = Math.max(p1.level, o.sigmaMin);
  if (!(hi > lo)) {
    throw refuse(
      `the noise-level window [sigmaMin, sigmaMax] = [${o.sigmaMin}, ${o.sigmaMax}] leaves ` +
        `nothing of the path's levels [${p1.level.toPrecision(4)}, ${p0.level.toPrecision(4)}]`,
    );
  }
  const clipEnd = lo > p1.level;
  if (o.kind !== "uniform" && !Number.isFinite(hi)) {
    throw refuse(
      `a "${o.kind}" grid needs a finite noise level at the start, but alpha(${t0}) = ` +
        `${s.alpha(t0)} makes sigma/alpha infinite there; set sigmaMax (EDM uses 80) or use ` +
        `grid "uniform"`,
    );
  }
  if (o.kind === "logsnr" && !(lo > 0)) {
    throw refuse(
      `a "logsnr" grid needs a nonzero noise level at the end, but sigma(${t1}) = ` +
        `${s.sigma(t1)} makes the log-SNR infinite there; set sigmaMin (EDM uses 0.002)`,
    );
  }
  const start = hi < p0.level ? gridPoint(s, std, timeAtLevel(s, std, t0, t1, hi)) : p0;
  const last = clipEnd ? gridPoint(s, std, timeAtLevel(s, std, t0, t1, lo)) : p1;
  const m = clipEnd ? n - 1 : n; // intervals spaced over the window
  const points: GridPoint[] = [start];
  for (let i = 1; i < m; i++) {
    const f = i / m;
    let t: number;
    if (o.kind === "uniform") t = start.t + f * (last.t - start.t);
    else {
      const level = o.kind === "logsnr" ? hi * Math.pow(lo / hi, f) : Math.pow(
        Math.pow(hi, 1 / o.rho) + f * (Math.pow(lo, 1 / o.rho) - Math.pow(hi, 1 / o.rho)),
        o.rho,
      );
      t = timeAtLevel(s, std, t0, t1, level);
    }
    points.push(gridPoint(s, std, t));
  }
  if (m > 0) points.push(last);
  if (clipEnd) points.push(p1);
  for (let i = 1; i < points.length; i++) {
    if (!(points[i].t > points[i - 1].t) || !(points[i].level < points[i - 1].level)) {
      throw refuse(
        `grid points ${i - 1} and ${i} do not advance (t=${points[i - 1].t}, ${points[i].t}); ` +
          `too many steps for this window`,
      );
    }
  }
  return { points, startScale: start === p0 ? 1 : start.sigma / p0.sigma };
}
