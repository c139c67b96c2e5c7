// The shared-memory protocol between the calling thread and its helper threads: a control block
// (claim word, jobs done, failure flag), the job descriptors, and the first failure's message.
import { JOB_SLOTS } from "./helper-jobs.ts";

/**
 * Int32 words of the control block: the claim word, jobs done, a failure flag, helpers up, jobs
 * the helpers have run since they started, and helpers that failed to start.
 */
export const CLAIM = 0, DONE = 1, FAILED = 2, READY = 3, HELPED = 4, START_FAILED = 5;
/** Most jobs one call can post (the claim word holds 10 bits of count and of next job). */
export const MAX_JOBS = 1023;
const CONTROL_BYTES = 32;
const MESSAGE_BYTES = 1024;

/**
 * The claim word: bits 0-9 the next job to claim, bits 10-19 the job count, bits 20-30 the call's
 * sequence number; -1 tells helpers to exit. Claiming is one compare-and-swap of next -> next + 1,
 * so each job runs exactly once, on whichever thread claims it first; a thread holding an older
 * call's word fails its swap and reads the new one.
 */
export const NEXT_MASK = 1023, COUNT_SHIFT = 10, SEQ_SHIFT = 20, SEQ_MASK = 0x7ff;
/** The claim word that tells helpers to exit. */
export const QUIT = -1;

/** The views of a pool's shared memory. */
export interface Shared {
  control: Int32Array;
  slots: Float64Array;
  message: Uint8Array;
}

/**
 * Shared memory for a pool (new), or views of an existing one (`sab`).
 * @example
 * const s = sharedBlock(); // then new Worker(..., { workerData: s.control.buffer })
 */
export function sharedBlock(sab?: SharedArrayBuffer): Shared {
  const bytes = CONTROL_BYTES + MAX_JOBS * JOB_SLOTS * 8 + MESSAGE_BYTES;
  const buf = sab ?? new SharedArrayBuffer(bytes);
  return {
    control: new Int32Array(buf, 0, CONTROL_BYTES / 4),
    slots: new Float64Array(buf, CONTROL_BYTES, MAX_JOBS * JOB_SLOTS),
    message: new Uint8Array(buf, CONTROL_BYTES + MAX_JOBS * JOB_SLOTS * 8, MESSAGE_BYTES),
  };
}

/**
 * Claim the next job of the call whose claim word was `w`: its index, or -1 when the call has
 * none left (or a new call started: then read the claim word again).
 * @example
 * const i = claim(control, Atomics.load(control, CLAIM));
 */
export function claim(control: Int32Array, w: number): number {
  for (;;) {
    if (w === QUIT) return -1;
    const next = w & NEXT_MASK, count = (w >>> COUNT_SHIFT) & NEXT_MASK;
    if (next >= count) return -1;
    const got = Atomics.compareExchange(control, CLAIM, w, w + 1);
    if (got === w) return next;
    if (got >>> SEQ_SHIFT !== w >>> SEQ_SHIFT) return -1;
    w = got;
  }
}

/**
 * Record a failure's message (the first one only) and count a helper that could not start.
 * @example
 * fail(shared, "helper thread could not start: ...");
 */
export function fail(s: Shared, text: string): void {
  writeMessage(s, text);
  Atomics.add(s.control, START_FAILED, 1);
}

function writeMessage(s: Shared, text: string): void {
  if (Atomics.compareExchange(s.control, FAILED, 0, 1) !== 0) return;
  const bytes = new TextEncoder().encode(text).subarray(0, s.message.length - 1);
  s.message.set(bytes);
  s.message[bytes.length] = 0;
}

/**
 * The failure message written by a helper, if any.
 * @example
 * const why = failureMessage(shared);
 */
export function failureMessage(s: Shared): string | undefined {
  if (!Atomics.load(s.control, FAILED)) return undefined;
  const end = s.message.indexOf(0);
  return new TextDecoder().decode(s.message.slice(0, end < 0 ? undefined : end));
}

/**
 * Count a finished job; the last one wakes the caller. A failure is recorded with its message
 * (the first one only).
 * @example
 * finish(shared, count, undefined);
 */
export function finish(s: Shared, count: number, error: unknown): void {
  if (error !== undefined) {
    writeMessage(s, error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  if (Atomics.add(s.control, DONE, 1) + 1 === count) Atomics.notify(s.control, DONE);
}

/**
 * Milliseconds startHelpers waits for its helpers to start (each takes ~0.1 s; a first start under
 * `deno test` also type-checks the worker's modules).
 */
export const START_TIMEOUT_MS = 30_000;

/** Milliseconds a thread polls a word before sleeping on it (a futex wake costs ~10 us). */
export const SPIN_MS = 0.1;

/**
 * Return once control[index] is no longer `value`: polls for SPIN_MS, then sleeps (Atomics.wait).
 * @example
 * waitForChange(control, DONE, done);
 */
export function waitForChange(control: Int32Array, index: number, value: number): void {
  const until = performance.now() + SPIN_MS;
  while (Atomics.load(control, index) === value) {
    if (performance.now() > until) {
      Atomics.wait(control, index, value);
      return;
    }
  }
}
