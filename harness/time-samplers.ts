// A method's time sampler: the spec written on the command line ("logit-normal:scale=0.5"), its
// canonical form (the label's last part), and the sampler bound to the method's path for training.
import { describeParams, paramProblem, type RangedTimes, restrictToRange } from "../core/mod.ts";
import type { Path, TimeSamplerPlugin } from "../core/types.ts";
import { type Registry, UnknownNameError } from "./registry.ts";

/** A time sampler with every parameter's value (defaults filled in), as a method records it. */
export interface TimeSamplerChoice {
  name: string;
  params: Record<string, number>;
}

/**
 * The time samplers fmbench ships. They run only when asked for (--time-samplers, a recipe's
 * fourth part, a method label ending in one); any other discovered time sampler (a dropped-in
 * file) gets a method beside the reference recipe, as a dropped-in path, coupling or loss does.
 * @example
 * SHIPPED_TIME_SAMPLERS.includes("logit-normal"); // true
 */
export const SHIPPED_TIME_SAMPLERS: readonly string[] = [
  "uniform",
  "logit-normal",
  "mode",
  "u-shaped",
  "skewed",
  "edm-lognormal",
];

/**
 * The sampler the trainer uses when a method names none; naming it is the same as naming none.
 * @example
 * withTimeSampler(fmOt, { choice: { name: DEFAULT_TIME_SAMPLER, params: {} }, registry: reg }) === fmOt; // true
 */
export const DEFAULT_TIME_SAMPLER = "uniform";

/**
 * Parse a time sampler spec, `NAME` or `NAME:KEY=VALUE[:KEY=VALUE...]`, against the loaded
 * samplers: every parameter gets its value (given, else the default). Throws UnknownNameError
 * (exit 2) for an unknown sampler or parameter, a malformed item or a value out of bounds, naming
 * `where` (e.g. "--time-samplers") and what is valid.
 * @example
 * parseTimeSampler("logit-normal:scale=0.5", { registry: reg, where: "--time-samplers" });
 * // { name: "logit-normal", params: { location: 0, scale: 0.5 } }
 */
export function parseTimeSampler(
  spec: string,
  { registry: reg, where }: {
    registry: Registry;
    /** Where the spec was written, for messages: "--time-samplers", `--methods "..."`. */
    where: string;
  },
): TimeSamplerChoice {
  const [name, ...items] = spec.trim().split(":").map((s) => s.trim());
  const plugin = reg.timeSamplers.get(name);
  if (!plugin) {
    throw new UnknownNameError(`time sampler (${where})`, name, [...reg.timeSamplers.keys()]);
  }
  const valid = `time sampler "${name}" takes ${describeParams(plugin.params)}`;
  const bad = (what: string) =>
    new UnknownNameError("time sampler", name, [], `${where} "${spec}": ${what}; ${valid}`);
  const params: Record<string, number> = {};
  for (const item of items) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(item);
    if (!m) throw bad(`"${item}" is not KEY=VALUE`);
    const [, key, text] = m;
    const p = plugin.params[key];
    if (!p) throw bad(`no parameter "${key}"`);
    if (key in params) throw bad(`parameter "${key}" given twice`);
    const value = Number(text);
    const problem = text.trim() === "" ? "must be a number" : paramProblem(p, value);
    if (problem) throw bad(`${key} ${problem}, got "${text}"`);
    params[key] = value;
  }
  for (const [k, p] of Object.entries(plugin.params)) params[k] ??= p.default;
  return { name, params };
}

/**
 * The canonical spec of a choice: the name, then the parameters that differ from their defaults
 * in the plugin's order ("logit-normal", "logit-normal:scale=0.5"). A method label ends in it.
 * @example
 * timeSamplerSpec({ name: "logit-normal", params: { location: 0, scale: 0.5 } }, plugin);
 * // "logit-normal:scale=0.5"
 */
export function timeSamplerSpec(choice: TimeSamplerChoice, plugin: TimeSamplerPlugin): string {
  const changed = Object.entries(plugin.params)
    .filter(([k, p]) => choice.params[k] !== p.default)
    .map(([k]) => `:${k}=${choice.params[k]}`);
  return `${choice.name}${changed.join("")}`;
}

/**
 * The training times of a method: its sampler bound to its path and restricted to the path's time
 * range. Throws (the run fails with the reason) where the sampler cannot use the path, e.g.
 * edm-lognormal on a path without a schedule.
 * @example
 * const times = bindTimeSampler({ name: "logit-normal", params: { location: 0, scale: 1 } }, { registry: reg, path });
 * times.time(0.5); // 0.5
 */
export function bindTimeSampler(
  choice: TimeSamplerChoice,
  { registry: reg, path }: { registry: Registry; path: Path },
): RangedTimes {
  const plugin = reg.timeSamplers.get(choice.name);
  if (!plugin) {
    throw new UnknownNameError("time sampler", choice.name, [...reg.timeSamplers.keys()]);
  }
  return restrictToRange(plugin.prepare({ path, params: choice.params }), {
    range: path.tRange,
    name: choice.name,
  });
}
