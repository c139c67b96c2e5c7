// A file that fails its check is kept, not trusted and not retried: renamed to
// `<file>.unreadable-<time>` with the reason logged, so the work is redone from the last good state.
import { fileStamp } from "./file-stamp.ts";

/**
 * A name `<file>.unreadable-<time>[-k]` that no file has yet (two files set aside within one
 * millisecond get -1, -2, ...: an earlier one is never overwritten).
 * @example
 * asideName("runs/x/results.json"); // "runs/x/results.json.unreadable-2026-12-07T08-50-01-123Z"
 */
export function asideName(file: string): string {
  const base = `${file}.unreadable-${fileStamp()}`;
  for (let k = 0;; k++) {
    const name = k === 0 ? base : `${base}-${k}`;
    try {
      Deno.lstatSync(name);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return name;
      throw e;
    }
  }
}

/**
 * Rename `file` to `<file>.unreadable-<time>` (never over an earlier one); returns the new name,
 * or null when the file is already gone.
 * @example
 * const backup = await moveAside("runs/x/results.json"); // "runs/x/results.json.unreadable-2026-..."
 */
export async function moveAside(file: string): Promise<string | null> {
  const backup = asideName(file);
  try {
    await Deno.rename(file, backup);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return backup;
}

/**
 * Move `file` aside (moveAside) and log `<reason>; moved it to <backup>; <then>`; returns the
 * backup path (null when the file was already gone).
 * @example
 * await setAside({ file, reason: e.message, then: "training starts over", log: console.error });
 */
export async function setAside(
  o: { file: string; reason: string; then: string; log?: (line: string) => void },
): Promise<string | null> {
  const backup = await moveAside(o.file);
  o.log?.(`${o.reason}; ${backup ? `moved it to ${backup}` : "it is gone"}; ${o.then}`);
  return backup;
}
