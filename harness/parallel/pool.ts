// The engine's parallel path (runSuite with jobs > 1): the plan's groups (a method and its reflow
// students, per seed, data set and model) become shards; each worker (a Web Worker with its own
// tfjs instance) takes the next shard when it finishes one, writing it under
// <out>/shards/<group>/ (shard-folders.ts), and the shards are merged into one results.json after
// every finished run, also after Ctrl-C.
import type { FromWorker, ToWorker } from "./messages.ts";
import { activeThreads } from "../../backend/threads.ts";
import { buildManifest } from "../manifest.ts";
import { planGroups, runHash } from "../plan.ts";
import type { ProgressSink, SuiteDisplay } from "../progress.ts";
import {
  type EarlierSessions,
  earlierSessions,
  openResultsFile,
  resultsHeader,
  sessionTime,
} from "../results-file.ts";
import { type RunSuiteOptions, SuiteInterrupted } from "../run-options.ts";
import { readResults } from "../../results/io.ts";
import { mergeResults } from "../../results/merge.ts";
import type { ResultsFile } from "../../results/schema.ts";
import { writeResults } from "../../results/write.ts";
import { copy } from "../../store/copy.ts";
import { groupKey, prepareShardFolders, shardDir } from "./shard-folders.ts";

export { groupKey, shardDir };

/** runSuite's options with the worker pool set. */
export type ParallelInput = RunSuiteOptions & { jobs: NonNullable<RunSuiteOptions["jobs"]> };

/** The default display of a parallel run: every line on stderr, prefixed by its worker. */
function plainDisplay(): SuiteDisplay {
  return { log: (line, worker) => console.error(`[w${(worker ?? 0) + 1}] ${line}`) };
}

/**
 * Run the grid in `o.jobs.count` workers and merge the shards into <out>/results.json (and the
 * reflow pairs into <out>/reflow/); runSuite calls it when jobs > 1. A stop request reaches every
 * worker through shared memory, which each reads at its safe points (within a training or solver
 * step): they save what they have and end; the shards are merged all the same, so the results
 * stay valid and a re-run resumes. Throws SuiteInterrupted after a stop, as the serial path does.
 * @example
 * const results = await runParallel({ suite, config, registry, backend, outDir,
 *   jobs: { count: 2, why: "auto: 2 cores", roots: [BUILTIN_PLUGINS] } });
 */
