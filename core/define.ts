// define* helpers: validate a plugin's shape at load time and fill in derived members.
import { affineSample } from "./affine.ts";
import { paramProblem } from "./time-distribution.ts";
import type {
  Coupling,
  FeatureName,
  Loss,
  MetricPlugin,
  ModelPlugin,
  Path,
  Schedule,
  Solver,
  TimeSamplerPlugin,
} from "./types.ts";

/**
 * Raised when a plugin value has the wrong shape; names the member and what was expected.
 * @example
 * new PluginShapeError("model", "mlp", "create must be a function").message;
 * // 'model "mlp": create must be a function'
 */
export class PluginShapeError extends Error {
  constructor(kind: string, name: string | undefined, problem: string) {
    super(`${kind}${name ? ` "${name}"` : ""}: ${problem}`);
    this.name = "PluginShapeError";
  }
}

type Check = [member: string, type: string];

function check(kind: string, value: unknown, members: Check[]): Record<string, unknown> {
  if (value === null || typeof value !== "object") {
    throw new PluginShapeError(kind, undefined, `expected an object, got ${typeof value}`);
  }
  const v = value as Record<string, unknown>;
  const name = typeof v.name === "string" ? v.name : undefined;
  for (const [member, type] of members) {
    const got = typeof v[member];
    if (got !== type) {
      throw new PluginShapeError(kind, name, `member "${member}" must be a ${type}, got ${got}`);
    }
  }
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name!)) {
    throw new PluginShapeError(kind, name, `name must match [A-Za-z0-9._-]+ (got "${name}")`);
  }
  return v;
}

const BASE: Check[] = [["name", "string"], ["description", "string"]];

/** Input to definePath: a full path, or an affine one that supplies only its schedule. */
export type PathInput =
  & Omit<Path, "sample" | "sourceStd" | "tRange">
  & { sourceStd?: number; sample?: Path["sample"]; tRange?: [number, number] };

/**
 * Define a probability path. Affine paths give `schedule` and get `sample` derived.
 * @example
 * export default definePath({
 *   name: "linear", family: "rectified", description: "x_t = t x1 + (1 - t) x0",
 *   schedule: { alpha: (t) => t, sigma: (t) => 1 - t, dAlpha: () => 1, dSigma: () => -1 },
 * });
 */
export function definePath(p: PathInput): Path {
  check("path", p, [...BASE, ["family", "string"]]);
  const sourceStd = p.sourceStd ?? 1;
  if (!(sourceStd > 0)) throw new PluginShapeError("path", p.name, "sourceStd must be > 0");
  if (p.schedule) {
    for (const m of ["alpha", "sigma", "dAlpha", "dSigma"] as const) {
      if (typeof p.schedule[m] !== "function") {
        throw new PluginShapeError("path", p.name, `schedule.${m} must be a function of t`);
      }
    }
  }
  if (!p.sample && !p.schedule) {
    throw new PluginShapeError("path", p.name, "needs either a schedule (affine) or sample()");
  }
  const tRange = p.tRange ?? [0, 1];
  if (!(tRange[0] >= 0 && tRange[1] <= 1 && tRange[0] < tRange[1])) {
    throw new PluginShapeError("path", p.name, `tRange must satisfy 0 <= t0 < t1 <= 1`);
  }
  const schedule: Schedule | undefined = p.schedule;
  const sample = p.sample ?? ((x0, x1, t) => affineSample(schedule!, x0, x1, t));
  return { ...p, sourceStd, sample, tRange };
}

/**
 * Define a coupling (how a batch pairs source and data samples).
 * @example
 * export default defineCoupling({
 *   name: "independent", description: "Independent pairing",
 *   pair: (x0, x1) => Promise.resolve([x0.clone(), x1.clone()]),
 * });
 */
export function defineCoupling(c: Coupling): Coupling {
  check("coupling", c, [...BASE, ["pair", "function"]]);
  return c;
}

/**
 * Define a loss: its training objective and its velocity for sampling.
 * @example
 * export default defineLoss({
 *   name: "cfm", description: "Velocity regression", predicts: "velocity", loss, velocity,
 * });
 */
export function defineLoss(l: Loss): Loss {
  check("loss", l, [...BASE, ["predicts", "string"], ["loss", "function"], [
    "velocity",
    "function",
  ]]);
  return l;
}

/**
 * Define a model plugin with named presets.
 * @example
 * export default defineModel({
 *   name: "mlp", description: "MLP on [x, t]", accepts: ["vector"], presets,
 *   defaultPreset: "default", usesConvolution: false, create,
 * });
 */
export function defineModel(m: ModelPlugin): ModelPlugin {
  check("model", m, [...BASE, ["create", "function"], ["presets", "object"], [
    "defaultPreset",
    "string",
  ]]);
  if (!(m.defaultPreset in m.presets)) {
    throw new PluginShapeError(
      "model",
      m.name,
      `defaultPreset "${m.defaultPreset}" is not one of: ${Object.keys(m.presets).join(", ")}`,
    );
  }
  return m;
}

