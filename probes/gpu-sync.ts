// Wait until the active backend has finished all queued work, so a timing covers the work itself
// and not only its dispatch (webgpu queues commands and returns at once).
import { tf } from "../core/tf.ts";

/**
 * Resolve when the backend has finished everything queued so far. On webgpu: submit tfjs's
 * pending command encoder and await the device queue (no data is copied back); elsewhere, read
 * `t` (a small tensor) if given, since CPU backends compute synchronously anyway.
 * @example
 * const t0 = performance.now();
 * const y = tf.matMul(a, b);
 * await finish(y);
 * console.log(performance.now() - t0);
 */
export async function finish(t?: tf.Tensor): Promise<void> {
  // deno-lint-ignore no-explicit-any
  const b = tf.backend() as any;
  if (tf.getBackend() === "webgpu" && b.device?.queue) {
    if (b.commandEncoder) {
      b.endComputePassEncoder();
      b.submitQueue();
    }
    await b.device.queue.onSubmittedWorkDone();
    return;
  }
  if (t) await t.data();
}
