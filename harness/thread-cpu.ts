// CPU time of the calling thread: what a run's own work costs, whatever else runs beside it.
// Under --jobs each worker is a Web Worker, i.e. its own OS thread, so its CPU seconds do not
// grow when another worker competes for the cores (wall-clock seconds do).
import process from "node:process";

type ThreadCpu = () => { user: number; system: number };

/** Node's process.threadCpuUsage (getrusage(RUSAGE_THREAD)), which Deno implements; else none. */
const usage: ThreadCpu | undefined =
  typeof (process as unknown as { threadCpuUsage?: unknown }).threadCpuUsage === "function"
    ? () => (process as unknown as { threadCpuUsage: ThreadCpu }).threadCpuUsage()
    : undefined;

/**
 * User + system CPU seconds the calling thread has used so far (microsecond units, counted by
 * the kernel per thread), or undefined where the runtime cannot tell. Only differences between
 * two readings on the same thread mean anything. Work the thread hands to other threads (an
 * OpenBLAS thread pool, a GPU) is not included.
 * @example
 * const before = threadCpuSeconds();
 * work();
 * const cpu = before === undefined ? undefined : threadCpuSeconds()! - before;
 */
export function threadCpuSeconds(): number | undefined {
  if (!usage) return undefined;
  const u = usage();
  return (u.user + u.system) / 1e6;
}
