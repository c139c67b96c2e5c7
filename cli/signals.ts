// Ctrl-C and SIGTERM for `deno task bench`: a signal thread (signal-worker.ts) counts signals in
// shared memory, which the harness reads synchronously at every safe point as its stop request,
// so a stop takes effect within one solver or training step even when the main thread never
// yields to the event loop. A second signal exits at once.
import type { StopRequest } from "../harness/mod.ts";

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
  let worker: Worker;
  try {
    worker = await startWorker(shared);
  } catch (e) {
    // E.g. a `deno compile` binary built without `--include cli/signal-worker.ts`.
    console.error(
      `warning: ${e instanceof Error ? e.message : e}; Ctrl-C is handled on the main thread ` +
        `(it takes effect when the current computation yields)`,
    );
    return inProcess(shared);
  }
  const received = () => signalName(shared);
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

function signalName(shared: Int32Array): "SIGINT" | "SIGTERM" | undefined {
  const n = Atomics.load(shared, 1);
  return n === 2 ? "SIGINT" : n === 15 ? "SIGTERM" : undefined;
}

async function startWorker(shared: Int32Array): Promise<Worker> {
  const worker = new Worker(new URL("./signal-worker.ts", import.meta.url).href, {
    type: "module",
  });
  await new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`the signal thread did not start (${e.message})`));
    };
    worker.postMessage({ shared: shared.buffer });
  });
  return worker;
}

/** Fallback without the signal thread: listeners on the main thread, same counting. */
function inProcess(shared: Int32Array): SignalControl {
  let firstAt = -Infinity;
  const on = (sig: "SIGINT" | "SIGTERM") => () => {
    const now = performance.now();
    if (Atomics.load(shared, 0) === 1 && now - firstAt < 1000) return; // the same press
    if (Atomics.add(shared, 0, 1) === 0) {
      firstAt = now;
      Atomics.store(shared, 1, sig === "SIGINT" ? 2 : 15);
      console.error(`\n${sig}: stopping at the next safe point; again exits at once.`);
    } else {
      Deno.exit(sig === "SIGTERM" ? 143 : 130);
    }
  };
  const handlers = { SIGINT: on("SIGINT"), SIGTERM: on("SIGTERM") };
  Deno.addSignalListener("SIGINT", handlers.SIGINT);
  Deno.addSignalListener("SIGTERM", handlers.SIGTERM);
  return {
    stop: {
      get aborted() {
        return Atomics.load(shared, 0) > 0;
      },
    },
    received: () => signalName(shared),
    watch: () => {},
    close: () => {
      Deno.removeSignalListener("SIGINT", handlers.SIGINT);
      Deno.removeSignalListener("SIGTERM", handlers.SIGTERM);
    },
  };
}
