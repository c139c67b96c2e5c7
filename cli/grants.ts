// The Deno permissions a bench or report command needs, computed from its flags: write access to
// exactly its output folder (and the data dir a suite caches into), network only when a download
// can happen. Light on purpose (no engine imports): cli/launch.ts runs it before anything loads.
import { parseArgs } from "node:util";
import { dirname, join, resolve } from "node:path";
import { dataDirOf, defaultMergeDir, defaultOutDir } from "../store/folders.ts";
import { TASK_RUNNER_ENV } from "../store/task-command.ts";
import { FLAGS, parseShard, UsageError } from "./flags.ts";

export { defaultMergeDir, defaultOutDir };

/** A download a suite may make into its data dir: from which hosts, unless a file is there. */
export interface DataDownload {
  what: string;
  hosts: string[];
  /** Files or folders in the data dir, any one of which makes the download unnecessary. */
  unlessPresent: string[];
  /** An environment variable naming the file directly (used instead of the data dir if set). */
  envFile?: string;
}

/**
 * The FID Inception weights' download (pytorch-fid's GitHub release; see features/).
 * @example
 * INCEPTION_DOWNLOAD.hosts; // ["github.com", "release-assets.githubusercontent.com"]
 */
export const INCEPTION_DOWNLOAD: DataDownload = {
  what: "FID Inception weights",
  hosts: ["github.com", "release-assets.githubusercontent.com"],
  unlessPresent: ["pt_inception-2015-12-05-6726825d.pth", "pt_inception-2015-12-05.safetensors"],
  envFile: "FMBENCH_INCEPTION",
};

/**
 * The DINOv2 ViT-L/14 weights' download (Hugging Face, facebook/dinov2-large; see
 * features/dinov2/weights-file.ts, whose DINOV2_HOSTS tests/metrics_weights_test.ts checks
 * against this list).
 * @example
 * DINOV2_DOWNLOAD.hosts[0]; // "huggingface.co"
 */
export const DINOV2_DOWNLOAD: DataDownload = {
  what: "DINOv2 ViT-L/14 weights",
  hosts: [
    "huggingface.co",
    "cas-bridge.xethub.hf.co",
    "cdn-lfs.hf.co",
    "cdn-lfs-us-1.hf.co",
    "cdn-lfs-eu-1.hf.co",
    "cdn-lfs.huggingface.co",
  ],
  unlessPresent: ["dinov2-vitl14.safetensors", "dinov2_vitl14_pretrain.pth"],
  envFile: "FMBENCH_DINOV2",
};

/**
 * What each suite touches besides its output folder. Kept here rather than read from the suites,
 * which would load tfjs into the launcher; tests/launch_test.ts checks it against harness/.
 * @example
 * SUITE_NEEDS["toy2d"]; // { dataDir: false, downloads: [] }
 */
export const SUITE_NEEDS: Record<string, { dataDir: boolean; downloads: DataDownload[] }> = {
  toy2d: { dataDir: false, downloads: [] },
  cifar10: {
    dataDir: true,
    downloads: [
      { what: "CIFAR-10", hosts: ["www.cs.toronto.edu"], unlessPresent: ["cifar-10-batches-bin"] },
      INCEPTION_DOWNLOAD,
    ],
  },
};

/** The hosts of the downloads that can still happen (their files are not in place). */
function neededHosts(downloads: DataDownload[], dataDir: string, ctx: GrantContext): string[] {
  const hosts: string[] = [];
  for (const d of downloads) {
    const env = d.envFile ? ctx.env(d.envFile) : undefined;
    const present = env
      ? ctx.exists(resolve(ctx.cwd, env))
      : d.unlessPresent.some((f) => ctx.exists(join(dataDir, f)));
    if (!present) hosts.push(...d.hosts);
  }
  return [...new Set(hosts)];
}

/** How to start the real CLI: Deno's permission flags, the script and its arguments. */
export interface Launch {
  /** Permission flags for `deno run`, e.g. ["--allow-read", "--allow-write=/abs/out"]. */
  permissions: string[];
  /** The script to run, relative to the repository root ("cli/bench.ts" or "cli/report.ts"). */
  script: string;
  /** The arguments for the script: the user's, plus `--out DIR` when the launcher chose DIR. */
  args: string[];
  /** The folders the command may write (absolute), for messages and tests. */
  writes: string[];
}

/** What the grant computation may look at: the working folder, the environment, the disk. */
export interface GrantContext {
  cwd: string;
  env: (name: string) => string | undefined;
  exists: (path: string) => boolean;
  now: Date;
  /**
   * The path with its symbolic links resolved (as far as it exists); throws where Deno will not
   * say (a path into /dev). Absent: paths are taken as written.
   */
  realPath?: (path: string) => string;
}

