// `deno task bench`: parse flags, discover plugins, pick the backend, run the suite, print a table.
import { parseArgs } from "node:util";
import { BackendUnavailableError, selectBackend } from "./backend.ts";
import { resolveMethods } from "./methods.ts";
import { BUILTIN_PLUGINS, discoverPlugins, type Registry, UnknownNameError } from "./registry.ts";
import { runSuite } from "./run-suite.ts";
import { SUITES } from "./suites/index.ts";
import { defaultSettings, SOLVER_SETTINGS } from "./suites/toy2d.ts";
import type { SuiteConfig } from "./suites/types.ts";
import { printSummary } from "./summary.ts";
import { Cifar10Error, whereToPutFiles } from "./data/cifar10.ts";

export const FLAGS = {
  suite: { type: "string", default: "toy2d" },
  budget: { type: "string" },
  datasets: { type: "string", default: "default" },
  methods: { type: "string", default: "all" },
  paths: { type: "string", default: "all" },
  couplings: { type: "string", default: "all" },
  losses: { type: "string", default: "all" },
  models: { type: "string", default: "default" },
  preset: { type: "string" },
  solvers: { type: "string", default: "all" },
  steps: { type: "string" },
  batch: { type: "string" },
  lr: { type: "string" },
  "micro-batch": { type: "string" },
  minutes: { type: "string" },
  samples: { type: "string" },
  "nll-points": { type: "string" },
  "reflow-pairs": { type: "string" },
  seed: { type: "string", default: "0" },
  backend: { type: "string", default: "auto" },
  out: { type: "string" },
  plugins: { type: "string" },
  shard: { type: "string" },
  "data-dir": { type: "string" },
  "no-report": { type: "boolean", default: false },
  list: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

export const HELP = `fmbench: train and compare flow-matching recipes

Usage: deno task bench [flags]

  --suite NAME        toy2d (default) | ${Object.keys(SUITES).join(" | ")}
  --budget NAME       cifar10: quick (default, any machine) | small (GPU, ~20 min/method) | paper
  --datasets LIST     comma list or "all" (default: the suite's defaults)
  --methods LIST      method labels, e.g. "FM w/ OT,1-RF" (default all)
  --paths LIST        keep methods using these paths (default all)
  --couplings LIST    keep methods using these couplings (default all)
  --losses LIST       keep methods using these losses (default all)
  --models LIST       model plugins, NAME or NAME:PRESET (default: the suite's model)
  --preset NAME       preset for every model (overrides NAME:PRESET)
  --solvers LIST      solver plugins (default all)
  --steps N           training steps per (method, model)
  --batch N           training batch size
  --lr X              Adam learning rate
  --micro-batch N     examples per forward/backward pass, gradients summed (0 = whole batch)
  --minutes X         wall-clock training budget per run (stops early; 0 = none)
  --samples N         generated samples per solver setting
  --nll-points N      held-out points for the NLL average
  --reflow-pairs N    pairs a reflow teacher generates
  --seed N            seed for data, init, noise (default 0)
  --backend NAME      auto (default) | tensorflow | webgpu | wasm | cpu
  --out DIR           output dir (default runs/<suite>-<timestamp>); re-running resumes
  --plugins DIR       extra plugin root with paths/, couplings/, ... sub-folders
  --shard I/N         run only slice I of N of the (data set, model, method) grid
  --data-dir DIR      data directory (default data/, or FMBENCH_DATA_DIR)
  --no-report         write results.json only
  --list              list every plugin (and load failures) and exit
  -h, --help          this help
`;

/** A bad flag value; the CLI exits 2 with this message. */
export class UsageError extends Error {}

function list(v: string | undefined, all: string[], what: string): string[] | undefined {
  if (v === undefined || v === "all") return undefined;
  const items = v.split(",").map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new UsageError(`--${what} is empty; valid: all, ${all.join(", ")}`);
  return items;
}

function num(v: string | undefined, flag: string, opts: { int?: boolean; min?: number } = {}) {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || (opts.int && !Number.isInteger(x)) || x < (opts.min ?? -Infinity)) {
    throw new UsageError(
      `--${flag} must be ${opts.int ? "an integer" : "a number"}${
        opts.min !== undefined ? ` >= ${opts.min}` : ""
      }, got "${v}"`,
    );
  }
  return x;
}

export function parseShard(v: string | undefined): { index: number; count: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) {
    throw new UsageError(`--shard must be I/N with 0 <= I < N (e.g. 0/2), got "${v}"`);
  }
  return { index: Number(m[1]), count: Number(m[2]) };
}

type Values = ReturnType<typeof parse>["values"];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  } catch (e) {
    const valid = Object.keys(FLAGS).map((f) => `--${f}`).join(", ");
    throw new UsageError(`${(e as Error).message}\nvalid flags: ${valid}`);
  }
}

