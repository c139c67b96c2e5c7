// The bench CLI's flags: their definitions, the help text, and parsing with clear usage errors.
import { parseArgs } from "node:util";
import { SUITES } from "../harness/suites/mod.ts";

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
  "nll-dequant": { type: "string" },
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
  --nll-dequant K     images: dequantisation samples per image for bits/dim, combined as
                      log (1/K) sum_k p(x + u_k) (default: the budget's; quick 2, small 5, paper 20)
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
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function list(v: string | undefined, all: string[], what: string): string[] | undefined {
  if (v === undefined || v === "all") return undefined;
  const items = v.split(",").map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new UsageError(`--${what} is empty; valid: all, ${all.join(", ")}`);
  return items;
}

export function num(
  v: string | undefined,
  flag: string,
  opts: { int?: boolean; min?: number } = {},
) {
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

export type Values = ReturnType<typeof parseFlags>["values"];

export function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  } catch (e) {
    const valid = Object.keys(FLAGS).map((f) => `--${f}`).join(", ");
    throw new UsageError(`${(e as Error).message}\nvalid flags: ${valid}`);
  }
}