/**
 * The folders under which Deno allows file access only with --allow-all (its "special files":
 * devices, processes, kernel state), whatever --allow-write says; /dev/shm is one of them.
 * @example
 * specialFolder("/dev/shm/run1"); // "/dev"
 * specialFolder("/tmp/run1"); // undefined
 */
export function specialFolder(abs: string): string | undefined {
  return ["/dev", "/proc", "/sys"].find((d) => abs === d || abs.startsWith(`${d}/`));
}

/**
 * A folder the launcher can grant write access to, absolute; UsageError otherwise: a comma
 * (Deno's permission lists are comma-separated) or a folder under /dev, /proc or /sys.
 */
function grantable(
  path: string,
  { flag, ctx, script }: { flag: string; ctx: GrantContext; script: string },
): string {
  if (path.includes(",")) {
    throw new UsageError(
      `${flag} "${path}" contains a comma, which Deno's permission flags cannot express; ` +
        `choose a folder name without commas`,
    );
  }
  const abs = resolve(ctx.cwd, path);
  let real = abs;
  try {
    real = ctx.realPath?.(abs) ?? abs;
  } catch {
    real = "/dev"; // Deno refuses to resolve it: a link into its special folders
  }
  const special = specialFolder(abs) ?? specialFolder(real);
  if (special) {
    throw new UsageError(
      `${flag} ${path} is ${real === abs ? "under" : "a link into"} ${special}, where Deno ` +
        `lets a program write only with --allow-all (all permissions), which this task does not ` +
        `grant; give a folder elsewhere (e.g. /tmp/${path.split("/").filter(Boolean).pop()}; ` +
        `for a folder in memory, a tmpfs mounted outside /dev), or run the CLI itself with all ` +
        `permissions: deno run -A ${script} ... ${flag} ${path}`,
    );
  }
  return abs;
}

/**
 * The environment the report CLI reads: how tasks are run, what it may write (messages), and
 * FMBENCH_DEBUG (the switch for stack traces its unexpected-error message offers).
 */
const REPORT_ENV = `--allow-env=${TASK_RUNNER_ENV},FMBENCH_WRITABLE,FMBENCH_DEBUG`;

/** Read-only commands (help, list, a usage error the real CLI will explain) get no writes. */
function readOnly(script: string, args: string[], extra: string[] = []): Launch {
  return { permissions: ["--allow-read", ...extra], script, args, writes: [] };
}

/**
 * The grants for `deno task bench ARGS`: read anywhere (plugins, data), write only the output
 * folder (and the data dir for a suite that caches data there), the network hosts of a download
 * only while its files are not in place, environment variables, and git for the manifest.
 * Adds `--out DIR` when the user gave none, so the folder granted is the folder used.
 * @example
 * const l = benchLaunch(["--out", "/tmp/x"], { cwd: "/repo", env: () => undefined, exists: () => false, now: new Date() });
 * l.permissions; // [..., "--allow-write=/tmp/x", ...]
 */
export function benchLaunch(argv: string[], ctx: GrantContext, gpu = false): Launch {
  // --allow-ffi: the native tfjs addon (bench:gpu) and the system BLAS of the wasm backend
  // (backend/native-blas.ts; FMBENCH_BLAS=off runs without it).
  const base = [
    "--allow-env",
    "--allow-run=git",
    gpu ? "--allow-sys" : "--allow-sys=hostname",
    "--allow-ffi",
  ];
  let v;
  let shard;
  try {
    v = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }).values;
    shard = parseShard(v.shard);
  } catch {
    return readOnly("cli/bench.ts", argv, base); // cli/bench.ts explains the usage error
  }
  if (v.help || v.list) return readOnly("cli/bench.ts", argv, base);
  const suite = v.suite ?? FLAGS.suite.default;
  const out = v.out ?? defaultOutDir(suite, shard, ctx.now);
  const writes = [grantable(out, { flag: "--out", ctx, script: "cli/bench.ts" })];
  let net: string[] = [];
  const needs = SUITE_NEEDS[suite];
  if (needs?.dataDir) {
    const dataDir = dataDirOf(v["data-dir"], ctx.env("FMBENCH_DATA_DIR"));
    const abs = grantable(dataDir, { flag: "--data-dir", ctx, script: "cli/bench.ts" });
    writes.push(abs);
    net = neededHosts(needs.downloads, abs, ctx);
  }
  return {
    permissions: [
      "--allow-read",
      `--allow-write=${writes.join(",")}`,
      ...(net.length ? [`--allow-net=${net.join(",")}`] : []),
      ...base,
    ],
    script: "cli/bench.ts",
    args: v.out === undefined ? [...argv, "--out", out] : argv,
    writes,
  };
}

