// `deno task bench|bench:gpu|report|fid:weights|metrics:weights`: computes from the flags the
// permissions the command needs (cli/grants.ts), starts the real CLI with exactly those, forwards
// SIGINT/SIGTERM and returns its exit code. It may only read and start Deno itself; it writes
// nothing.
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { TASK_RUNNER_ENV, taskRunner } from "../store/task-command.ts";
import { UsageError } from "./flags.ts";
import {
  benchLaunch,
  fidWeightsLaunch,
  type GrantContext,
  type Launch,
  metricsWeightsLaunch,
  reportLaunch,
} from "./grants.ts";

const ROOT = new URL("../", import.meta.url);

/**
 * The launcher's modes: the first argument of cli/launch.ts.
 * @example
 * MODES["report"](["runs/x"], processContext()).script; // "cli/report.ts"
 */
export const MODES: Record<string, (argv: string[], ctx: GrantContext) => Launch> = {
  bench: (argv, ctx) => benchLaunch(argv, ctx),
  "bench:gpu": (argv, ctx) => benchLaunch(argv, ctx, true),
  report: (argv, ctx) => reportLaunch(argv, ctx),
  "fid:weights": (argv, ctx) => fidWeightsLaunch(argv, ctx),
  "metrics:weights": (argv, ctx) => metricsWeightsLaunch(argv, ctx),
};

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The grant context of this process: its folder, FMBENCH_DATA_DIR if readable, the disk.
 * @example
 * benchLaunch(["--out", "/tmp/run"], processContext()).writes; // ["/tmp/run"]
 */
export function processContext(): GrantContext {
  return {
    cwd: Deno.cwd(),
    env: (name) => {
      try {
        return Deno.env.get(name);
      } catch {
        return undefined; // no env permission: the default applies, the child decides anyway
      }
    },
    exists: existsSync,
    now: new Date(),
    realPath,
  };
}

/** `path` with the symbolic links of its existing part resolved; throws where Deno refuses. */
function realPath(path: string): string {
  let head = path, tail = "";
  while (!existsSync(head)) {
    const parent = dirname(head);
    if (parent === head) return path;
    tail = tail ? `${basename(head)}/${tail}` : basename(head);
    head = parent;
  }
  const real = Deno.realPathSync(head);
  return tail ? `${real.replace(/\/$/, "")}/${tail}` : real;
}

/**
 * True when a Ctrl-C typed in the terminal reaches the child by itself: the launcher is in the
 * terminal's foreground process group, which the child shares. Forwarding SIGINT then would
 * deliver it twice (a second Ctrl-C often means "stop now").
 * @example
 * if (!terminalDeliversSigint()) child.kill("SIGINT");
 */
export function terminalDeliversSigint(): boolean {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    // Fields after the command name: state ppid pgrp session tty_nr tpgid ...
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pgrp = Number(f[2]), tpgid = Number(f[5]);
    return tpgid > 0 && tpgid === pgrp;
  } catch {
    return Deno.stdin.isTerminal(); // no /proc (macOS): a terminal means a shared group
  }
}

/**
 * The `deno run` command line for a launch: no prompts (a missing grant is an error the CLI
 * explains), this repository's deno.json, the permissions, the script and its arguments.
 * @example
 * denoArgs({ permissions: ["--allow-read"], script: "cli/report.ts", args: ["runs/x"], writes: [] });
 */
export function denoArgs(l: Launch): string[] {
  return [
    "run",
    "--no-prompt",
    `--config=${fileURLToPath(new URL("deno.json", ROOT))}`,
    ...l.permissions,
    fileURLToPath(new URL(l.script, ROOT)),
    ...l.args,
  ];
}

/**
 * The one line that says what Deno printed before this launcher on a first run: `deno task` sets
 * up node_modules/ (one "Initialize" line per npm package; "Download" lines too with an empty
 * cache) just before it starts the launcher, which sees that by the time node_modules was set up
 * (`setupMs`, the modification time of node_modules/.deno/.setup-cache.bin) against its own
 * start (`startMs`). Undefined when node_modules was set up earlier (no such lines this time).
 * @example
 * firstRunNote({ setupMs: Date.now() - 500, startMs: Date.now(), task: "deno task bench" }); // "fmbench: ..."
 */
export function firstRunNote(
  { setupMs, startMs, task }: { setupMs: number | undefined; startMs: number; task: string },
): string | undefined {
  if (setupMs === undefined) return undefined;
  const before = startMs - setupMs;
  if (before < -1000 || before > 15_000) return undefined;
  const quiet = task.replace(/ task /, " task -q ");
  return `fmbench: first run in this checkout: Deno has unpacked the npm packages into ` +
    `node_modules/ (its "Initialize" lines; \`${quiet}\` hides Deno's own lines)`;
}

/** When node_modules/ was last set up, in ms since the epoch (undefined when unknown). */
function nodeModulesSetup(): number | undefined {
  try {
    const file = fileURLToPath(new URL("node_modules/.deno/.setup-cache.bin", ROOT));
    return Deno.statSync(file).mtime?.getTime();
  } catch {
    return undefined;
  }
}

/**
 * Start `mode` (bench, bench:gpu, report) with `argv` under the grants its flags need; resolves
 * with the exit code of the real CLI (128 + signal number when a signal ended it).
 * @example
 * Deno.exit(await launch("bench", ["--datasets", "moons", "--out", "/tmp/run"]));
 */
export async function launch(mode: string, argv: string[]): Promise<number> {
  const plan = MODES[mode];
  if (!plan) {
    console.error(`launch: unknown mode "${mode}"; valid: ${Object.keys(MODES).join(", ")}`);
    return 2;
  }
  let l: Launch;
  try {
    l = plan(argv, processContext());
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}`);
    return 2;
  }
  const runner = taskRunner();
  const note = firstRunNote({
    setupMs: nodeModulesSetup(),
    startMs: performance.timeOrigin,
    task: `${runner} task ${mode}`,
  });
  if (note) console.error(note);
  const child = new Deno.Command(Deno.execPath(), {
    args: denoArgs(l),
    // The folders it may write (for its messages) and how the user runs tasks (for the commands
    // it prints: `deno task …` or `npx -y deno@X task …`), which the child could not tell.
    env: { FMBENCH_WRITABLE: JSON.stringify(l.writes), [TASK_RUNNER_ENV]: runner },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const forward = (sig: Deno.Signal) => () => {
    if (sig === "SIGINT" && terminalDeliversSigint()) return;
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  try {
    return (await child.status).code;
  } finally {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  }
}

if (import.meta.main) Deno.exit(await launch(Deno.args[0] ?? "", Deno.args.slice(1)));
