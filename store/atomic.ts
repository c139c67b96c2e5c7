// Durable file writes (a temporary file beside the target, fsync, rename, fsync of the folder: a
// crash leaves the old file or the new one, never half of one) and the sweep that removes the
// temporary files of a process that was killed mid-write.
import { basename, dirname, join } from "node:path";
import { phase } from "./trace.ts";

/** What marks a temporary file: `<target>.tmp-<pid of the writer>`. */
const TEMP_MARK = ".tmp-";
/** A temporary file's name, with the writer's pid as group 1. */
const TEMP_NAME = new RegExp(`${TEMP_MARK.replace(".", "\\.")}(\\d+)$`);

/** The temporary name this process writes `path` through ("runs/x/results.json.tmp-12345"). */
function tempPathFor(path: string): string {
  return `${path}${TEMP_MARK}${Deno.pid}`;
}

async function syncFolder(dir: string): Promise<void> {
  let f: Deno.FsFile | undefined;
  try {
    f = await Deno.open(dir, { read: true });
    await f.sync();
  } catch {
    // Some platforms cannot open or fsync a folder; the rename itself is still atomic.
  } finally {
    f?.close();
  }
}

/**
 * Write `data` to `path` durably: to `<path>.tmp-<pid>`, fsync, rename over `path`, fsync the
 * folder. Creates the folder. `tracePhase` names a phase marker (see store/trace.ts) emitted
 * between the fsync and the rename, where a test can aim a kill.
 * @example
 * await writeFileAtomic("runs/x/results.json", JSON.stringify(results));
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  opts: { tracePhase?: string } = {},
): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true });
  const tmp = tempPathFor(path);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    await f.sync();
  } catch (e) {
    f.close();
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  f.close();
  if (opts.tracePhase) await phase(opts.tracePhase, basename(path));
  await Deno.rename(tmp, path);
  await syncFolder(dir);
}

/**
 * Remove a file durably if it exists (the folder is fsynced so the removal survives a crash).
 * @example
 * await removeDurably("runs/x/checkpoints/moons__1-rf__mlp-default.safetensors");
 */
export async function removeDurably(path: string): Promise<boolean> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  await syncFolder(dirname(path));
  return true;
}

/**
 * Whether process `pid` may still be writing. /proc answers when Deno may read it (--allow-all);
 * otherwise only this process counts as alive: a run folder has one writer at a time (its lock),
 * so another process's temporary file there was left by a process that died mid-write.
 */
function mayBeWriting(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false; // gone, or /proc not readable
  }
}

/**
 * Remove `*.tmp-<pid>` files of writers that are gone (see mayBeWriting), in `dir` and its
 * sub-folders (down to `depth` levels); returns the removed paths. A missing folder is fine.
 * Call it when this process owns the folder (before writing anything there).
 * @example
 * const removed = await removeStaleTemps("runs/x"); // ["runs/x/results.json.tmp-4242"]
 */
export async function removeStaleTemps(dir: string, depth = 3): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (d: string, left: number) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return;
      throw e;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory) {
        if (left > 0) await walk(p, left - 1);
        continue;
      }
      const m = TEMP_NAME.exec(e.name);
      if (m && !mayBeWriting(Number(m[1]))) {
        await Deno.remove(p).catch(() => {});
        removed.push(p);
      }
    }
  };
  await walk(dir, depth);
  return removed;
}
