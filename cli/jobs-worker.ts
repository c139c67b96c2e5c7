// A --jobs worker (a Web Worker, so its own V8 isolate and tfjs instance): runs the shards of the
// grid its parent hands out, one at a time, and reports logs and progress as messages.
/// <reference lib="deno.worker" />
import { selectBackend } from "../backend/select.ts";
import { firstLine } from "../core/error-message.ts";
import type { TrainProgress } from "../harness/train.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { runSuite, SuiteInterrupted } from "../harness/run-suite.ts";
import type { StopRequest } from "../harness/stop.ts";
import { SUITES } from "../harness/suites/mod.ts";
import type { SuiteConfig } from "../harness/suites/types.ts";

/** Messages from the parent. */
export type ToWorker =
  | {
    type: "init";
    config: SuiteConfig;
    /** Plugin roots as URLs (built-in first). */
    roots: string[];
    backend: string;
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

const post = (m: FromWorker) => self.postMessage(m);
let init: Extract<ToWorker, { type: "init" }> | undefined;
let setup: Promise<void> | undefined;
// deno-lint-ignore no-explicit-any
let registry: any, backend: any;

async function prepare(m: Extract<ToWorker, { type: "init" }>): Promise<void> {
  init = m;
  const flag = new Int32Array(m.stopFlag);
  stop = {
    get aborted() {
      return Atomics.load(flag, 0) > 0;
    },
  };
  registry = await discoverPlugins(m.roots.map((r) => new URL(r)));
  backend = await selectBackend(m.backend);
  post({ type: "ready", backend: backend.backend, device: backend.device, notes: backend.notes });
}

let stop: StopRequest | undefined;

async function runShard(shard: number, outDir: string): Promise<void> {
  const m = init!;
  if (stop?.aborted) {
    post({ type: "interrupted", shard });
    return;
  }
  let results;
  try {
    results = await runShardSuite(m, shard, outDir);
  } catch (e) {
    if (!(e instanceof SuiteInterrupted)) throw e;
    post({ type: "interrupted", shard, during: e.during });
    return;
  }
  const ok = results.runs.filter((r) => r.status === "ok").length;
  post({ type: "done", shard, ok, failed: results.runs.length - ok });
}

function runShardSuite(m: Extract<ToWorker, { type: "init" }>, shard: number, outDir: string) {
  return runSuite({
    suite: SUITES[m.config.suite],
    config: m.config,
    registry,
    backend,
    outDir,
    shard: { index: shard, count: m.count },
    argv: m.argv,
    log: (line) => post({ type: "log", line }),
    onSaved: () => post({ type: "saved", shard }),
    progress: (label) => ({
      update: (p) => post({ type: "progress", label, p }),
      done: (summary) => post({ type: "trained", label, summary }),
    }),
    stop,
  });
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  try {
    if (m.type === "init") {
      setup = prepare(m);
      await setup;
    } else if (m.type === "run") {
      await setup;
      await runShard(m.shard, m.outDir);
    } else if (m.type === "exit") {
      self.close();
    }
  } catch (err) {
    post({ type: "error", shard: m.type === "run" ? m.shard : undefined, message: firstLine(err) });
  }
};
