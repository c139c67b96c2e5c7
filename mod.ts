// fmbench's public API: plugin contracts and define* helpers, discovery, suites, and reports.
/**
 * @example Add a path: save as plugins/paths/my-path.ts, then `deno task bench --paths my-path`.
 * ```ts
 * import { definePath } from "./mod.ts";
 * export default definePath({
 *   name: "my-path", family: "ot", description: "x_t = t^2 x1 + (1 - t^2) x0",
 *   schedule: { alpha: (t) => t * t, sigma: (t) => 1 - t * t, dAlpha: (t) => 2 * t, dSigma: (t) => -2 * t },
 * });
 * ```
 * @module
 */
export type * from "./harness/types.ts";
export type * from "./harness/results/schema.ts";
export {
  defineCoupling,
  defineLoss,
  defineModel,
  definePath,
  defineSolver,
  PluginShapeError,
} from "./harness/define.ts";
export {
  affineSample,
  epsilonFromVelocity,
  scoreFromEpsilon,
  velocityFromEpsilon,
} from "./harness/affine.ts";
export { BUILTIN_PLUGINS, discoverPlugins, type Registry } from "./harness/registry.ts";
export { NAMED_METHODS, resolveMethods } from "./harness/methods.ts";
export { runSuite } from "./harness/run-suite.ts";
export { SUITES } from "./harness/suites/index.ts";
export { selectBackend } from "./harness/backend.ts";
export { countNfe } from "./harness/solve/nfe.ts";
export { tf } from "./harness/tf.ts";
export { renderReport } from "./reports/render.ts";
