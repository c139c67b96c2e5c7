// The engine: plugin discovery, the plan, runSuite (serial or in parallel workers) and the suites.
/**
 * The engine room: discover plugins, finish a plan of (data set, method, model, seed) runs, and
 * run it — training once per run, evaluating every solver setting, NLL and straightness,
 * persisting each finished piece to results.json — in this process or in `jobs` workers.
 * @example
 * import { discoverPlugins, runSuite, SUITES } from "./harness/mod.ts";
 * import { selectBackend } from "./backend/mod.ts";
 * const registry = await discoverPlugins();
 * const backend = await selectBackend("auto");
 * // const results = await runSuite({ suite: SUITES.toy2d, config, registry, backend, outDir: "runs/x" });
 * @module
 */
export { runSuite, type RunSuiteOptions, SuiteInterrupted } from "./run-suite.ts";
export {
  BUILTIN_PLUGINS,
  conflictMessage,
  discoverPlugins,
  PLUGIN_KINDS,
  type Registry,
  UnknownNameError,
} from "./registry.ts";
export { NAMED_METHODS, resolveMethods } from "./methods.ts";
export {
  availableMetrics,
  defaultMetrics,
  metricInfo,
  resolveMetricNames,
  selectedMetrics,
} from "./metric-select.ts";
export { DEFAULT_TIME_SAMPLER, SHIPPED_TIME_SAMPLERS } from "./time-samplers.ts";
export { describeParams as describeTimeSamplerParams } from "../core/time-distribution.ts";
export { planGroups, planRuns, type Run, type Shard } from "./plan.ts";
export { budgetRecord, SUITES } from "./suites/mod.ts";
export type {
  EvalConfig,
  SolverSetting,
  SuiteConfig,
  SuiteDef,
  SuiteDefaults,
} from "./suites/types.ts";
export { HIGH_RES_FLOOR_PAIRS } from "./suites/types.ts";
export { defaultSettings, OPT_IN_SOLVERS, SOLVER_SETTINGS } from "./suites/toy2d.ts";
export { type JobsChoice, resolveJobs } from "./parallel/worker-count.ts";
export { resolveThreads, type ThreadsChoice } from "./parallel/thread-count.ts";
export {
  byteProgress,
  fitLine,
  fmtSecs,
  progressFor,
  type ProgressSink,
  progressStats,
  type SuiteDisplay,
  terminalColumns,
} from "./progress.ts";
export type { TrainProgress } from "./train.ts";
export { isCancelled, type StopRequest, throwIfStopped } from "./stop.ts";
export { describeRunFolder } from "./run-folder.ts";
export { resolveDataDir } from "./data/cifar10.ts";
export { firstLine } from "../core/error-message.ts";
