// Ctrl-C and SIGTERM for `deno task bench`: a signal thread (signal-worker.ts) counts signals in
// shared memory, which the harness reads synchronously at every safe point as its stop request,
// so a stop takes effect within one solver or training step even when the main thread never
// yields to the event loop. A second signal exits at once.
import type { StopRequest } from "../harness/stop.ts";

/** The process's signal handling while a suite runs. */
export interface SignalControl {
  /** Set once the first SIGINT or SIGTERM arrived. */
  stop: StopRequest;
  /** The first signal received, if any. */
  received(): "SIGINT" | "SIGTERM" | undefined;
  /** What a second signal's message describes: the output folder and the resume command. */
  watch(outDir: string, resume: string): void;
  /** Stop listening (lets the process exit normally). */
  close(): void;
}

/**
 * Start the signal thread; from now on SIGINT and SIGTERM request a stop instead of killing.
 * @example
 * const signals = await handleSignals();
 * await runSuite({ ...options, stop: signals.stop });
 */
export async function handleSignals(): Promise<SignalControl> {
  const shared = new Int32Array(new SharedArrayBuffer(12));
  const worker = new Worker(new URL("./signal-worker.ts", import.meta.url).href, {
    type: "module",
  });
  await new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`signal handler did not start: ${e.message}`));
    };
    worker.postMessage({ shared: shared.buffer });
  });
  const received = () => {
    const n = Atomics.load(shared, 1);
    return n === 2 ? "SIGINT" as const : n === 15 ? "SIGTERM" as const : undefined;
  };
  const stop: StopRequest = {
    get aborted() {
      // The signal thread could not end the process itself (no permission): do it here.
      if (Atomics.load(shared, 2) === 1) Deno.exit(received() === "SIGTERM" ? 143 : 130);
      return Atomics.load(shared, 0) > 0;
    },
    get reason() {
      return received();
    },
  };
  return {
    stop,
    received,
    watch: (outDir, resume) => worker.postMessage({ outDir, resume }),
    close: () => worker.terminate(),
  };
}
