// Resolve the bench CLI's flags and the discovered plugins into one suite configuration.
import {
  availableMetrics,
  defaultSettings,
  firstLine,
  HIGH_RES_FLOOR_PAIRS,
  OPT_IN_SOLVERS,
  type Registry,
  resolveMethods,
  resolveMetricNames,
  SOLVER_SETTINGS,
  type SuiteConfig,
  type SuiteDef,
  type SuiteDefaults,
  SUITES,
  UnknownNameError,
} from "../harness/mod.ts";
import { type BackendName, defaultEvalBatch } from "../backend/mod.ts";
import { dataDirOf, sha256FileSync } from "../store/mod.ts";
import { resolve } from "node:path";
import { list, num, parseSeeds, UsageError, type Values } from "./flags.ts";

/** The suite the flags name (throws UnknownNameError). */
function suiteOf(v: Values): SuiteDef {
  const suite = SUITES[v.suite!];
  if (!suite) throw new UnknownNameError("suite", v.suite!, Object.keys(SUITES));
  return suite;
}

/** The budget the flags name, else the suite's first (throws UnknownNameError). */
function budgetOf(v: Values, suite: SuiteDef): string {
  const budgets = Object.keys(suite.budgets);
  const budget = v.budget ?? budgets[0];
  if (!budgets.includes(budget)) {
    throw new UnknownNameError(`budget of suite ${suite.name}`, budget, budgets);
  }
  return budget;
}

/**
 * The models (and presets) the flags ask for: `--models` (NAME or NAME:PRESET), `--preset`, the
 * budget's preset, else each model's default. Known before the backend is chosen, since a model
 * with convolutions needs a backend with their gradients.
 * @example
 * resolveModels(parseFlags(["--suite", "cifar10"]).values, registry); // [{ name: "unet", preset: "tiny" }]
 */
