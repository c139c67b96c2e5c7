// One run per output folder: an exclusive lock file (<dir>/.fmbench.lock) naming the holder's PID,
// host and start time. A lock left by a process that no longer runs is taken over; the lock is
// released at the end of the run and on Deno.exit (Ctrl-C), and a killed holder's lock is stale.
import { join } from "node:path";

/** The lock file's name inside an output folder. */
export const LOCK_FILE = ".fmbench.lock";

/** What a lock file records about its holder. */
export interface LockInfo {
  pid: number;
  host: string;
  /** When the holder took the lock (ISO time). */
  startedAt: string;
  /** The holder's start time in clock ticks since boot (Linux), to tell a reused PID apart. */
  procStart?: string;
  /** The kernel boot id (Linux): a lock from before a reboot is stale. */
  bootId?: string;
  /** The holder's command line, for the message a second run prints. */
  command?: string;
}

/** A second run found the folder locked by a live process; the message names the holder. */
export class LockHeldError extends Error {
  constructor(readonly dir: string, readonly holder: LockInfo, readonly lockPath: string) {
    const where = holder.host ? ` on host ${holder.host}` : "";
    super(
      `${dir} is in use by another fmbench run (PID ${holder.pid}${where}, started ` +
        `${holder.startedAt}${holder.command ? `: ${holder.command}` : ""}); wait for it to ` +
        `finish or choose another --out. If that process is gone, delete ${lockPath}`,
    );
    this.name = "LockHeldError";
  }
}

/** A held lock; release() (or disposal) removes the lock file if it is still this one. */
export interface RunLock {
  path: string;
  info: LockInfo;
  release(): void;
  [Symbol.dispose](): void;
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return ""; // no --allow-sys=hostname: the lock cannot name the host
  }
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function procStart(pid: number | "self"): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

/** This process's lock record. */
export function ownLockInfo(command?: string): LockInfo {
  return {
    pid: Deno.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    procStart: procStart("self"),
    bootId: readText("/proc/sys/kernel/random/boot_id")?.trim(),
    command,
  };
}

/**
 * Whether the holder of a lock still runs: "dead" when its PID is gone (or reused, or from before
 * a reboot) on this host, "alive" when it runs, "unknown" when it cannot be checked (another
 * host, no /proc), which is treated as alive.
 * @example
 * holderState(ownLockInfo()); // "alive"
 */
export function holderState(h: LockInfo): "alive" | "dead" | "unknown" {
  const me = ownLockInfo();
  if (h.host !== me.host) return "unknown";
  if (h.bootId && me.bootId && h.bootId !== me.bootId) return "dead";
  if (!me.procStart) return h.pid === me.pid ? "alive" : "unknown"; // no /proc: cannot look up
  const start = procStart(h.pid);
  if (start === undefined) return "dead";
  return h.procStart && h.procStart !== start ? "dead" : "alive";
}

function parseInfo(text: string | undefined): LockInfo | undefined {
  try {
    const v = JSON.parse(text ?? "");
    return Number.isInteger(v?.pid) && typeof v.startedAt === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Create `path` holding `text` only if it does not exist (write a temp file, then hard-link). */
async function createExclusive(path: string, text: string): Promise<boolean> {
  const tmp = `${path}.${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(tmp, text);
  try {
    await Deno.link(tmp, path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/**
 * Lock output folder `dir` (created if needed) for this process. Throws LockHeldError naming
 * the holder when a live process holds it; takes over a lock whose holder is gone, telling
 * `log`. The lock goes away on release(), on Deno.exit (Ctrl-C handlers) and, if the process is
 * killed, counts as stale for the next run.
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
  const info = ownLockInfo(opts.command);
  const text = JSON.stringify(info, null, 1) + "\n";
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(path, text)) return held(path, info, text);
    const existing = readText(path);
    if (existing === undefined) continue; // released meanwhile: try again
    const holder = parseInfo(existing);
    if (holder && holderState(holder) !== "dead") throw new LockHeldError(dir, holder, path);
    // Stale (dead holder) or unreadable: take it over, unless it changed since we read it.
    if (readText(path) !== existing) continue;
    await Deno.remove(path).catch(() => {});
    opts.log?.(
      holder
        ? `lock: ${path} was left by PID ${holder.pid} (started ${holder.startedAt}), which ` +
          `no longer runs; taking it over`
        : `lock: ${path} was unreadable; taking it over`,
    );
  }
  const holder = parseInfo(readText(path));
  if (holder) throw new LockHeldError(dir, holder, path);
  throw new Error(`could not create ${path} after 5 attempts`);
}

function held(path: string, info: LockInfo, text: string): RunLock {
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    globalThis.removeEventListener("unload", release);
    // Remove it only if it is still ours (a user may have deleted and re-run meanwhile).
    if (readText(path) === text) {
      try {
        Deno.removeSync(path);
      } catch {
        // already gone
      }
    }
  };
  globalThis.addEventListener("unload", release);
  return { path, info, release, [Symbol.dispose]: release };
}