/** Build the suite config from flags and the registry (throws UsageError/UnknownNameError). */
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
  const dataDir = v["data-dir"] ?? Deno.env.get("FMBENCH_DATA_DIR") ?? "data";
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
  const adaptive = solvers.find((s) => reg.solvers.get(s.name)!.adaptive)?.name ??
    [...reg.solvers.values()].find((s) => s.adaptive)?.name;
  if (!adaptive) {
    throw new UsageError("no adaptive solver loaded (dopri5); NLL and the NFE column need one");
  }
  const train = { ...defaults.train };
  train.steps = num(v.steps, "steps", { int: true, min: 1 }) ?? train.steps;
  train.batch = num(v.batch, "batch", { int: true, min: 2 }) ?? train.batch;
  train.lr = num(v.lr, "lr", { min: 0 }) ?? train.lr;
  train.minutes = num(v.minutes, "minutes", { min: 0 }) ?? train.minutes;
  train.microBatch = num(v["micro-batch"], "micro-batch", { int: true, min: 0 }) ??
    train.microBatch;
  const evalCfg = { ...defaults.eval };
  evalCfg.samples = num(v.samples, "samples", { int: true, min: 2 }) ?? evalCfg.samples;
  evalCfg.nll = {
    ...evalCfg.nll,
    n: num(v["nll-points"], "nll-points", { int: true, min: 2 }) ?? evalCfg.nll.n,
  };
  evalCfg.reflowPairs = num(v["reflow-pairs"], "reflow-pairs", { int: true, min: 2 }) ??
    evalCfg.reflowPairs;
  return {
    suite: suite.name,
    datasets,
    methods,
    models,
    solvers,
    adaptiveSolver: adaptive,
    train,
    eval: evalCfg,
    seed: num(v.seed, "seed", { int: true, min: 0 })!,
    data: { ...defaults.data, budget },
  };
}

function printList(reg: Registry) {
  const rows = reg.entries.map((e) => [e.kind, e.name, e.family ?? "", e.description]);
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 6));
  console.log(
    ["kind".padEnd(w[0]), "name".padEnd(w[1]), "family".padEnd(w[2]), "description"].join("  "),
  );
  for (const r of rows) {
    console.log([r[0].padEnd(w[0]), r[1].padEnd(w[1]), r[2].padEnd(w[2]), r[3]].join("  "));
  }
  console.log("\nsuites:");
  for (const s of Object.values(SUITES)) {
    console.log(`  ${s.name}: ${s.description}; data sets ${s.datasets.join(", ")}`);
    for (const [b, d] of Object.entries(s.budgets)) console.log(`    --budget ${b}: ${d}`);
  }

  if (reg.failures.length) {
    console.log(`\nload failures (${reg.failures.length}):`);
    for (const f of reg.failures) console.log(`  ${f.kind}  ${f.file}: ${f.reason}`);
  }
}

/** The CLI entry; returns the process exit code. */
export async function main(
  argv: string[],
  opts: { handleSignals?: boolean } = {},
): Promise<number> {
  try {
    const { values: v } = parse(argv);
    if (v.help) {
      console.log(HELP);
      return 0;
    }
    const roots = [BUILTIN_PLUGINS];
    if (v.plugins) {
      roots.push(new URL(`${v.plugins.replace(/\/?$/, "/")}`, `file://${Deno.cwd()}/`));
    }
    const reg = await discoverPlugins(roots);
    if (v.list) {
      printList(reg);
      return 0;
    }
    for (const f of reg.failures) {
      console.error(`warning: plugin ${f.file} not loaded: ${f.reason}`);
    }
    const config = buildConfig(v, reg);
    const shard = parseShard(v.shard);
    const suite = SUITES[config.suite];
    const needsConv = config.models.some((m) => reg.models.get(m.name)!.usesConvolution);
    const backend = await selectBackend(v.backend, { needsConvGrad: needsConv });
    console.error(`backend: ${backend.backend} on ${backend.device}`);
    for (const n of backend.notes) console.error(`  ${n}`);
    const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
    const outDir = v.out ??
      `runs/${config.suite}-${stamp}${shard ? `-shard${shard.index}of${shard.count}` : ""}`;
    if (opts.handleSignals) {
      Deno.addSignalListener("SIGINT", () => {
        console.error(
          `\ninterrupted: completed runs are in ${outDir}/results.json; ` +
            `resume with the same command plus --out ${outDir}`,
        );
        Deno.exit(130);
      });
    }
    if (suite.kind === "image") {
      // Load the data once up front: a missing data set is one clear error, not a failed run each.
      try {
        await suite.load(config.datasets[0], config);
      } catch (e) {
        // The loader's own errors already say where the files go; wrap anything else.
        const reason = (e as Error).message;
        console.error(
          `error: ${
            e instanceof Cifar10Error
              ? reason
              : whereToPutFiles(String(config.data.dataDir), reason)
          }`,
        );
        return 1;
      }
    }
    const results = await runSuite({
      suite,
      config,
      registry: reg,
      backend,
      outDir,
      shard,
      argv,
      report: !v["no-report"],
    });
    printSummary(results);
    return results.runs.some((r) => r.status === "ok") ? 0 : 1;
  } catch (e) {
    if (
      e instanceof UsageError || e instanceof UnknownNameError ||
      e instanceof BackendUnavailableError
    ) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args, { handleSignals: true }));
