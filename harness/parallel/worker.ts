// A worker of the parallel engine (a Web Worker, so its own V8 isolate and tfjs instance): runs
// the shards of the grid its parent hands out, one at a time, and reports logs and progress as
// messages.
/// <reference lib="deno.worker" />
import type { FromWorker, ToWorker } from "./messages.ts";
import { selectBackend } from "../../backend/select.ts";
import { useThreads } from "../../backend/threads.ts";
import { firstLine } from "../../core/error-message.ts";
import { discoverPlugins } from "../registry.ts";
import { runSuite, SuiteInterrupted } from "../run-suite.ts";
import type { StopRequest } from "../stop.ts";
import { SUITES } from "../suites/mod.ts";

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
  // The parent checked the same native library in this process before starting the workers.
  backend = await selectBackend(m.backend, { nativeCheck: m.native ? "skip" : "off" });
  useThreads(backend, m.threads);
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
    display: {
      log: (line) => post({ type: "log", line }),
      progress: (label) => ({
        update: (p) => post({ type: "progress", label, p }),
        done: (summary) => post({ type: "trained", label, summary }),
      }),
    },
    onSaved: () => post({ type: "saved", shard }),
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
