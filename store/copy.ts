// File helpers of a --jobs run: copy a file (creating its folder), quietly skipping a missing one.
import { dirname } from "node:path";

/**
 * Copy src to dst, creating dst's folder; resolves false when src does not exist.
 * @example
 * await copy("runs/x/reflow/a.f32", "runs/x/shards/shard-0-of-2/reflow/a.f32");
 */
export async function copy(src: string, dst: string): Promise<boolean> {
  try {
    await Deno.mkdir(dirname(dst), { recursive: true });
    await Deno.copyFile(src, dst);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
