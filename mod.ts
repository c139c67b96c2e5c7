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
export { BUILTIN_PLUGINS, discoverPlugins, type Registry } from "./harness/registry.ts";
export { NAMED_METHODS, resolveMethods } from "./harness/methods.ts";
export { runSuite, type RunSuiteOptions } from "./harness/run-suite.ts";
export { SUITES } from "./harness/suites/mod.ts";
export { selectBackend } from "./backend/select.ts";
export { loadFidModel } from "./features/fid.ts";
export { readResults } from "./results/io.ts";
export { renderReport } from "./reports/render.ts";
