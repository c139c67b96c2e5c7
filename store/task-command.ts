// How the user runs this repository's Deno tasks (`deno task`, `npx -y deno@X task`, or a Deno
// binary that is not on the PATH), so that every command fmbench prints can be pasted back as is.
import { delimiter, join } from "node:path";

/**
 * The environment variable in which the launcher (cli/launch.ts) hands the runner it detected to
 * the real CLI, whose own environment may no longer show how it was started.
 * @example
 * Deno.env.get(TASK_RUNNER_ENV); // "npx -y deno@2.9.6" under npx
 */
export const TASK_RUNNER_ENV = "FMBENCH_TASK_RUNNER";

/**
 * The environment variables the detection reads (the launcher's task grants exactly these).
 * @example
 * TASK_RUNNER_CLUES; // ["npm_lifecycle_event", "npm_command", "PATH"]
 */
export const TASK_RUNNER_CLUES = ["npm_lifecycle_event", "npm_command", "PATH"] as const;

/**
 * One argument quoted for a POSIX shell (bare when it is made of safe characters).
 * @example
 * shellQuote("FM w/ OT"); // "'FM w/ OT'"
 */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_\-.,:/=@%+]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** What the detection looks at: the running Deno, its version, the environment, the PATH. */
export interface RunnerClues {
  /** Deno.execPath(): the binary that runs this process. */
  execPath: string;
  /** Deno.version.deno, e.g. "2.9.6". */
  version: string;
  /** An environment variable's value (undefined when unset or not readable). */
  env: (name: string) => string | undefined;
  /** Whether an executable named `name` is on the PATH (default: looks in $PATH's folders). */
  onPath?: (name: string) => boolean;
}

/**
 * The command that starts Deno the way the user did: `npx -y deno@<version>` under npx or
 * `npm exec` (npm sets npm_lifecycle_event=npx / npm_command=exec, and npx runs Deno from its
 * `_npx` cache), `deno` when a `deno` is on the PATH, else the full path of the running binary.
 * @example
 * detectTaskRunner({ execPath: "/usr/bin/deno", version: "2.9.6", env: () => undefined, onPath: () => true }); // "deno"
 * detectTaskRunner({ execPath: "/x/deno", version: "2.9.6", env: (n) => n === "npm_command" ? "exec" : undefined }); // "npx -y deno@2.9.6"
 */
export function detectTaskRunner(c: RunnerClues): string {
  const npx = c.env("npm_lifecycle_event") === "npx" || c.env("npm_command") === "exec" ||
    /[\\/]_npx[\\/]/.test(c.execPath);
  if (npx) return `npx -y deno@${c.version}`;
  const onPath = c.onPath ?? ((name: string) => inPath(name, c.env("PATH")));
  return onPath("deno") ? "deno" : shellQuote(c.execPath);
}

/** Whether an executable file `name` is in one of the folders of `path` (a $PATH value). */
function inPath(name: string, path: string | undefined): boolean {
  if (path === undefined) return true; // cannot tell: the common case
  const exe = Deno.build.os === "windows" ? [`${name}.exe`, `${name}.cmd`] : [name];
  return path.split(delimiter).filter(Boolean).some((dir) =>
    exe.some((f) => {
      try {
        const s = Deno.statSync(join(dir, f));
        return s.isFile && (Deno.build.os === "windows" || ((s.mode ?? 0o111) & 0o111) !== 0);
      } catch {
        return false;
      }
    })
  );
}

function envOf(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // not granted: the clue is missing
  }
}

/**
 * This process's task runner: what the launcher detected (FMBENCH_TASK_RUNNER), else detected
 * here; "deno" when nothing can be read.
 * @example
 * taskRunner(); // "deno", or "npx -y deno@2.9.6" for an npx user
 */
export function taskRunner(): string {
  const handed = envOf(TASK_RUNNER_ENV);
  if (handed) return handed;
  let execPath = "deno";
  try {
    execPath = Deno.execPath();
  } catch {
    return "deno"; // no read permission: the plain form
  }
  return detectTaskRunner({ execPath, version: Deno.version.deno, env: envOf });
}

/**
 * A `deno task` command line in the user's form, its arguments quoted for a POSIX shell.
 * @example
 * taskCommand("report", ["runs/x"]); // "deno task report runs/x" (or "npx -y deno@2.9.6 task report runs/x")
 */
export function taskCommand(task: string, args: string[] = [], runner = taskRunner()): string {
  return [`${runner} task ${task}`, ...args.map(shellQuote)].join(" ");
}
