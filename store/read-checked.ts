// The one rule for a safetensors file fmbench wrote and reads back: parse it, check it against its
// schema, and set it aside (`<file>.unreadable-<time>`, reason logged) when either fails.
import { SafetensorsError, SafetensorsFile } from "./safetensors.ts";
import { setAside } from "./move-aside.ts";
import { FileCheckError } from "./validate.ts";

/** How to read one checked file. */
export interface ReadChecked<T> {
  file: string;
  /** The schema check: the value, null for a file that is fine but not this caller's (stale). */
  check: (f: SafetensorsFile) => T | null;
  /** What happens instead, for the log line (e.g. "training starts over"). */
  then: string;
  log?: (line: string) => void;
}

/**
 * Read and check a safetensors file: null when it is absent or stale; a file that cannot be
 * parsed or fails `check` is moved aside with the reason logged, and null returned, so the
 * caller redoes the work instead of trusting it or failing on it forever.
 * @example
 * const ck = await readChecked({ file, check: (f) => checkCheckpoint(f, expect),
 *   then: "training starts over", log: console.error });
 */
export async function readChecked<T>(o: ReadChecked<T>): Promise<T | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(o.file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    return o.check(new SafetensorsFile(bytes, o.file));
  } catch (e) {
    if (!(e instanceof SafetensorsError || e instanceof FileCheckError)) throw e;
    await setAside({ file: o.file, reason: e.message, then: o.then, log: o.log });
    return null;
  }
}
