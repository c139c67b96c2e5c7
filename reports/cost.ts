// What training a method cost: the CPU seconds of the thread that did its work (a method's own
// work, unchanged by what other --jobs workers do), plus what it needs before it can train (a
// reflow student's teacher and the generation of its pairs); wall-clock seconds where the work
// is not on the CPU thread (GPU backends) or older files lack CPU times.
import type { ResultsFile, RunRecord } from "../results/schema.ts";
import { seedOf } from "./seeds.ts";

/** Which measure the cost column ranks on. */
export type CostMeasure = "cpu" | "wall";

/** Backends whose work runs on the calling thread (wasm and cpu in Deno: one thread). */
const CPU_BACKENDS = new Set(["wasm", "cpu"]);

/**
 * "cpu" when the run's backend computes on the calling thread and every trained run recorded
 * its CPU seconds; else "wall" (a GPU's work is not CPU time of the thread that waits for it).
 * @example
 * costMeasure(results); // "cpu" for a toy2d run on wasm
 */
export function costMeasure(results: ResultsFile): CostMeasure {
  const trained = results.runs.filter((r) => r.status === "ok" && r.train);
  const cpu = CPU_BACKENDS.has(results.manifest.backend) &&
    trained.every((r) => typeof r.train!.cpuSeconds === "number");
  return cpu && trained.length ? "cpu" : "wall";
}

/** One part of a method's cost. */
export interface CostPart {
  what: string;
  seconds: number;
  /** Standard error of this part; undefined when not measured. */
  stderr?: number;
}

/** A method's training cost: its parts, their sum and its standard error. */
export interface TrainCost {
  seconds: number;
  /** √(Σ stderr²) over the parts; undefined when a timed part has none. */
  stderr?: number;
  parts: CostPart[];
  /** Parts the file cannot price (e.g. a teacher run that is not in it). */
  missing: string[];
  /** The run's own wall-clock training time (always recorded). */
  wallSeconds?: number;
}

function num(x: unknown): number | undefined {
  return typeof x === "number" && Number.isFinite(x) ? x : undefined;
}

/** The teacher run of a reflow student: same data set, model, preset and seed. */
function teacherRun(results: ResultsFile, run: RunRecord, teacher: string): RunRecord | undefined {
  return results.runs.find((r) =>
    r.method === teacher && r.dataset === run.dataset && r.model === run.model &&
    r.preset === run.preset && seedOf(results, r) === seedOf(results, run)
  );
}

/**
 * The training cost of a run in the given measure: its own training, and for a reflow student
 * its teacher's cost (recursively) and the generation of the reflow pairs. Null when the run has
 * no training record or none in this measure.
 * @example
 * trainCost(results, twoRf, "cpu");
 * // { seconds: 31.2, stderr: 0.6, parts: [{ what: "own training", ... }, { what: "teacher 1-RF", ... },
 * //   { what: "reflow pairs", ... }], missing: [] }
 */
export function trainCost(
  results: ResultsFile,
  run: RunRecord,
  measure: CostMeasure,
  seen: Set<string> = new Set(),
): TrainCost | null {
  const own = measure === "cpu" ? num(run.train?.cpuSeconds) : num(run.train?.seconds);
  if (own === undefined) return null;
  const parts: CostPart[] = [{
    what: "own training",
    seconds: own,
    stderr: measure === "cpu" ? num(run.train?.cpuStderr) : undefined,
  }];
  const missing: string[] = [];
  const teacher = results.methods.find((m) => m.label === run.method)?.teacher;
  if (teacher && !seen.has(run.id)) {
    seen.add(run.id);
    const t = teacherRun(results, run, teacher);
    const tc = t ? trainCost(results, t, measure, seen) : null;
    if (tc) {
      parts.push({ what: `teacher ${teacher}`, seconds: tc.seconds, stderr: tc.stderr });
      missing.push(...tc.missing);
    } else missing.push(`teacher ${teacher}'s training`);
    const reflow = run.provenance?.reflow as Record<string, unknown> | undefined;
    const pairs = measure === "cpu" ? num(reflow?.cpuSeconds) : num(reflow?.seconds);
    // Pair generation is timed once: its measurement has no spread of its own.
    if (pairs !== undefined) parts.push({ what: "reflow pairs", seconds: pairs, stderr: 0 });
    else missing.push("reflow pair generation");
  }
  const seconds = parts.reduce((a, p) => a + p.seconds, 0);
  const known = parts.every((p) => p.stderr !== undefined) && missing.length === 0;
  return {
    seconds,
    ...(known ? { stderr: Math.hypot(...parts.map((p) => p.stderr!)) } : {}),
    parts,
    missing,
    ...(num(run.train?.seconds) !== undefined ? { wallSeconds: run.train!.seconds! } : {}),
  };
}
