// What the diffusion samplers (DPM-Solver++, UniPC, iPNDM, EDM) share on an affine path: their
// settings, the grid, the start state and the data prediction derived from the velocity field.
import { dataFromVelocity, noiseFromVelocity, velocityDeterminant } from "../affine.ts";
import { defineSolver } from "../define.ts";
import { type Tensor, tf } from "../tf.ts";
import type { Schedule, SolveOptions, Solver, VelocityField } from "../types.ts";
import { SolverError } from "./errors.ts";
import { assertFinite } from "./fixed-step.ts";
import { EDM_SIGMA, type GridPoint, gridPoint, samplingGrid, timeAtLevel } from "./noise-levels.ts";
import { EDM_RHO, isNoiseGridKind, NOISE_GRID_KINDS, type NoiseGridKind } from "./time-grid.ts";

/** One numeric setting of a sampler: its default and the values it accepts. */
export interface SamplerParam {
  default: number;
  /** Smallest accepted value (inclusive). */
  min?: number;
  /** Largest accepted value (inclusive). */
  max?: number;
  /** Whether only integers are accepted. */
  int?: boolean;
}

/** What a sampler works with: its grid, its settings, the start state and a denoiser. */
export interface SamplerContext {
  name: string;
  /** `steps + 1` points from the start to t1. */
  grid: GridPoint[];
  /** The solve's [t0, t1] (the grid starts later when sigmaMax clips it). */
  range: [number, number];
  /** The setting's values, defaults filled in (sigmaMin, sigmaMax, rho and the sampler's own). */
  params: Readonly<Record<string, number>>;
  /** The seed for samplers that draw noise (SolveOptions.seed, else 0). */
  seed: number;
  schedule: Schedule;
  sourceStd: number;
  /** The state at grid[0] (a new tensor): x0, scaled when sigmaMax clips the start. */
  start(x0: Tensor): Tensor;
  /** The data prediction x1_hat at (x, p.t) from one velocity evaluation; a new tensor. */
  denoise(x: Tensor, p: GridPoint): Tensor;
  /**
   * The data prediction and the noise prediction eps_hat = x0_hat / sourceStd (EDM's slope
   * (x~ - D) / sigma~, without its cancellation at low noise) from one velocity evaluation.
   */
  predict(x: Tensor, p: GridPoint): { data: Tensor; eps: Tensor };
  /** The path's coefficients at a time inside the grid's span (for stochastic samplers). */
  point(t: number): GridPoint;
  /** The time at which the noise level is `level` (inside the path's range). */
  timeAt(level: number): number;
}

/** A sampler plugin: name, description, order, default grid, its own settings and its loop. */
export interface AffineSamplerInput {
  name: string;
  description: string;
  order: number;
  /** The grid when the setting names none. */
  defaultGrid: NoiseGridKind;
  /** The sampler's own numeric settings (beyond sigmaMin, sigmaMax and rho). */
  params?: Record<string, SamplerParam>;
  /** The final state at t1 (a new tensor; x0 stays the caller's). */
  sample(ctx: SamplerContext, x0: Tensor): Tensor;
}

/**
 * The settings every affine sampler takes: sigmaMin and sigmaMax cut the path's noise levels
 * (EDM's 0.002 and 80 by default on the "logsnr" and "karras" grids, the path's own range on
 * "uniform"), rho is the "karras" grid's exponent.
 * @example
 * Object.keys(commonParams("karras")); // ["sigmaMin", "sigmaMax", "rho"]
 */
export function commonParams(kind: NoiseGridKind): Record<string, SamplerParam> {
  const edm = kind !== "uniform";
  return {
    sigmaMin: { default: edm ? EDM_SIGMA.min : 0, min: 0 },
    sigmaMax: { default: edm ? EDM_SIGMA.max : Infinity, min: 0 },
    rho: { default: EDM_RHO, min: 1e-3 },
  };
}

function readParams(
  name: string,
  specs: Record<string, SamplerParam>,
  given: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(given)) {
    if (!(k in specs)) {
      throw new SolverError(
        name,
        `unknown setting "${k}"; valid: steps, grid, ${Object.keys(specs).join(", ")}`,
      );
    }
    const p = specs[k];
    const ok = typeof v === "number" && !Number.isNaN(v) && (p.min === undefined || v >= p.min) &&
      (p.max === undefined || v <= p.max) && (!p.int || Number.isInteger(v));
    if (!ok) {
      const range = [
        p.int ? "an integer" : "a number",
        p.min !== undefined ? `>= ${p.min}` : "",
        p.max !== undefined ? `<= ${p.max}` : "",
      ].filter(Boolean).join(" ");
      throw new SolverError(name, `setting ${k} must be ${range}, got ${v}`);
    }
    out[k] = v;
  }
  for (const [k, p] of Object.entries(specs)) out[k] ??= p.default;
  return out;
}

/**
 * sum_j c_j x_j as a new tensor (terms with a zero coefficient are skipped; at least one term
 * must remain).
 * @example
 * const y = linearCombination([[0.5, a], [-2, b]]); // 0.5 a - 2 b
 */
