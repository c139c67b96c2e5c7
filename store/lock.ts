// One run per output folder: an exclusive OS lock (flock) on <dir>/.fmbench.lock, whose content
// names the holder's PID, host and start time. The kernel drops the lock when its process ends,
// however it ends (SIGKILL too), so a lock left by a dead process is simply taken over.
import { join } from "node:path";

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
  ) {
    const who = holder
      ? `PID ${holder.pid}${holder.host ? ` on host ${holder.host}` : ""}, started ` +
        `${holder.startedAt}${holder.command ? `: ${holder.command}` : ""}`
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

function parseInfo(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text);
    return Number.isInteger(v?.pid) && typeof v.startedAt === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

function readAll(file: Deno.FsFile): string {
  const buf = new Uint8Array(file.statSync().size);
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
    let holder: LockInfo | undefined;
    for (let i = 0; i < 20 && !holder; i++) {
      holder = parseInfo(readAll(file));
      if (!holder) await new Promise((r) => setTimeout(r, 25));
    }
    file.close();
    throw new LockHeldError(dir, holder, path);
  }
  const previous = parseInfo(readAll(file));
  if (previous) {
    opts.log?.(
      `lock: ${path} was left by PID ${previous.pid}${
        previous.host ? ` on ${previous.host}` : ""
      } (started ${previous.startedAt}), which no longer holds it; taking it over`,
    );
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
