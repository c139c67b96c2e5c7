// --jobs N|auto: the grid in N workers at once. The plan's groups (a method and its reflow
// students, per seed, data set and model) become shards; each worker (a Web Worker with its own
// tfjs instance) takes the next shard when it finishes one, writing it under <out>/shards/; the
// parent merges them into one results.json (reports/merge.ts), also after Ctrl-C.
import { copy } from "./jobs-files.ts";
import { JobsDisplay } from "./jobs-display.ts";
import type { FromWorker, ToWorker } from "./jobs-worker.ts";
import type { BackendInfo } from "../harness/backend/select.ts";
import { buildManifest } from "../harness/manifest.ts";
import { planGroups } from "../harness/plan.ts";
import { removeStaleTemps } from "../harness/store/atomic.ts";
import { budgetRecord, SUITES } from "../harness/suites/mod.ts";
import type { SuiteConfig } from "../harness/suites/types.ts";
import { keepEarlierResults, readResults, readResultsForResume } from "../results/io.ts";
import { writeResults } from "../harness/run-suite.ts";
import { RESULTS_SCHEMA, type ResultsFile } from "../results/schema.ts";
import type { Registry } from "../harness/registry.ts";
import type { StopRequest } from "../harness/stop.ts";
import { mergeResults } from "../reports/merge.ts";

/** Memory a worker may need: the MLP suites are small; a U-Net's wasm heap grows to GBs. */
const WORKER_BYTES = { vector: 0.75 * 2 ** 30, image: 3 * 2 ** 30 };

/**
 * Bytes of memory available to new processes (Linux /proc/meminfo), or undefined.
 * @example
 * availableMemory(); // 121345245184 on Linux; undefined where /proc/meminfo is unreadable
 */
