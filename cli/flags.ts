// The bench CLI's flags: their definitions and parsing with clear usage errors. Kept free of
// engine imports, so that the launcher (cli/launch.ts) can parse flags without loading tfjs.
import { parseArgs } from "node:util";

/**
 * The bench CLI's flags in node:util parseArgs form, with their defaults.
 * @example
 * FLAGS.suite.default; // "toy2d"
 */
export const FLAGS = {
  suite: { type: "string", default: "toy2d" },
  budget: { type: "string" },
  datasets: { type: "string", default: "default" },
  methods: { type: "string", default: "all" },
  paths: { type: "string", default: "all" },
  couplings: { type: "string", default: "all" },
  losses: { type: "string", default: "all" },
  "time-samplers": { type: "string" },
  models: { type: "string", default: "default" },
  preset: { type: "string" },
  solvers: { type: "string", default: "all" },
  metrics: { type: "string", default: "default" },
  steps: { type: "string" },
  batch: { type: "string" },
  lr: { type: "string" },
  clip: { type: "string" },
  "micro-batch": { type: "string" },
  minutes: { type: "string" },
  samples: { type: "string" },
  "high-res-samples": { type: "string" },
  "nll-points": { type: "string" },
  "nll-dequant": { type: "string" },
  "reflow-pairs": { type: "string" },
  "eval-batch": { type: "string" },
  seed: { type: "string" },
  seeds: { type: "string" },
  backend: { type: "string", default: "auto" },
  out: { type: "string" },
  plugins: { type: "string" },
  shard: { type: "string" },
  jobs: { type: "string" },
  threads: { type: "string" },
  "data-dir": { type: "string" },
  "fid-batch": { type: "string" },
  checkpoint: { type: "string" },
  "checkpoint-key": { type: "string", default: "ema_model" },
  "no-report": { type: "boolean", default: false },
  list: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

/**
 * A bad flag value; the CLI exits 2 with this message.
 * @example
 * throw new UsageError(`--lr must be a number > 0, got "0"`);
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * A comma-list flag value split into trimmed items, or undefined for an absent flag or "all"
 * (an empty list throws UsageError naming the valid items).
 * @example
 * list("moons, 8gaussians", ["moons", "8gaussians"], "datasets"); // ["moons", "8gaussians"]
 * list("all", ["moons"], "datasets"); // undefined
 */
export function list(
  v: string | undefined,
  { valid: all, flag: what }: { valid: string[]; flag: string },
): string[] | undefined {
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

/**
 * --seed / --seeds into the list of seeds (undefined when neither is given): "--seeds 0,4,7"
 * lists them, "--seeds 3" means 0, 1, 2, "--seed 5" means [5]; giving both is an error.
 * @example
 * parseSeeds(undefined, "3"); // [0, 1, 2]
 */
export function parseSeeds(
  seed: string | undefined,
  seeds: string | undefined,
): number[] | undefined {
  if (seed !== undefined && seeds !== undefined) {
    throw new UsageError(
      `give --seed N or --seeds LIST, not both (got --seed ${seed} --seeds ${seeds})`,
    );
  }
  if (seed !== undefined) return [num(seed, "seed", { int: true, min: 0 })!];
  if (seeds === undefined) return undefined;
  const bad = () =>
    new UsageError(
      `--seeds must be a count 1 <= N <= 1000 (seeds 0..N-1) or a comma list of distinct integers >= 0 ` +
        `(e.g. 0,1,2), got "${seeds}"`,
    );
  const list = seeds.includes(",");
  const parts = seeds.split(",").map((s) => s.trim()).filter((p) => !list || p !== "");
  if (!parts.length || parts.some((p) => !/^\d+$/.test(p))) throw bad();
  const values = parts.map(Number);
  if (!list) {
    if (values[0] < 1 || values[0] > 1000) throw bad();
    return Array.from({ length: values[0] }, (_, i) => i);
  }
  if (new Set(values).size !== values.length) throw bad();
  return values;
}

/**
 * Parse --shard "I/N" (shard I of N, 0 <= I < N); undefined when the flag is absent, UsageError
 * when malformed.
 * @example
 * parseShard("1/4"); // { index: 1, count: 4 }
 */
export function parseShard(v: string | undefined): { index: number; count: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) {
    throw new UsageError(`--shard must be I/N with 0 <= I < N (e.g. 0/2), got "${v}"`);
  }
  return { index: Number(m[1]), count: Number(m[2]) };
}

/**
 * Check --jobs: "auto" or an integer >= 1 (undefined = auto).
 * @example
 * parseJobs("4"); // "4"
 */
export function parseJobs(v: string | undefined): string | undefined {
  if (v === undefined || v === "auto") return v;
  if (!/^\d+$/.test(v) || Number(v) < 1) {
    throw new UsageError(`--jobs must be "auto" or an integer >= 1, got "${v}"`);
  }
  return v;
}

/**
 * Check --threads: an integer from 1 to the machine's cores (undefined = auto).
 * @example
 * parseThreads("2", 4); // 2
 * parseThreads("0", 4); // throws UsageError: --threads must be an integer from 1 to 4 ...
 */
export function parseThreads(v: string | undefined, cores: number): number | undefined {
  if (v === undefined || v === "auto") return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1 || Number(v) > cores) {
    throw new UsageError(
      `--threads must be "auto" or an integer from 1 to ${cores} (this machine's cores), ` +
        `got "${v}"`,
    );
  }
  return Number(v);
}

