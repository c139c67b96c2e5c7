// What runSuite takes (the serial and the parallel path alike) and what it throws after a stop.
import type { BackendInfo } from "../backend/select.ts";
import type { ResultsFile } from "../results/schema.ts";
import type { Shard } from "./plan.ts";
import type { SuiteDisplay } from "./progress.ts";
import type { Registry } from "./registry.ts";
import type { StopRequest } from "./stop.ts";
import type { SuiteConfig, SuiteDef } from "./suites/types.ts";

export interface RunSuiteOptions {
  suite: SuiteDef;
  config: SuiteConfig;
  registry: Registry;
  backend: BackendInfo;
  outDir: string;
  /** Run one slice of the plan (a shard of a --shard or --jobs run). */
  shard?: Shard;
  argv?: string[];
  /**
   * More than one worker runs the plan's independent groups in Web Workers at once (each with its
   * own tfjs), merging their shards into outDir after every finished run. `roots` are the plugin
   * folders the workers discover; `why` says where the count came from (for the manifest).
   */
  jobs?: { count: number; why: string; roots: URL[] };
  /** Where lines and progress go (default: stderr, a bar per training run on a terminal). */
  display?: SuiteDisplay;
  /** A stop request (Ctrl-C): honoured at the next safe point, then SuiteInterrupted is thrown. */
  stop?: StopRequest;
  /** Called after every write of results.json (a finished piece of a run, or the end). */
  onSaved?: (results: ResultsFile) => void;
}

/**
 * The suite stopped on request; results.json holds everything finished (see `results`).
 * @example
 * try { await runSuite(input); } catch (e) {
 *   if (e instanceof SuiteInterrupted) console.log(e.message);
 *   // "interrupted during [3/12] moons · 1-RF · mlp"
 * }
 */
export class SuiteInterrupted extends Error {
  constructor(
    /** What results.json holds now. */
    readonly results: ResultsFile,
    /** The run in progress when the stop took effect (its label), if any. */
    readonly during?: string,
    /** How many --jobs workers stopped (absent in a single process). */
    readonly workers?: number,
  ) {
    super(
      `interrupted${during ? ` during ${during}` : ""}${
        workers ? `; all ${workers} workers stopped at a safe point` : ""
      }`,
    );
    this.name = "SuiteInterrupted";
  }
}
