// Whether a path exists (file or folder), without throwing.

/**
 * True when `path` exists (a file, a folder or anything else Deno.stat sees); false when it
 * does not or cannot be looked at.
 * @example
 * await pathExists("/tmp"); // true
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