export function availableMemory(): number | undefined {
  try {
    const info = Deno.readTextFileSync("/proc/meminfo");
    const m = /MemAvailable:\s+(\d+) kB/.exec(info);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** How many workers a run uses, and why. */
export interface JobsChoice {
  jobs: number;
  why: string;
}

/**
 * Resolve --jobs: "auto" (the default) is the number of cores, fewer if memory is short, on CPU
 * backends, and 1 on a GPU backend (one device: workers would compete for its memory and
 * queue); never more workers than independent groups of runs.
 * @example
 * resolveJobs("auto", "wasm", "vector", 21, { cores: 2, memory: 8 * 2 ** 30 }); // { jobs: 2, ... }
 */
export function resolveJobs(
  flag: string | undefined,
  backend: string,
  kind: "vector" | "image",
  groups: number,
  machine: { cores?: number; memory?: number } = {},
): JobsChoice {
  const cores = machine.cores ?? navigator.hardwareConcurrency ?? 1;
  const memory = "memory" in machine ? machine.memory : availableMemory();
  const gpu = backend === "webgpu" || backend === "tensorflow";
  let jobs: number, why: string;
  if (flag === undefined || flag === "auto") {
    if (gpu) {
      jobs = 1;
      why = `auto: 1 on the ${backend} backend (one GPU; workers would compete for it)`;
    } else {
      const byMemory = memory === undefined
        ? Infinity
        : Math.max(1, Math.floor(memory / WORKER_BYTES[kind]));
      jobs = Math.min(cores, byMemory);
      why = `auto: ${cores} core(s)` +
        (byMemory < cores
          ? `, memory for ${byMemory} (${(memory! / 2 ** 30).toFixed(1)} GiB available, ` +
            `~${(WORKER_BYTES[kind] / 2 ** 30).toFixed(2)} GiB per worker)`
          : "");
    }
  } else {
    jobs = Number(flag);
    why = `--jobs ${flag}`;
  }
  if (jobs > groups) {
    why += `; ${groups} independent group(s) of runs, so ${groups} worker(s)`;
    jobs = groups;
  }
  return { jobs: Math.max(1, jobs), why };
}

/**
 * Where shard `index` of `count` of a --jobs run lives.
 * @example
 * shardDir("runs/x", 1, 4); // "runs/x/shards/shard-1-of-4"
 */
export function shardDir(outDir: string, index: number, count: number): string {
  return `${outDir}/shards/shard-${index}-of-${count}`;
}

export interface JobsInput {
  config: SuiteConfig;
  registry: Registry;
  /** Plugin roots (built-in first), for the workers' own discovery. */
  roots: URL[];
  backend: BackendInfo;
  outDir: string;
  jobs: number;
  argv: string[];
  /** Where the choice of N came from, for the manifest. */
  why: string;
  /** A stop request (Ctrl-C through cli/signals.ts): every worker stops at its next safe point. */
  stop?: StopRequest;
}

/** The outcome: the merged results and whether Ctrl-C cut the run short. */
export interface JobsOutcome {
  results: ResultsFile;
  interrupted: boolean;
}

/**
 * A resumed --jobs run whose shard has no results yet may still find its runs in <out>/results.json
 * (an earlier run with other --jobs): copy them, and their reflow pairs, into the shard folder.
 */
async function seedShard(top: ResultsFile | null, outDir: string, dir: string, ids: Set<string>) {
  if (!top) return;
  try {
    await Deno.stat(`${dir}/results.json`);
    return;
  } catch {
    // no results in the shard yet
  }
  const runs = top.runs.filter((r) => ids.has(r.id));
  if (!runs.length) return;
  await writeResults(dir, { ...top, shard: undefined, runs });
  for (const id of ids) {
    for (const ext of [".f32", ".json"]) {
      await copy(`${outDir}/reflow/${id}${ext}`, `${dir}/reflow/${id}${ext}`);
    }
  }
}

/**
 * Run the grid in `jobs` workers and merge the shards into <out>/results.json (and the reflow
 * pairs into <out>/reflow/). A stop request reaches every worker through shared memory, which
 * each reads at its safe points (within a training or solver step): they save what they have and
 * end; the shards are merged all the same, so the results stay valid and a re-run resumes.
 * @example
 * const { results } = await runJobs({ config, registry, roots, backend, outDir, jobs: 2, argv, why });
 */
export async function runJobs(o: JobsInput): Promise<JobsOutcome> {
  const started = performance.now();
  // The workers sweep their shard folders; the top level (results.json, report.html) is ours.
  for (const f of await removeStaleTemps(o.outDir)) {
    console.error(`resume: removed ${f}, a temporary file left by an interrupted write`);
  }
  const groups = planGroups(o.config);
  const count = groups.length;
  const manifest = await buildManifest(
    { ...o.backend, notes: [...o.backend.notes, `--jobs ${o.jobs} (${o.why}): ${count} shards`] },
    o.config.seed,
    o.config as unknown as Record<string, unknown>,
    o.argv,
  );
  const top = await readResultsForResume(`${o.outDir}/results.json`, (l) => console.error(l));
  const planned = new Set(groups.flat().map((r) => r.id));
  if (top?.runs.some((r) => !planned.has(r.id))) {
    // The merged file will hold this plan's runs only: keep the earlier file, as runSuite does.
    const backup = await keepEarlierResults(o.outDir, manifest.startedAt);
    console.error(
      `resume: ${o.outDir}/results.json has runs outside this plan; kept a copy at ${backup}`,
    );
  }
  for (const [i, g] of groups.entries()) {
    await seedShard(top, o.outDir, shardDir(o.outDir, i, count), new Set(g.map((r) => r.id)));
  }
  // Larger groups (a teacher and its reflow students) first, so they do not finish last.
  const queue = groups.map((g, i) => ({ i, n: g.length })).sort((a, b) => b.n - a.n || a.i - b.i)
    .map((x) => x.i);
  const display = new JobsDisplay(o.jobs, groups.reduce((a, g) => a + g.length, 0));
  // <out>/results.json is re-merged after every finished run, so it is valid at any moment,
  // even if this process is killed (deno task may kill its child soon after a Ctrl-C).
  let merging: Promise<ResultsFile | undefined> = Promise.resolve(undefined);
  const merge = (final: boolean) => {
    merging = merging.then(() =>
      mergeShards(o, manifest, count, started, final && !interrupted).catch((e) => {
        display.log(0, `warning: merging the shards failed: ${(e as Error).message}`);
        return undefined;
      })
    );
    return merging;
  };
  const workers: Worker[] = [];
  let interrupted = false;
  let live = o.jobs;
  let finishAll!: () => void;
  const allDone = new Promise<void>((resolve) => (finishAll = resolve));
  // The workers' stop flag: shared memory they read synchronously, set when o.stop is.
  const stopFlag = new SharedArrayBuffer(4);
  const poll = setInterval(() => {
    if (!o.stop?.aborted || interrupted) return;
    interrupted = true;
    Atomics.store(new Int32Array(stopFlag), 0, 1);
    display.log(0, "stop requested: every worker stops at its next safe point and saves");
  }, 100);
  const next = (k: number) => {
    const shard = queue.shift();
    if (shard === undefined || interrupted) {
      workers[k].postMessage({ type: "exit" } satisfies ToWorker);
      display.status(k, "done");
      if (--live === 0) finishAll();
      return;
    }
    display.status(k, `shard ${shard + 1}/${count}: starting`);
    workers[k].postMessage(
      { type: "run", shard, outDir: shardDir(o.outDir, shard, count) } satisfies ToWorker,
    );
  };
  for (let k = 0; k < o.jobs; k++) {
    const w = new Worker(new URL("./jobs-worker.ts", import.meta.url).href, { type: "module" });
    workers.push(w);
    w.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === "ready") next(k);
      else if (m.type === "log") display.log(k, m.line);
      else if (m.type === "interrupted") {
        display.status(k, `stopped${m.during ? ` during ${m.during}` : ""}`);
        if (--live === 0) finishAll();
      } else if (m.type === "saved") merge(false);
      else if (m.type === "progress") display.progress(k, m.label, m.p);
      else if (m.type === "trained") {
        display.log(k, `${m.label} ${m.summary}`);
        display.status(k, `${m.label}: evaluating`);
      } else if (m.type === "done") next(k);
      else if (m.type === "error") {
        display.log(
          k,
          `worker error${m.shard !== undefined ? ` in shard ${m.shard}` : ""}: ${m.message}`,
        );
        if (m.shard !== undefined) next(k);
        else if (--live === 0) finishAll();
      }
    };
    w.onerror = (e) => {
      e.preventDefault();
      display.log(k, `worker crashed: ${e.message}`);
      if (--live === 0) finishAll();
    };
    w.postMessage(
      {
        type: "init",
        config: o.config,
        roots: o.roots.map((r) => r.href),
        backend: o.backend.backend,
        argv: o.argv,
        count,
        stopFlag,
      } satisfies ToWorker,
    );
  }
  await allDone;
  clearInterval(poll);
  for (const w of workers) w.terminate();
  display.finish();
  const results = await merge(true) ??
    await mergeShards(o, manifest, count, started, !interrupted);
  return { results, interrupted };
}

