// Resolve the bench CLI's flags and the discovered plugins into one suite configuration.
import { resolveMethods } from "../harness/methods.ts";
import { type Registry, UnknownNameError } from "../harness/registry.ts";
import { SUITES } from "../harness/suites/mod.ts";
import { defaultSettings, SOLVER_SETTINGS } from "../harness/suites/toy2d.ts";
import { HIGH_RES_FLOOR_PAIRS, type SuiteConfig } from "../harness/suites/types.ts";
import { dataDirOf, list, num, parseSeeds, UsageError, type Values } from "./flags.ts";

/**
 * Build the suite config from flags and the registry (throws UsageError/UnknownNameError).
 * @example
 * const config = buildConfig(parseFlags(["--datasets", "moons"]).values, await discoverPlugins());
 * config.datasets; // ["moons"]
 */
export function buildConfig(v: Values, reg: Registry): SuiteConfig {
  const suite = SUITES[v.suite!];
  if (!suite) throw new UnknownNameError("suite", v.suite!, Object.keys(SUITES));
  const datasets = v.datasets === "default"
    ? suite.defaultDatasets
    : list(v.datasets, suite.datasets, "datasets") ?? suite.datasets;
  for (const d of datasets) {
    if (!suite.datasets.includes(d)) {
      throw new UnknownNameError(`${suite.name} data set`, d, suite.datasets);
    }
  }
  const methods = resolveMethods(reg, {
    methods: list(v.methods, [], "methods"),
    paths: list(v.paths, [...reg.paths.keys()], "paths"),
    couplings: list(v.couplings, [...reg.couplings.keys()], "couplings"),
    losses: list(v.losses, [...reg.losses.keys()], "losses"),
  });
  if (!methods.length) {
    throw new UsageError("no method matches the --methods/--paths/--couplings/--losses filters");
  }
  const budgets = Object.keys(suite.budgets);
  const budget = v.budget ?? budgets[0];
  if (!budgets.includes(budget)) {
    throw new UnknownNameError(`budget of suite ${suite.name}`, budget, budgets);
  }
  const dataDir = dataDirOf(v["data-dir"], Deno.env.get("FMBENCH_DATA_DIR"));
  const defaults = suite.defaults(budget, { dataDir });
  const kind = suite.kind;
  const defaultModel = [...reg.models.values()].find((m) => m.accepts.includes(kind))?.name;
  const modelNames = v.models === "default"
    ? [defaultModel ?? "mlp"]
    : list(v.models, [...reg.models.keys()], "models") ??
      [...reg.models.values()].filter((m) => m.accepts.includes(kind)).map((m) => m.name);
  const models = modelNames.map((spec) => {
    const [name, p] = spec.split(":");
    const plugin = reg.models.get(name);
    if (!plugin) throw new UnknownNameError("model", name, [...reg.models.keys()]);
    const preset = v.preset ?? p ??
      (defaults.preset && defaults.preset in plugin.presets
        ? defaults.preset
        : plugin.defaultPreset);
    if (!(preset in plugin.presets)) {
      throw new UnknownNameError(`preset of model ${name}`, preset, Object.keys(plugin.presets));
    }
    return { name, preset };
  });
  // By default: the solvers the budget has settings for, plus any solver fmbench does not ship.
  const solverNames = list(v.solvers, [...reg.solvers.keys()], "solvers") ??
    [...reg.solvers.keys()].filter((n) => n in defaults.solvers || !(n in SOLVER_SETTINGS));
  const solvers = solverNames.map((name) => {
    const s = reg.solvers.get(name);
    if (!s) throw new UnknownNameError("solver", name, [...reg.solvers.keys()]);
    return { name, settings: defaults.solvers[name] ?? defaultSettings(s.adaptive) };
  });
  const preferred = solvers.find((s) => s.name === defaults.adaptiveSolver)?.name;
  const adaptive = preferred ?? solvers.find((s) => reg.solvers.get(s.name)!.adaptive)?.name ??
    [...reg.solvers.values()].find((s) => s.adaptive)?.name;
  if (!adaptive) {
    throw new UsageError("no adaptive solver loaded (dopri5); NLL and the NFE column need one");
  }
  const train = { ...defaults.train };
  train.steps = num(v.steps, "steps", { int: true, min: 1 }) ?? train.steps;
  train.batch = num(v.batch, "batch", { int: true, min: 2 }) ?? train.batch;
  train.lr = num(v.lr, "lr", { above: 0 }) ?? train.lr;
  train.clip = num(v.clip, "clip", { min: 0 }) ?? train.clip;
  train.minutes = num(v.minutes, "minutes", { min: 0 }) ?? train.minutes;
  train.microBatch = num(v["micro-batch"], "micro-batch", { int: true, min: 0 }) ??
    train.microBatch;
  const evalCfg = { ...defaults.eval };
  evalCfg.samples = num(v.samples, "samples", { int: true, min: 2 }) ?? evalCfg.samples;
  const highRes = num(v["high-res-samples"], "high-res-samples", { int: true, min: 0 });
  if (highRes !== undefined && !suite.highRes) {
    throw new UsageError(
      `--high-res-samples applies to suites with a high-resolution score; suite ${suite.name} ` +
        `has none. Valid with: --suite toy2d`,
    );
  }
  if (highRes) evalCfg.highRes = { samples: highRes, floorPairs: HIGH_RES_FLOOR_PAIRS };
  evalCfg.nll = {
    ...evalCfg.nll,
    n: num(v["nll-points"], "nll-points", { int: true, min: 2 }) ?? evalCfg.nll.n,
  };
  const dequant = num(v["nll-dequant"], "nll-dequant", { int: true, min: 1 });
  if (dequant !== undefined) {
    if (suite.headline.nll !== "bpd") {
      throw new UsageError(
        `--nll-dequant applies to 8-bit image data (bits/dim); suite ${suite.name} reports ` +
          `NLL in nats of continuous data. Valid with: --suite cifar10`,
      );
    }
    evalCfg.nll.dequant = dequant;
  }
  evalCfg.reflowPairs = num(v["reflow-pairs"], "reflow-pairs", { int: true, min: 2 }) ??
    evalCfg.reflowPairs;
  const seeds = parseSeeds(v.seed, v.seeds) ??
    Array.from({ length: defaults.seeds ?? 1 }, (_, i) => i);
  const evalBatch = num(v["eval-batch"], "eval-batch", { int: true, min: 1 });
  if (evalBatch !== undefined) evalCfg.batch = evalBatch;
  return {
    suite: suite.name,
    datasets,
    methods,
    models,
    solvers,
    adaptiveSolver: adaptive,
    train,
    eval: evalCfg,
    seed: seeds[0],
    seeds,
    data: { ...defaults.data, ...fidBatch(v, defaults.data, suite.name), budget },
  };
}

/** The --fid-batch override, for suites that compute FID (their data has a fidBatch). */
function fidBatch(v: Values, data: unknown, suite: string): { fidBatch?: number } {
  const n = num(v["fid-batch"], "fid-batch", { int: true, min: 1 });
  if (n === undefined) return {};
  if (data === null || typeof data !== "object" || !("fidBatch" in data)) {
    throw new UsageError(`--fid-batch applies to suites with FID (cifar10), not ${suite}`);
  }
  return { fidBatch: n };
}
