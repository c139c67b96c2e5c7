// Cooperative stopping: the harness's long loops (training steps and micro-batches, every velocity
// evaluation of a solver through the wrapped field, NLL, reflow pairs) check a stop request at
// these safe points and throw Cancelled; the caller then saves what is finished.
import type { VelocityField } from "../core/mod.ts";

/**
 * A stop request the harness polls; an AbortSignal is one. `aborted` is read synchronously at
 * every safe point, so an implementation may be backed by shared memory a signal thread sets.
 */
export interface StopRequest {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

/**
 * Thrown at a safe point once a stop was requested; never recorded as a failure.
 * @example
 * new Cancelled("SIGINT").message; // "cancelled: SIGINT"
 */
export class Cancelled extends Error {
  constructor(reason = "stop requested") {
    super(`cancelled: ${reason}`);
    this.name = "Cancelled";
  }
}

/**
 * Whether an error means "stopped on request" (Cancelled, or an AbortSignal's AbortError).
 * @example
 * try { await train(input); } catch (e) { if (isCancelled(e)) saveProgress(); else throw e; }
 */
export function isCancelled(e: unknown): boolean {
  return e instanceof Cancelled || (e instanceof Error && e.name === "AbortError");
}

/**
 * Throw Cancelled if a stop was requested (a no-op without a request object).
 * @example
 * for (const batch of batches) { throwIfStopped(stop); await work(batch); }
 */
export function throwIfStopped(stop: StopRequest | undefined): void {
  if (!stop?.aborted) return;
  const r = stop.reason;
  if (r instanceof Cancelled) throw r;
  throw new Cancelled(r instanceof Error ? r.message : r === undefined ? undefined : String(r));
}

/**
 * The field with a stop check before every evaluation: a solver (any plugin) then stops within
 * one velocity evaluation of a request, and its own error handling disposes its tensors.
 * @example
 * const { x } = await solver.integrate(countNfe(stoppable(vf, stop)).f, x0, opts);
 */
export function stoppable(f: VelocityField, stop: StopRequest | undefined): VelocityField {
  if (!stop) return f;
  return (x, t) => {
    throwIfStopped(stop);
    return f(x, t);
  };
}
