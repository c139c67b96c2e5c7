// Phase markers for the kill test and other tests: with FMBENCH_TRACE=1 each phase of a run prints
// "fmbench-phase: <phase> <detail>" on stderr; FMBENCH_TRACE_PAUSE_MS=N then also pauses N ms at
// each marker and between writing and renaming a durable file, so a test can aim a signal there.
import { envVar } from "../core/env.ts";

/**
 * The prefix of every phase marker line.
 * @example
 * line.startsWith(PHASE_PREFIX); // true for "fmbench-phase: train moons__1-rf__mlp-default"
 */
export const PHASE_PREFIX = "fmbench-phase:";

let settings: { on: boolean; pauseMs: number } | undefined;

function traceSettings(): { on: boolean; pauseMs: number } {
  if (!settings) {
    const pause = Number(envVar("FMBENCH_TRACE_PAUSE_MS") ?? 0);
    settings = {
      on: envVar("FMBENCH_TRACE") === "1",
      pauseMs: Number.isFinite(pause) && pause > 0 ? pause : 0,
    };
  }
  return settings;
}

/**
 * Mark the start of a phase ("train", "eval", "nll", "straightness", "pairs", "write-results",
 * "report", ...) when tracing is on; pauses FMBENCH_TRACE_PAUSE_MS afterwards. A no-op otherwise.
 * @example
 * await phase("eval", "euler moons__fm-w-ot__mlp-default");
 */
export async function phase(name: string, detail = ""): Promise<void> {
  const s = traceSettings();
  if (!s.on) return;
  console.error(`${PHASE_PREFIX} ${name}${detail ? ` ${detail}` : ""}`);
  if (s.pauseMs > 0) await new Promise((r) => setTimeout(r, s.pauseMs));
}
