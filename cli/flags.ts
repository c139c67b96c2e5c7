// The bench CLI's flags: their definitions and parsing with clear usage errors. Kept free of
// engine imports, so that the launcher (cli/launch.ts) can parse flags without loading tfjs.
import { parseArgs } from "node:util";

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
  clip: { type: "string" },
  "micro-batch": { type: "string" },
  minutes: { type: "string" },
  samples: { type: "string" },
  "nll-points": { type: "string" },
  "nll-dequant": { type: "string" },
  "reflow-pairs": { type: "string" },
  "eval-batch": { type: "string" },
  seed: { type: "string", default: "0" },
  backend: { type: "string", default: "auto" },
  out: { type: "string" },
  plugins: { type: "string" },
  shard: { type: "string" },
  "data-dir": { type: "string" },
  "fid-batch": { type: "string" },
  "no-report": { type: "boolean", default: false },
  list: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

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

/**
 * A numeric flag value, or undefined when the flag is absent; `min` is inclusive, `above` is an
 * exclusive lower bound (e.g. a learning rate must be > 0).
 * @example
 * num("0.001", "lr", { above: 0 }); // 0.001
 * num("0", "lr", { above: 0 }); // throws UsageError: --lr must be a number > 0, got "0"
 */
export function num(
  v: string | undefined,
  flag: string,
  opts: { int?: boolean; min?: number; above?: number } = {},
): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  const low = opts.above !== undefined ? x <= opts.above : x < (opts.min ?? -Infinity);
  if (v.trim() === "" || !Number.isFinite(x) || (opts.int && !Number.isInteger(x)) || low) {
    const bound = opts.above !== undefined
      ? ` > ${opts.above}`
      : opts.min !== undefined
      ? ` >= ${opts.min}`
      : "";
    throw new UsageError(
      `--${flag} must be ${opts.int ? "an integer" : "a number"}${bound}, got "${v}"`,
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