export function linearCombination(terms: Array<[number, Tensor]>): Tensor {
  return tf.tidy(() => {
    const parts = terms.filter(([c]) => c !== 0).map(([c, x]) => c === 1 ? x : tf.mul(x, c));
    if (parts.length === 0) return tf.zerosLike(terms[0][1]);
    return parts.length === 1 ? tf.clone(parts[0]) : tf.addN(parts);
  });
}

/**
 * Set up a sampler's solve: check the setting and the path, build the grid, and wrap the velocity
 * field as a data prediction. Refuses (SolverError, before any evaluation) a path without a
 * schedule, an unknown grid or setting, a grid the path cannot carry (see samplingGrid) and a
 * grid point where the data prediction is undefined (alpha sigma' - sigma alpha' = 0).
 * @example
 * const ctx = samplerContext(spec, f, { t0: 0, t1: 1, steps: 4, schedule, sourceStd: 1 });
 */
export function samplerContext(
  s: Omit<AffineSamplerInput, "sample" | "description" | "order">,
  f: VelocityField,
  opts: SolveOptions,
): SamplerContext {
  const name = s.name;
  const schedule = opts.schedule;
  if (!schedule) {
    throw new SolverError(
      name,
      "needs the path's affine schedule (alpha, sigma) to turn the velocity into a data " +
        "prediction; this path has none: sample it with an ODE solver (euler, heun, dopri5)",
    );
  }
  const kind = opts.gridKind ?? s.defaultGrid;
  if (!isNoiseGridKind(kind)) {
    throw new SolverError(name, `unknown grid "${kind}"; valid: ${NOISE_GRID_KINDS.join(", ")}`);
  }
  if (opts.steps === undefined) {
    throw new SolverError(name, "needs steps (a positive integer)");
  }
  const given = { ...opts.params, ...(opts.rho !== undefined ? { rho: opts.rho } : {}) };
  const params = readParams(name, { ...commonParams(kind), ...s.params }, given);
  const std = opts.sourceStd ?? 1;
  const { points, startScale } = samplingGrid(name, {
    schedule,
    sourceStd: std,
    t0: opts.t0,
    t1: opts.t1,
    steps: opts.steps,
    kind,
    rho: params.rho,
    sigmaMin: params.sigmaMin,
    sigmaMax: params.sigmaMax,
  });
  const checkDet = (t: number) => {
    const det = velocityDeterminant(schedule, t);
    if (!(Number.isFinite(det) && det !== 0)) {
      throw new SolverError(
        name,
        `the data prediction is undefined at t=${t}: alpha sigma' - sigma alpha' = ${det} ` +
          `(the path's signal-to-noise ratio does not move there)`,
      );
    }
  };
  for (const p of points.slice(0, -1)) checkDet(p.t);
  return {
    name,
    grid: points,
    range: [opts.t0, opts.t1],
    params,
    seed: opts.seed ?? 0,
    schedule,
    sourceStd: std,
    start: (x0) => startScale === 1 ? tf.clone(x0) : tf.mul(x0, startScale),
    denoise(x, p) {
      checkDet(p.t);
      const v = f(x, p.t);
      try {
        return dataFromVelocity(schedule, x, v, p.t);
      } finally {
        v.dispose();
      }
    },
    predict(x, p) {
      checkDet(p.t);
      const v = f(x, p.t);
      try {
        const data = dataFromVelocity(schedule, x, v, p.t);
        const x0 = noiseFromVelocity(schedule, x, v, p.t);
        const eps = std === 1 ? x0 : tf.div(x0, std);
        if (eps !== x0) x0.dispose();
        return { data, eps };
      } finally {
        v.dispose();
      }
    },
    point: (t) => gridPoint(schedule, std, t),
    timeAt: (level) => timeAtLevel(schedule, std, opts.t0, opts.t1, level),
  };
}

/**
 * A sampler plugin for affine paths: the solve options' schedule and sourceStd give the data
 * prediction, the grid kind and settings come from the suite's setting (SolveOptions.gridKind,
 * params, rho). The final state is checked for NaN/Inf. NFE is the harness's count, as always.
 * @example
 * export default affineSampler({
 *   name: "ddim", description: "DDIM", order: 1, defaultGrid: "uniform",
 *   sample: (ctx, x0) => myLoop(ctx, x0),
 * });
 */
export function affineSampler(s: AffineSamplerInput): Solver {
  return defineSolver({
    name: s.name,
    description: s.description,
    order: s.order,
    adaptive: false,
    async integrate(f, x0, opts) {
      const ctx = samplerContext(s, f, opts);
      const x = s.sample(ctx, x0);
      const g = ctx.grid, n = g.length - 1;
      try {
        await assertFinite(s.name, x, g[n].t, g[n].t - g[n - 1].t);
      } catch (e) {
        x.dispose();
        throw e;
      }
      return { x, stats: { accepted: n, rejected: 0 } };
    },
  });
}