export function resolveModels(v: Values, reg: Registry): Array<{ name: string; preset: string }> {
  const suite = suiteOf(v);
  const defaults = suite.defaults(budgetOf(v, suite), { dataDir: dataDirFlag(v) });
  const kind = suite.kind;
  const defaultModel = defaults.model ?? [...reg.models.values()]
    .find((m) => m.accepts.includes(kind) && !m.onlyWhenNamed)?.name;
  const modelNames = v.models === "default"
    ? [defaultModel ?? "mlp"]
    : list(v.models, { valid: [...reg.models.keys()], flag: "models" }) ??
      [...reg.models.values()].filter((m) => m.accepts.includes(kind)).map((m) => m.name);
  return modelNames.map((spec) => {
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
}

/** The data folder the flags and the environment name (store/folders.ts's one rule). */
function dataDirFlag(v: Values): string {
  return dataDirOf(v["data-dir"], Deno.env.get("FMBENCH_DATA_DIR"));
}

/**
 * Finish the suite config in one place, from the flags, the suite's budget defaults, the
 * discovered plugins and the chosen backend (which sets the evaluation batch when neither
 * --eval-batch nor the budget does). Throws UsageError/UnknownNameError.
 * @example
 * const config = buildConfig(parseFlags(["--datasets", "moons"]).values, registry, "wasm");
 * config.datasets; // ["moons"]
 */
export function buildConfig(
  v: Values,
  { registry: reg, backend }: { registry: Registry; backend: BackendName },
): SuiteConfig {
  const suite = suiteOf(v);
  const datasets = v.datasets === "default"
    ? suite.defaultDatasets
    : list(v.datasets, { valid: suite.datasets, flag: "datasets" }) ?? suite.datasets;
  for (const d of datasets) {
    if (!suite.datasets.includes(d)) {
      throw new UnknownNameError(`${suite.name} data set`, d, suite.datasets);
    }
  }
  const budget = budgetOf(v, suite);
  const dataDir = dataDirFlag(v);
  const defaults = suite.defaults(budget, { dataDir });
  const methods = resolveMethods(reg, {
    methods: list(v.methods, { valid: [], flag: "methods" }) ?? defaults.methods,
    paths: list(v.paths, { valid: [...reg.paths.keys()], flag: "paths" }),
    couplings: list(v.couplings, { valid: [...reg.couplings.keys()], flag: "couplings" }),
    losses: list(v.losses, { valid: [...reg.losses.keys()], flag: "losses" }),
    timeSamplers: v["time-samplers"] === "all"
      ? [...reg.timeSamplers.keys()]
      : list(v["time-samplers"], { valid: [...reg.timeSamplers.keys()], flag: "time-samplers" }),
  });
  if (!methods.length) {
    throw new UsageError("no method matches the --methods/--paths/--couplings/--losses filters");
  }
  const models = resolveModels(v, reg);
  const metrics = resolveMetricNames(
    reg,
    suite,
    v.metrics === "default" ? undefined : list(v.metrics, {
      valid: [...reg.metrics.keys()],
      flag: "metrics",
    }) ?? availableMetrics(reg, suite).map((m) => m.name),
  );
  // By default: the solvers the budget has settings for, plus any solver fmbench does not ship.
  const shipped = (n: string) => n in SOLVER_SETTINGS || OPT_IN_SOLVERS.includes(n);
  const solverNames = list(v.solvers, { valid: [...reg.solvers.keys()], flag: "solvers" }) ??
    [...reg.solvers.keys()].filter((n) => n in defaults.solvers || !shipped(n));
  const solvers = solverNames.map((name) => {
    const s = reg.solvers.get(name);
    if (!s) throw new UnknownNameError("solver", name, [...reg.solvers.keys()]);
    return { name, settings: defaults.solvers[name] ?? defaultSettings(s.adaptive) };
  });
  const preferred = solvers.find((s) => s.name === defaults.adaptiveSolver)?.name;
  const adaptive = preferred ?? solvers.find((s) => reg.solvers.get(s.name)!.adaptive)?.name ??
    [...reg.solvers.values()].find((s) => s.adaptive && !OPT_IN_SOLVERS.includes(s.name))?.name;
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
  // The evaluation batch: --eval-batch, else the budget's, else the backend's default (absent:
  // every example at once).
  evalCfg.batch = num(v["eval-batch"], "eval-batch", { int: true, min: 1 }) ?? evalCfg.batch ??
    defaultEvalBatch(backend, suite.kind);
  if (evalCfg.batch === undefined) delete evalCfg.batch;
  return {
    suite: suite.name,
    datasets,
    methods,
    models,
    solvers,
    adaptiveSolver: adaptive,
    train,
    eval: evalCfg,
    seeds,
    metrics,
    ...releasedCheckpoint(v, { methods, models, seeds }),
    ...(defaults.recipe
      ? { recipeChanges: recipeChanges(v, { train, eval: evalCfg, defaults, models }) }
      : {}),
    data: { ...defaults.data, ...fidBatch(v, defaults.data, suite.name), budget },
  };
}

/**
 * The flags that change a field a published recipe fixes, as "--steps 2000" (empty when the run
 * is the recipe): the report names them so a shortened run is never taken for the recipe.
 */
function recipeChanges(
  v: Values,
  { train, eval: e, defaults, models }: {
    train: SuiteConfig["train"];
    eval: SuiteConfig["eval"];
    defaults: SuiteDefaults<unknown>;
    models: SuiteConfig["models"];
  },
): string[] {
  const out: string[] = [];
  const fixed: Array<[string, unknown, unknown]> = [
    ["steps", train.steps, defaults.train.steps],
    ["batch", train.batch, defaults.train.batch],
    ["lr", train.lr, defaults.train.lr],
    ["clip", train.clip, defaults.train.clip],
    ["minutes", train.minutes, defaults.train.minutes],
    ["samples", e.samples, defaults.eval.samples],
    ["nll-points", e.nll.n, defaults.eval.nll.n],
    ["nll-dequant", e.nll.dequant, defaults.eval.nll.dequant],
  ];
  for (const [flag, now, recipe] of fixed) if (now !== recipe) out.push(`--${flag} ${now}`);
  for (const m of models) {
    if (
      m.name !== (defaults.model ?? m.name) || (defaults.preset && m.preset !== defaults.preset)
    ) {
      out.push(`--models ${m.name}:${m.preset}`);
    }
  }
  if (v.solvers !== undefined && v.solvers !== "all") out.push(`--solvers ${v.solvers}`);
  return out;
}

/**
 * --checkpoint FILE [--checkpoint-key KEY]: evaluate a released model (one method, one model, one
 * seed), keyed by the file's SHA-256.
 */
function releasedCheckpoint(
  v: Values,
  grid: Pick<SuiteConfig, "methods" | "models" | "seeds">,
): Pick<SuiteConfig, "checkpoint"> {
  if (v.checkpoint === undefined) return {};
  const file = resolve(v.checkpoint);
  try {
    if (!Deno.statSync(file).isFile) throw new UsageError(`--checkpoint ${file} is not a file`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--checkpoint ${file} cannot be read (${firstLine(e)})`);
  }
  const one = (what: string, n: number, example: string) => {
    if (n !== 1) {
      throw new UsageError(
        `--checkpoint evaluates one trained model, but ${n} ${what} are selected; name one ` +
          `(${example})`,
      );
    }
  };
  one("methods", grid.methods.length, "e.g. --methods OT-CFM");
  one("models", grid.models.length, "e.g. --models adm-unet:torchcfm");
  one("seeds", grid.seeds.length, "e.g. --seed 0");
  const key = v["checkpoint-key"] ?? "ema_model";
  return { checkpoint: { file, key, sha256: sha256FileSync(file) } };
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