export async function runParallel(o: ParallelInput): Promise<ResultsFile> {
  const started = performance.now();
  const display = o.display ?? plainDisplay();
  const log = (line: string) => display.log(line, 0);
  const groups = planGroups(o.config);
  const count = groups.length;
  const manifest = await buildManifest({
    backend: o.backend,
    config: o.config,
    argv: o.argv ?? [],
    notes: [`--jobs ${o.jobs.count} (${o.jobs.why}): ${count} shards`],
  });
  // The workers sweep their shard folders; the top level (results.json, report.html) is ours.
  const planned = new Map(groups.flat().map((r) => [r.id, runHash(o.config, r)]));
  const { previous, header } = await openResultsFile({ ...o, manifest, planned, log });
  // Each group's folder (shards/<its first run>) agrees with this plan before any worker starts,
  // so that the shards merge at every moment, also when the grid has grown since the last run.
  await prepareShardFolders({ outDir: o.outDir, groups, planned, header, top: previous, log });
  const keys = groups.map(groupKey);
  // Larger groups (a teacher and its reflow students) first, so they do not finish last.
  const queue = groups.map((g, i) => ({ i, n: g.length })).sort((a, b) => b.n - a.n || a.i - b.i)
    .map((x) => x.i);
  const mergeInput: MergeInput = {
    o,
    manifest,
    keys,
    started,
    earlier: earlierSessions(previous, manifest),
  };
  // <out>/results.json is re-merged after every finished run, so it is valid at any moment,
  // even if this process is killed (deno task may kill its child soon after a Ctrl-C).
  let merging: Promise<ResultsFile | undefined> = Promise.resolve(undefined);
  const merge = (final: boolean) => {
    merging = merging.then(() =>
      mergeShards({ ...mergeInput, finished: final && !interrupted }).then((r) => {
        o.onSaved?.(r);
        return r;
      }).catch((e) => {
        log(`warning: merging the shards failed: ${(e as Error).message}`);
        return undefined;
      })
    );
    return merging;
  };
  const workers: Worker[] = [];
  const sinks = new Map<number, ProgressSink>();
  const sinkOf = (k: number, label: string) => {
    let sink = sinks.get(k);
    if (!sink) {
      sink = display.progress?.(label, k) ?? { update() {}, done: (s) => display.log(s, k) };
      sinks.set(k, sink);
    }
    return sink;
  };
  let interrupted = false;
  let live = o.jobs.count;
  let finishAll!: () => void;
  const allDone = new Promise<void>((resolve) => (finishAll = resolve));
  // The workers' stop flag: shared memory they read synchronously, set when o.stop is.
  const stopFlag = new SharedArrayBuffer(4);
  const poll = setInterval(() => {
    if (!o.stop?.aborted || interrupted) return;
    interrupted = true;
    Atomics.store(new Int32Array(stopFlag), 0, 1);
    log("stop requested: every worker stops at its next safe point and saves");
  }, 100);
  const next = (k: number) => {
    const shard = queue.shift();
    if (shard === undefined || interrupted) {
      workers[k].postMessage({ type: "exit" } satisfies ToWorker);
      display.status?.(k, "done");
      if (--live === 0) finishAll();
      return;
    }
    display.status?.(k, `shard ${shard + 1}/${count}: starting`);
    workers[k].postMessage(
      {
        type: "run",
        shard,
        outDir: shardDir(o.outDir, keys[shard]),
      } satisfies ToWorker,
    );
  };
  for (let k = 0; k < o.jobs.count; k++) {
    const w = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
    workers.push(w);
    w.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === "ready") next(k);
      else if (m.type === "log") display.log(m.line, k);
      else if (m.type === "interrupted") {
        display.status?.(k, `stopped${m.during ? ` during ${m.during}` : ""}`);
        if (--live === 0) finishAll();
      } else if (m.type === "saved") merge(false);
      else if (m.type === "progress") sinkOf(k, m.label).update(m.p);
      else if (m.type === "trained") {
        sinkOf(k, m.label).done(m.summary);
        sinks.delete(k);
      } else if (m.type === "done") next(k);
      else if (m.type === "error") {
        display.log(
          `worker error${m.shard !== undefined ? ` in shard ${m.shard}` : ""}: ${m.message}`,
          k,
        );
        if (m.shard !== undefined) next(k);
        else if (--live === 0) finishAll();
      }
    };
    w.onerror = (e) => {
      e.preventDefault();
      display.log(`worker crashed: ${e.message}`, k);
      if (--live === 0) finishAll();
    };
    w.postMessage(
      {
        type: "init",
        config: o.config,
        roots: o.jobs.roots.map((r) => r.href),
        backend: o.backend.backend,
        threads: { threads: o.backend.threads ?? 1, why: o.backend.threadsWhy ?? "default" },
        native: activeThreads() !== undefined,
        argv: o.argv ?? [],
        count,
        stopFlag,
      } satisfies ToWorker,
    );
  }
  await allDone;
  clearInterval(poll);
  for (const w of workers) w.terminate();
  display.finish?.();
  const results = await merge(true) ?? await mergeShards({ ...mergeInput, finished: !interrupted });
  if (interrupted) throw new SuiteInterrupted(results, undefined, o.jobs.count);
  return results;
}

/** What merging the shards needs. */
interface MergeInput {
  o: ParallelInput;
  manifest: ResultsFile["manifest"];
  /** The groups' folder names, in shard order. */
  keys: string[];
  started: number;
  /** Elapsed time of earlier sessions in this folder (summed into wallSeconds). */
  earlier: EarlierSessions;
}

/**
 * Merge whatever shard results exist into <out>/results.json, with the parent's manifest. A file
 * of another plan or config (none, once prepareShardFolders has run) is left out, not an error.
 */
async function mergeShards(
  { o, manifest, keys, started, earlier, finished }: MergeInput & { finished: boolean },
): Promise<ResultsFile> {
  const files: ResultsFile[] = [];
  const names: string[] = [];
  const count = keys.length;
  for (const [i, key] of keys.entries()) {
    const dir = shardDir(o.outDir, key);
    let file: ResultsFile;
    try {
      file = await readResults(dir);
    } catch {
      continue; // this shard never started (or was cut off before its first run)
    }
    const ours = file.shard?.index === i && file.shard.count === count &&
      file.manifest.configHash === manifest.configHash;
    if (!ours) continue;
    files.push(file);
    names.push(`${dir}/results.json`);
    try {
      for await (const f of Deno.readDir(`${dir}/reflow`)) {
        if (f.isFile) await copy(`${dir}/reflow/${f.name}`, `${o.outDir}/reflow/${f.name}`);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const complete = finished && files.length === count;
  // The shards of one run: a commit made while it ran (each shard reads HEAD when it starts) is
  // recorded per shard in mergedFrom, not a reason to stop merging.
  const base: ResultsFile = files.length
    ? mergeResults(files, { names, allowMissing: true, allowMixedCommits: true })
    : resultsHeader({ ...o, manifest });
  const { mergedFrom, shardSeconds } = base.manifest;
  const results: ResultsFile = {
    ...base,
    manifest: {
      ...manifest,
      ...(mergedFrom ? { mergedFrom } : {}),
      ...(shardSeconds !== undefined ? { shardSeconds } : {}),
      // Elapsed time (the shards ran side by side), summed over this folder's sessions.
      ...sessionTime(earlier, started),
      ...(complete ? { finishedAt: new Date().toISOString() } : {}),
    },
  };
  await writeResults(o.outDir, results);
  return results;
}