/** Edit distance between two words (insertions, deletions, substitutions, adjacent swaps). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The valid name closest to a misspelled one, when it is close enough to be what was meant: within
 * a third of its length in edits (at least 1, at most 3), or one name that starts with it.
 * @example
 * didYouMean("stepz", ["steps", "seed"]); // "steps"
 * didYouMean("xyz", ["steps", "seed"]); // undefined
 */
export function didYouMean(word: string, valid: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const ranked = valid.map((v) => ({ v, d: distance(w, v.toLowerCase()) }))
    .sort((a, b) => a.d - b.d);
  const limit = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  if (ranked.length && ranked[0].d <= limit && ranked[0].d < (ranked[1]?.d ?? Infinity)) {
    return ranked[0].v;
  }
  const prefixed = valid.filter((v) => v.startsWith(w) || w.startsWith(v));
  return w.length >= 3 && prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * The usage error for a flag node:util's parseArgs refused: an unknown flag gets the closest
 * valid one ("did you mean --steps?") and the list of valid flags.
 * @example
 * flagError(err, Object.keys(FLAGS)).message; // "unknown flag --stepz: did you mean --steps?\nvalid flags: ..."
 */
export function flagError(e: unknown, names: readonly string[]): UsageError {
  const valid = names.map((f) => `--${f}`).join(", ");
  const message = e instanceof Error ? e.message : String(e);
  const unknown = /^Unknown option '(-{1,2})([^'=]+)'/.exec(message);
  if (unknown) {
    const near = didYouMean(unknown[2], names);
    return new UsageError(
      `unknown flag ${unknown[1]}${unknown[2]}${near ? `: did you mean --${near}?` : ""}\n` +
        `valid flags: ${valid}`,
    );
  }
  return new UsageError(`${message}\nvalid flags: ${valid}`);
}

export type Values = ReturnType<typeof parseFlags>["values"];

/**
 * Parse the bench CLI's argv against FLAGS (strict; no positionals); an unknown or malformed
 * flag throws UsageError listing the valid flags.
 * @example
 * parseFlags(["--datasets", "moons"]).values.datasets; // "moons"
 */
export function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  } catch (e) {
    // "--threads -1" reads as a flag named -1: answer with the valid range all the same.
    const at = argv.indexOf("--threads");
    if (at >= 0 && /'--threads' argument is ambiguous/.test((e as Error).message)) {
      parseThreads(argv[at + 1], navigator.hardwareConcurrency || 1);
    }
    throw flagError(e, Object.keys(FLAGS));
  }
}
