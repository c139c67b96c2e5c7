// One run per output folder: an exclusive OS lock (flock) on <dir>/.fmbench.lock, whose content
// names the holder's PID, host and start time. The kernel drops the lock when its process ends,
// however it ends (SIGKILL too), so a lock left by a dead process is simply taken over.
import { join } from "node:path";
import { fileStamp } from "./file-stamp.ts";
import { safeText } from "./quote.ts";
import { checkFile, FileCheckError, num, obj, optional, parseJson, str } from "./validate.ts";

/**
 * The lock file's name inside an output folder.
 * @example
 * join("runs/x", LOCK_FILE); // "runs/x/.fmbench.lock"
 */
export const LOCK_FILE = ".fmbench.lock";

/** What a lock file records about its holder. */
export interface LockInfo {
  pid: number;
  host: string;
  /** When the holder took the lock (ISO time). */
  startedAt: string;
  /** The holder's command line, for the message a second run prints. */
  command?: string;
}

/**
 * A second run found the folder locked by a live process; the message names the holder.
 * @example
 * try { await acquireRunLock("runs/x"); } catch (e) { if (e instanceof LockHeldError) console.error(e.message); }
 */
export class LockHeldError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockInfo | undefined,
    readonly lockPath: string,
    /** Why the lock file's details could not be read (absent: none were written yet). */
    problem?: string,
  ) {
    const who = holder
      ? `PID ${holder.pid}${holder.host ? ` on host ${safeText(holder.host, 80)}` : ""}, ` +
        `started ${safeText(holder.startedAt, 40)}` +
        `${holder.command ? `: ${safeText(holder.command, 300)}` : ""}`
      : problem
      ? `a process whose details in ${lockPath} cannot be read: ${problem}`
      : `a process that has not written its details to ${lockPath} yet`;
    super(
      `${dir} is in use by another fmbench run (${who}); wait for it to finish or choose ` +
        `another --out`,
    );
    this.name = "LockHeldError";
  }
}

/** A held lock; release() (or disposal, or Deno.exit) empties the file and unlocks it. */
export interface RunLock {
  path: string;
  info: LockInfo;
  release(): void;
  [Symbol.dispose](): void;
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return ""; // no --allow-sys=hostname: the lock cannot name the host
  }
}

/**
 * Most bytes of a lock file read (its details are a few hundred): the rest is not read.
 * @example
 * MAX_LOCK_BYTES; // 65536
 */
export const MAX_LOCK_BYTES = 1 << 16;

const LOCK_INFO = obj({
  pid: num({ int: true, min: 1, max: 2 ** 31 - 1 }),
  host: str({ max: 255 }),
  startedAt: str({ max: 64 }),
  command: optional(str({ max: 20_000 })),
});

/** A lock file's content: its holder's details, nothing (released cleanly), or why it is bad. */
export type LockContent = { info: LockInfo } | { empty: true } | { problem: string };

/**
 * Check a lock file's text against its schema (pid, host, startedAt, command).
 * @example
 * checkLockText('{"pid": 7, "host": "h", "startedAt": "2026-12-01T10:00:00Z"}', "x/.fmbench.lock");
 * // { info: { pid: 7, host: "h", startedAt: "2026-12-01T10:00:00Z" } }
 */
export function checkLockText(text: string, path: string): LockContent {
  if (text.trim() === "") return { empty: true };
  try {
    return { info: checkFile(path, () => parseJson(text, LOCK_INFO, "lock")) };
  } catch (e) {
    if (!(e instanceof FileCheckError)) throw e;
    return { problem: e.message };
  }
}

function readAll(file: Deno.FsFile): string {
  const buf = new Uint8Array(Math.min(file.statSync().size, MAX_LOCK_BYTES));
  file.seekSync(0, Deno.SeekMode.Start);
  let off = 0;
  while (off < buf.length) {
    const n = file.readSync(buf.subarray(off));
    if (!n) break;
    off += n;
  }
  return new TextDecoder().decode(buf.subarray(0, off));
}

/**
 * Lock output folder `dir` (created if needed) for this process. Throws LockHeldError naming
 * the holder when another process (or another lock in this one) holds it. A lock file whose
 * holder is gone (its process ended without releasing: killed, crashed) is taken over, telling
 * `log`. The lock is released by release(), on Deno.exit (Ctrl-C handlers), and by the kernel
 * when the process ends in any other way.
 * @example
 * const lock = await acquireRunLock("runs/x", { command: "deno task bench --out runs/x" });
 * try { ... } finally { lock.release(); }
 */
export async function acquireRunLock(
  dir: string,
  opts: { command?: string; log?: (line: string) => void } = {},
): Promise<RunLock> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const file = await Deno.open(path, { read: true, write: true, create: true });
  if (!file.tryLockSync(true)) {
    // Held. The holder writes its details right after locking: give it a moment if empty.
    let content: LockContent = { empty: true };
    for (let i = 0; i < 20 && !("info" in content); i++) {
      content = checkLockText(readAll(file), path);
      if (!("info" in content)) await new Promise((r) => setTimeout(r, 25));
    }
    file.close();
    throw new LockHeldError(
      dir,
      "info" in content ? content.info : undefined,
      path,
      "problem" in content ? content.problem : undefined,
    );
  }
  const text = readAll(file);
  const previous = checkLockText(text, path);
  if ("info" in previous) {
    const p = previous.info;
    opts.log?.(
      `lock: ${path} was left by PID ${p.pid}${p.host ? ` on ${safeText(p.host, 80)}` : ""} ` +
        `(started ${safeText(p.startedAt, 40)}), which no longer holds it; taking it over`,
    );
  } else if ("problem" in previous) {
    // The file itself is the lock (it stays); a copy of what it held is kept beside it.
    const copy = `${path}.unreadable-${fileStamp()}`;
    await Deno.writeTextFile(copy, text);
    opts.log?.(`lock: ${previous.problem}; kept a copy at ${copy}; taking the lock over`);
  }
  const info: LockInfo = {
    pid: Deno.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: opts.command,
  };
  file.truncateSync(0);
  file.seekSync(0, Deno.SeekMode.Start);
  const bytes = new TextEncoder().encode(JSON.stringify(info, null, 1) + "\n");
  for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    globalThis.removeEventListener("unload", release);
    try {
      file.truncateSync(0); // empty = released cleanly (the next run has nothing to take over)
      file.unlockSync();
    } finally {
      file.close();
    }
  };
  globalThis.addEventListener("unload", release);
  return { path, info, release, [Symbol.dispose]: release };
}
