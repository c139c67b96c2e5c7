// Up-front check of the output folder: one that cannot be written (a file, read-only, outside
// the folders the task may write) is refused in one line before any training starts.
import { dirname, resolve } from "node:path";
import { firstLine } from "../harness/mod.ts";
import { permissionMessage } from "./explain-error.ts";

function reason(e: unknown): string {
  if (e instanceof Deno.errors.NotCapable) return permissionMessage(e, "bench");
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.NotADirectory) return "a part of the path is a file, not a folder";
  // "Read-only file system (os error 30): mkdir '/x/y'" -> "read-only file system"
  const m = firstLine(e).replace(/ \(os error \d+\)/, "").replace(/: \w+ '.*'$/, "");
  return m.charAt(0).toLowerCase() + m.slice(1);
}

/** Why an output folder cannot be used: one line, and whether the value itself is wrong. */
export interface OutputProblem {
  message: string;
  /** The path names a file, or a folder under a file: a usage error (exit 2), not the system's. */
  usage: boolean;
}

/**
 * Why `dir` cannot hold fmbench's outputs, in one line, or undefined when it can. The folder is
 * probed with a small file that is removed at once; folders created for the probe are removed
 * again, so a run refused later (a bad flag, missing data) leaves nothing behind.
 * @example
 * const problem = await outputFolderProblem("runs/x", "--out"); // undefined: fine
 */
export async function outputFolderProblem(
  dir: string,
  what = "--out",
): Promise<OutputProblem | undefined> {
  const cannot = (e: unknown): OutputProblem => ({
    message: `${what} ${dir} cannot be written: ${reason(e)}`,
    usage: e instanceof Deno.errors.NotADirectory,
  });
  let created: string | undefined;
  try {
    const info = await Deno.stat(dir);
    if (!info.isDirectory) {
      return {
        message: `${what} ${dir} is a file, not a folder; give a new folder, or an earlier ` +
          `run's folder to resume it`,
        usage: true,
      };
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return cannot(e);
    try {
      created = await topmostMissing(dir);
      await Deno.mkdir(dir, { recursive: true });
    } catch (e) {
      return cannot(e);
    }
  }
  const probe = `${dir}/.fmbench-write-test.tmp-${Deno.pid}`; // swept like any temporary file
  try {
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (e) {
    return cannot(e);
  } finally {
    if (created) await Deno.remove(created, { recursive: true }).catch(() => {});
  }
  return undefined;
}

/** The outermost folder of `dir` that does not exist yet (what a recursive mkdir creates). */
async function topmostMissing(dir: string): Promise<string> {
  let missing = resolve(dir);
  for (let parent = dirname(missing); parent !== missing; parent = dirname(missing)) {
    try {
      await Deno.stat(parent);
      return missing;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      missing = parent;
    }
  }
  return missing;
}