/**
 * The flags of `deno task report` (cli/report.ts parses the same set).
 * @example
 * parseArgs({ args: ["--merge", "a", "b"], options: REPORT_FLAGS, allowPositionals: true });
 */
export const REPORT_FLAGS = {
  merge: { type: "boolean", default: false },
  out: { type: "string" },
  "allow-mixed-commits": { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

/**
 * The grants for `deno task report ARGS`: read anywhere; write the run folder whose report.html
 * is re-rendered, or the --merge output folder (chosen here when not given); read FMBENCH_DEBUG
 * (an unexpected error's message offers it).
 * @example
 * reportLaunch(["runs/x"], { cwd: "/repo", env: () => undefined, exists: () => true, now: new Date() }).writes; // ["/repo/runs/x"]
 */
export function reportLaunch(argv: string[], ctx: GrantContext): Launch {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: REPORT_FLAGS, strict: true, allowPositionals: true });
  } catch {
    return readOnly("cli/report.ts", argv, [REPORT_ENV]);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return readOnly("cli/report.ts", argv, [REPORT_ENV]);
  if (!v.merge) {
    if (positionals.length !== 1 || v.out !== undefined) {
      return readOnly("cli/report.ts", argv, [REPORT_ENV]);
    }
    const p = positionals[0];
    const dir = grantable(p.endsWith(".json") ? dirname(p) : p, {
      flag: "the run folder",
      ctx,
      script: "cli/report.ts",
    });
    return {
      permissions: ["--allow-read", `--allow-write=${dir}`, REPORT_ENV],
      script: "cli/report.ts",
      args: argv,
      writes: [dir],
    };
  }
  const out = v.out ?? defaultMergeDir(ctx.now);
  const dir = grantable(out, { flag: "--out", ctx, script: "cli/report.ts" });
  return {
    permissions: ["--allow-read", `--allow-write=${dir}`, REPORT_ENV],
    script: "cli/report.ts",
    args: v.out === undefined ? [...argv, "--out", out] : argv,
    writes: [dir],
  };
}

/**
 * The grants for `deno task fid:weights [--data-dir DIR]`: write the data dir, reach the weights'
 * hosts. Anything else (help, a bad flag) writes nothing and cli/fid-weights.ts explains it.
 * @example
 * fidWeightsLaunch(["--data-dir", "/d"], { cwd: "/repo", env: () => undefined, exists: () => false, now: new Date() }).writes; // ["/d"]
 */
export function fidWeightsLaunch(argv: string[], ctx: GrantContext): Launch {
  const script = "cli/fid-weights.ts";
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: { "data-dir": { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }).values;
  } catch {
    return readOnly(script, argv, ["--allow-env"]);
  }
  if (v.help) return readOnly(script, argv, ["--allow-env"]);
  const dataDir = dataDirOf(v["data-dir"], ctx.env("FMBENCH_DATA_DIR"));
  const abs = grantable(dataDir, { flag: "--data-dir", ctx, script });
  return {
    permissions: [
      "--allow-read",
      `--allow-write=${abs}`,
      `--allow-net=${INCEPTION_DOWNLOAD.hosts.join(",")}`,
      "--allow-env",
    ],
    script,
    args: argv,
    writes: [abs],
  };
}

/**
 * The grants for `deno task metrics:weights [--data-dir DIR] [--sha256 HEX]`: write the data dir,
 * reach the hosts of the weights still missing there (Inception's and DINOv2's). Anything else
 * (help, a bad flag) writes nothing and cli/metrics-weights.ts explains it.
 * @example
 * metricsWeightsLaunch(["--data-dir", "/d"], { cwd: "/repo", env: () => undefined, exists: () => false, now: new Date() }).writes; // ["/d"]
 */
export function metricsWeightsLaunch(argv: string[], ctx: GrantContext): Launch {
  const script = "cli/metrics-weights.ts";
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        "data-dir": { type: "string" },
        sha256: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch {
    return readOnly(script, argv, ["--allow-env"]);
  }
  if (v.help) return readOnly(script, argv, ["--allow-env"]);
  const dataDir = dataDirOf(v["data-dir"], ctx.env("FMBENCH_DATA_DIR"));
  const abs = grantable(dataDir, { flag: "--data-dir", ctx, script });
  const net = neededHosts([INCEPTION_DOWNLOAD, DINOV2_DOWNLOAD], abs, ctx);
  return {
    permissions: [
      "--allow-read",
      `--allow-write=${abs}`,
      ...(net.length ? [`--allow-net=${net.join(",")}`] : []),
      "--allow-env",
    ],
    script,
    args: argv,
    writes: [abs],
  };
}
