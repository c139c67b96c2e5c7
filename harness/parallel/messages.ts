// The messages between the parallel engine's parent and its workers.
import type { TrainProgress } from "../train.ts";
import type { SuiteConfig } from "../suites/types.ts";

/** Messages from the parent. */
export type ToWorker =
  | {
    type: "init";
    config: SuiteConfig;
    /** Plugin roots as URLs (built-in first). */
    roots: string[];
    backend: string;
    /** The native kernels' threads per worker, and why (as the parent chose them). */
    threads: { threads: number; why: string };
    /** Whether the parent uses the native kernels (it checked them; workers need not). */
    native: boolean;
    argv: string[];
    /** Total shards of the grid. */
    count: number;
    /** An Int32 stop flag the parent sets; read at every safe point. */
    stopFlag: SharedArrayBuffer;
  }
  | { type: "run"; shard: number; outDir: string }
  | { type: "exit" };

/** Messages to the parent. */
export type FromWorker =
  | { type: "ready"; backend: string; device: string; notes: string[] }
  | { type: "log"; line: string }
  | { type: "progress"; label: string; p: TrainProgress }
  | { type: "trained"; label: string; summary: string }
  | { type: "saved"; shard: number }
  | { type: "done"; shard: number; ok: number; failed: number }
  | { type: "interrupted"; shard: number; during?: string }
  | { type: "error"; shard?: number; message: string };
