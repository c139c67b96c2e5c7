// fmbench's public API: the plugin SDK (core/mod.ts) plus running a suite, rendering its report
// and loading the FID network.
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
export * from "./core/mod.ts";
export type * from "./results/schema.ts";
export {
  BUILTIN_PLUGINS,
  discoverPlugins,
  NAMED_METHODS,
  type Registry,
  resolveMethods,
  runSuite,
  type RunSuiteOptions,
  type SuiteDisplay,
  SUITES,
} from "./harness/mod.ts";
export { selectBackend } from "./backend/mod.ts";
export { loadFidModel } from "./features/mod.ts";
export { readResults } from "./results/mod.ts";
export { renderReport } from "./reports/mod.ts";