/** Merge whatever shard results exist into <out>/results.json, with the parent's manifest. */
async function mergeShards(
  o: JobsInput,
  manifest: ResultsFile["manifest"],
  count: number,
  started: number,
  finished: boolean,
): Promise<ResultsFile> {
  const files: ResultsFile[] = [];
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const dir = shardDir(o.outDir, i, count);
    try {
      files.push(await readResults(dir));
      names.push(`${dir}/results.json`);
    } catch {
      continue; // this shard never started (or was cut off before its first run)
    }
    try {
      for await (const f of Deno.readDir(`${dir}/reflow`)) {
        if (f.isFile) await copy(`${dir}/reflow/${f.name}`, `${o.outDir}/reflow/${f.name}`);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const complete = finished && files.length === count;
  const base: ResultsFile = files.length ? mergeResults(files, { names, allowMissing: true }) : {
    schema: RESULTS_SCHEMA,
    suite: o.config.suite,
    manifest,
    plugins: { loaded: o.registry.entries, failures: o.registry.failures },
    methods: o.config.methods,
    headline: { ...SUITES[o.config.suite].headline, adaptiveSolver: o.config.adaptiveSolver },
    budget: budgetRecord(SUITES[o.config.suite], o.config.data.budget),
    runs: [],
  };
  const mergedFrom = base.manifest.mergedFrom;
  const results: ResultsFile = {
    ...base,
    manifest: {
      ...manifest,
      ...(mergedFrom ? { mergedFrom } : {}),
      wallSeconds,
      ...(complete ? { finishedAt: new Date().toISOString() } : {}),
    },
  };
  await writeResults(o.outDir, results);
  return results;
}