/**
 * Define an ODE solver.
 * @example
 * export default defineSolver({
 *   name: "my-rk", description: "A custom solver", order: 2, adaptive: false, integrate,
 * });
 */
export function defineSolver(s: Solver): Solver {
  check("solver", s, [...BASE, ["integrate", "function"], ["order", "number"], [
    "adaptive",
    "boolean",
  ]]);
  return s;
}

/**
 * The features a metric may name (FeatureName), in the order the engine computes them.
 * @example
 * FEATURE_NAMES.includes("dinov2-cls"); // true
 */
export const FEATURE_NAMES: readonly FeatureName[] = [
  "raw",
  "inception-pool3",
  "inception-logits",
  "dinov2-cls",
];

/**
 * Define a sample-quality metric: the features it reads, the figures it reports with their
 * direction, its protocol fields and how it computes them (with the engine's `ctx.stats`).
 * @example
 * export default defineMetric({
 *   name: "mean-shift", description: "distance between the means of the raw samples",
 *   features: ["raw"], protocol: { norm: "Euclidean" },
 *   values: { mean_shift: { direction: "lower", title: "Mean shift", description: "|mean g - mean r|" } },
 *   compute: ({ generated, reference, stats }) => {
 *     const [g, r] = [stats.moments(generated), stats.moments(reference!)];
 *     return { mean_shift: Math.hypot(...g.mu.map((m, i) => m - r.mu[i])) };
 *   },
 * });
 */
export function defineMetric(m: MetricPlugin): MetricPlugin {
  check("metric", m, [...BASE, ["compute", "function"], ["values", "object"], [
    "protocol",
    "object",
  ]]);
  const bad = (problem: string) => new PluginShapeError("metric", m.name, problem);
  if (!Array.isArray(m.features) || m.features.length === 0) {
    throw bad(`features must list at least one of: ${FEATURE_NAMES.join(", ")}`);
  }
  for (const f of m.features) {
    if (!FEATURE_NAMES.includes(f)) {
      throw bad(`unknown feature "${f}"; valid: ${FEATURE_NAMES.join(", ")}`);
    }
  }
  const names = Object.keys(m.values ?? {});
  if (names.length === 0) throw bad("values must name at least one figure");
  for (const [key, v] of Object.entries(m.values)) {
    if (!/^[a-z][a-z0-9_]*$/.test(key)) {
      throw bad(`figure name "${key}" must match [a-z][a-z0-9_]* (a key of results.json)`);
    }
    if (v === null || typeof v !== "object") throw bad(`values.${key} must be an object`);
    if (v.direction !== "lower" && v.direction !== "higher") {
      throw bad(`values.${key}.direction must be "lower" or "higher", got ${v.direction}`);
    }
    for (const f of ["title", "description"] as const) {
      if (typeof v[f] !== "string") throw bad(`values.${key}.${f} must be a string`);
    }
    if (v.spread !== undefined) {
      if (!/^[a-z][a-z0-9_]*$/.test(v.spread) || names.includes(v.spread)) {
        throw bad(`values.${key}.spread must name a figure of its own, got "${v.spread}"`);
      }
    }
  }
  for (const [key, value] of Object.entries(m.protocol)) {
    if (!["string", "number", "boolean"].includes(typeof value)) {
      throw bad(`protocol.${key} must be a string, number or boolean`);
    }
  }
  return m;
}

/**
 * Define a time sampler: how training draws t. Each parameter needs a default within its own
 * bounds and a description; parameter names are identifiers.
 * @example
 * export default defineTimeSampler({
 *   name: "beta-2-2", description: "t ~ Beta(2, 2): density 6 t (1 - t)", params: {},
 *   prepare: () => ({
 *     quantile: (u) => 0.5 - Math.sin(Math.asin(1 - 2 * u) / 3),
 *     cdf: (t) => t * t * (3 - 2 * t),
 *     density: (t) => 6 * t * (1 - t),
 *   }),
 * });
 */
export function defineTimeSampler(s: TimeSamplerPlugin): TimeSamplerPlugin {
  check("time sampler", s, [...BASE, ["params", "object"], ["prepare", "function"]]);
  for (const [k, p] of Object.entries(s.params ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      throw new PluginShapeError(
        "time sampler",
        s.name,
        `parameter name "${k}" is not an identifier`,
      );
    }
    if (p === null || typeof p !== "object" || typeof p.description !== "string") {
      throw new PluginShapeError(
        "time sampler",
        s.name,
        `parameter "${k}" must be { default, description, min?, max?, above?, below? }`,
      );
    }
    const problem = typeof p.default === "number" ? paramProblem(p, p.default) : "must be a number";
    if (problem) {
      throw new PluginShapeError("time sampler", s.name, `default of parameter "${k}" ${problem}`);
    }
  }
  return s;
}
