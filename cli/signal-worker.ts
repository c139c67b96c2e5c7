// The signal thread of `deno task bench`: it receives SIGINT/SIGTERM even while the main thread
// is busy in a long tensor computation, tells the main thread through shared memory (read at its
// next safe point), and on a second signal prints what is saved and ends the process at once.
import { describeRunFolder } from "../harness/run-folder.ts";

/** Shared-memory slots (Int32): signal count, the first signal's number, "main must exit". */
const COUNT = 0, SIGNAL = 1, EXIT_IN_MAIN = 2;

/**
 * One Ctrl-C reaches this process more than once: the terminal signals the whole process group,
 * and `deno task` (and npx) forward it again a few milliseconds later. Signals within this many
 * milliseconds of the first count as that first one.
 */
const SAME_PRESS_MS = 1000;

let shared: Int32Array | undefined;
let firstAt = -Infinity;
let folder: { outDir: string; resume: string } | undefined;

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
const NUMBER = { SIGINT: 2, SIGTERM: 15 } as const;

async function exitNow(sig: Deno.Signal): Promise<void> {
  const lines = folder ? await describeRunFolder(folder.outDir).catch(() => []) : [];
  const out = [`\n${sig} again: exiting now, without waiting for the current step.`];
  if (folder) {
    out.push(`saved in ${folder.outDir}:`, ...lines.map((l) => `  ${l}`));
    out.push(`resume with: ${folder.resume}`);
  }
  console.error(out.join("\n"));
  for (const s of SIGNALS) Deno.removeSignalListener(s, handlers[s]);
  try {
    // With the listeners gone the default action applies: the exit status says which signal.
    Deno.kill(Deno.pid, sig);
  } catch {
    if (shared) Atomics.store(shared, EXIT_IN_MAIN, 1); // no permission: the main thread exits
  }
}

function onSignal(sig: "SIGINT" | "SIGTERM"): void {
  if (!shared) return;
  const now = performance.now();
  if (Atomics.load(shared, COUNT) === 1 && now - firstAt < SAME_PRESS_MS) return;
  const n = Atomics.add(shared, COUNT, 1) + 1;
  if (n === 1) {
    firstAt = now;
    Atomics.store(shared, SIGNAL, NUMBER[sig]);
    console.error(
      `\n${sig}: stopping at the next safe point (after the current solver or training step) ` +
        `and saving what is finished; ${sig === "SIGINT" ? "Ctrl-C" : sig} again exits at once.`,
    );
  } else if (n === 2) {
    void exitNow(sig);
  }
}

const handlers = { SIGINT: () => onSignal("SIGINT"), SIGTERM: () => onSignal("SIGTERM") };
for (const s of SIGNALS) Deno.addSignalListener(s, handlers[s]);

/** The worker's global scope (typed here so the file checks without the worker lib). */
const scope = self as unknown as {
  onmessage: (e: MessageEvent) => void;
  postMessage(message: unknown): void;
};

scope.onmessage = (e: MessageEvent) => {
  if (e.data?.shared) {
    shared = new Int32Array(e.data.shared);
    scope.postMessage("ready");
  } else if (e.data?.outDir) {
    folder = { outDir: e.data.outDir, resume: e.data.resume };
  }
};
