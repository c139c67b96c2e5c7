// Helper threads for fmbench's own CPU kernels: node:worker_threads workers that take shares of a
// kernel's work on the same memory (through raw pointers) while the calling thread takes shares
// too, then waits. Which thread runs a share never changes its result.
import { Worker } from "node:worker_threads";
import { encodeJob, type Job, JOB_SLOTS, type JobEnv, runJob } from "./helper-jobs.ts";
import {
  CLAIM,
  claim,
  COUNT_SHIFT,
  DONE,
  FAILED,
  failureMessage,
  HELPED,
  MAX_JOBS,
  QUIT,
  READY,
  SEQ_MASK,
  SEQ_SHIFT,
  type Shared,
  sharedBlock,
  START_FAILED,
  START_TIMEOUT_MS,
  waitForChange,
} from "./helper-protocol.ts";

interface Pool extends Shared {
  workers: Worker[];
  seq: number;
  busy: boolean;
}

let pool: Pool | undefined;
let env: JobEnv = {};

/**
 * Start `count` helper threads (a later call with another count replaces them; 0 stops them),
 * which open the BLAS at `blasPath` for jobs that multiply matrices, and wait until they are up
 * (about 0.1 s). Throws, with no helpers left, when one fails to start or is not up within
 * START_TIMEOUT_MS. They do not keep the process alive.
 * @example
 * startHelpers(navigator.hardwareConcurrency - 1, blas.path);
 * helperThreads(); // the threads a call's jobs are shared over, this one included
 */
export function startHelpers(count: number, blasPath?: string): void {
  if (!(Number.isInteger(count) && count >= 0)) {
    throw new Error(`helper threads: count must be an integer >= 0, got ${count}`);
  }
  if ((pool?.workers.length ?? 0) === count) return;
  stopHelpers();
  if (count === 0) return;
  const shared = sharedBlock();
  const workers: Worker[] = [];
  for (let i = 0; i < count; i++) {
    const w = new Worker(new URL("./helper-worker.ts", import.meta.url), {
      workerData: { sab: shared.control.buffer, blasPath },
    });
    w.unref();
    // A worker that fails before its first line (a module that does not load) would end the
    // process with an unhandled error event; startHelpers times out on it instead and says so.
    w.on("error", () => {});
    workers.push(w);
  }
  pool = { ...shared, workers, seq: 0, busy: false };
  const until = performance.now() + START_TIMEOUT_MS;
  const arrived = () =>
    Atomics.load(shared.control, READY) + Atomics.load(shared.control, START_FAILED);
  for (let seen = arrived(); seen < count; seen = arrived()) {
    const left = until - performance.now();
    if (left <= 0) break;
    Atomics.wait(shared.control, READY, Atomics.load(shared.control, READY), Math.min(left, 50));
  }
  const up = Atomics.load(shared.control, READY);
  if (up < count) {
    const why = failureMessage(shared) ??
      `${count - up} of ${count} helper threads did not start within ${START_TIMEOUT_MS / 1000} s`;
    stopHelpers();
    throw new Error(why);
  }
}

/**
 * Stop the helper threads; jobs then run on the calling thread.
 * @example
 * stopHelpers();
 */
export function stopHelpers(): void {
  if (!pool) return;
  Atomics.store(pool.control, CLAIM, QUIT);
  Atomics.notify(pool.control, CLAIM);
  pool = undefined;
}

/**
 * How many threads share a call's jobs: the helpers and the calling thread (1 without helpers).
 * @example
 * const shares = Math.min(taps, helperThreads());
 */
export function helperThreads(): number {
  return pool ? pool.workers.length + 1 : 1;
}

/**
 * Jobs the running helper threads have run since they started (0 without helpers): how a test
 * tells that a kernel's work was shared.
 * @example
 * const before = helperJobsRun(); step(); const shared = helperJobsRun() > before;
 */
export function helperJobsRun(): number {
  return pool ? Atomics.load(pool.control, HELPED) : 0;
}

/**
 * Whether a runJobs call is running on this thread (its jobs must not post jobs of their own).
 * @example
 * const threads = insideJobs() ? 1 : helperThreads();
 */
export function insideJobs(): boolean {
  return pool?.busy ?? false;
}

/**
 * The BLAS that jobs running on this thread call (helpers open their own at startHelpers' path).
 * @example
 * setJobBlas(blas);
 */
export function setJobBlas(blas: JobEnv["blas"]): void {
  env = { blas };
}

/**
 * Run every job once, shared between the helper threads and this one, and return when all are
 * done. Without helpers, or with one job, they run here in order. A job that throws (here or on a
 * helper) is rethrown once all have finished. The jobs' arrays must not move meanwhile: nothing
 * may allocate in the wasm heap until this returns.
 * @example
 * runJobs(shares.map(([t0, t1]) => ({ kind: "filterGradTaps", arrays: [xp, dz, dw], nums: [...dims, t0, t1] })));
 */
export function runJobs(jobs: Job[]): void {
  const p = pool;
  if (!p || jobs.length < 2) {
    for (const j of jobs) runJob(j, env);
    return;
  }
  if (p.busy) throw new Error("helper threads: runJobs called while a call is running");
  if (jobs.length > MAX_JOBS) {
    throw new Error(`helper threads: ${jobs.length} jobs in one call, at most ${MAX_JOBS}`);
  }
  p.busy = true;
  try {
    const n = jobs.length;
    jobs.forEach((j, i) => encodeJob(j, p.slots, i * JOB_SLOTS));
    Atomics.store(p.control, DONE, 0);
    Atomics.store(p.control, FAILED, 0);
    p.seq = (p.seq + 1) & SEQ_MASK;
    let w = (p.seq << SEQ_SHIFT) | (n << COUNT_SHIFT);
    Atomics.store(p.control, CLAIM, w);
    Atomics.notify(p.control, CLAIM);
    let mainError: unknown;
    for (let i = claim(p.control, w); i >= 0; i = claim(p.control, w)) {
      try {
        if (mainError === undefined) runJob(jobs[i], env);
      } catch (e) {
        mainError = e;
      }
      if (Atomics.add(p.control, DONE, 1) + 1 === n) Atomics.notify(p.control, DONE);
      w = Atomics.load(p.control, CLAIM);
    }
    for (let d = Atomics.load(p.control, DONE); d < n; d = Atomics.load(p.control, DONE)) {
      waitForChange(p.control, DONE, d);
    }
    if (mainError !== undefined) throw mainError;
    const failed = failureMessage(p);
    if (failed !== undefined) throw new Error(`helper thread job failed: ${failed}`);
  } finally {
    p.busy = false;
  }
}
