// Turns an error that reached a CLI's top level into one line for the user: a missing permission
// says what this run may write and how to choose it; anything else is one line, not a trace.

/**
 * Whether `e` is Deno refusing an operation for lack of a permission.
 * @example
 * isPermissionError(new Deno.errors.NotCapable("Requires write access")); // true
 */
export function isPermissionError(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied;
}

function writable(): string[] | undefined {
  try {
    const v = JSON.parse(Deno.env.get("FMBENCH_WRITABLE") ?? "null");
    return Array.isArray(v) ? v.map(String) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One line (without an "error: " prefix) explaining a permission error: Deno's own first line without its advice to "run
 * again with --allow-…" (a `deno task` user cannot), what this run may write (set by
 * cli/launch.ts) and which flags choose that.
 * @example
 * permissionMessage(new Deno.errors.NotCapable('Requires write access to "/x", run again with the --allow-write flag'), "bench");
 */
export function permissionMessage(e: unknown, task: "bench" | "report"): string {
  const deno = String(e instanceof Error ? e.message : e).split("\n")[0]
    .replace(/,? run again with the --allow-[a-z-]+ flag\.?$/, "");
  const w = writable();
  const may = w === undefined
    ? ""
    : w.length
    ? `; this run may write only ${w.join(" and ")}`
    : "; this command may write nothing";
  const how = task === "bench"
    ? "`deno task bench` grants write access to exactly the --out folder and the --data-dir " +
      "(network only for a download), so point those flags where it should write"
    : "`deno task report` may write only the run folder it re-renders or the --merge --out folder";
  if (e instanceof Deno.errors.PermissionDenied && !/Requires/.test(deno)) {
    return `the operating system refused: ${deno} (check the folder's owner and mode)`;
  }
  if (/^Requires all access/.test(deno)) {
    // Deno's special files: no --allow-write reaches them, only --allow-all.
    return `not permitted: ${deno}: Deno allows access under /dev, /proc and /sys only with ` +
      `--allow-all, which the tasks do not grant; use a folder elsewhere (e.g. under /tmp), or ` +
      `run the CLI itself with deno run -A (README: Permissions)`;
  }
  return `not permitted: ${deno}${may}. ${how} (README: Permissions)`;
}

/** Whether this process may read FMBENCH_DEBUG (each task grants its own variables). */
function debugReadable(): boolean {
  try {
    return Deno.permissions.querySync({ name: "env", variable: "FMBENCH_DEBUG" }).state ===
      "granted";
  } catch {
    return false;
  }
}

/**
 * The line (without an "error: " prefix) printed for an unexpected error: its first line and, when
 * this process may read FMBENCH_DEBUG, how to see the stack trace (FMBENCH_DEBUG=1), which is
 * printed instead when that is set. Advice this process could not follow is never given.
 * @example
 * console.error(`error: ${unexpectedMessage(new Error("boom"))}`); // "error: boom (unexpected; …)"
 */
export function unexpectedMessage(e: unknown): string {
  const readable = debugReadable();
  if (readable && Deno.env.get("FMBENCH_DEBUG") && e instanceof Error && e.stack) return e.stack;
  const first = String(e instanceof Error ? e.message : e).split("\n")[0];
  return readable
    ? `${first} (unexpected; run again with FMBENCH_DEBUG=1 for the stack trace, and please ` +
      `report it)`
    : `${first} (unexpected; please report it with the command that caused it)`;
}
