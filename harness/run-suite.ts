// Run a suite: plan the grid, then for each run train once and evaluate with every solver,
// persisting every finished piece to results.json at once (durably), resuming partial runs and
// reusing complete ones, and stopping cleanly at a safe point when asked to.
import { keepEarlierResults, readResultsForResume } from "../results/io.ts";
import { RESULTS_SCHEMA, type ResultsFile, type RunRecord } from "../results/schema.ts";
import type { BackendInfo } from "../backend/select.ts";
import type { ProgressSink } from "./progress.ts";
import { buildManifest } from "./manifest.ts";
import { planRuns, runHash, type Shard } from "./plan.ts";
import { pick, type Registry } from "./registry.ts";
import { type RunContext, runOne } from "./run.ts";
import { removeStaleTemps, writeFileAtomic } from "../store/atomic.ts";
import { isCancelled, type StopRequest, throwIfStopped } from "./stop.ts";
import { budgetRecord } from "./suites/mod.ts";
import type { SuiteConfig, SuiteDef } from "./suites/types.ts";
import { Teachers } from "./teachers.ts";

export interface RunSuiteOptions {
  suite: SuiteDef;
  config: SuiteConfig;
  registry: Registry;
  backend: BackendInfo;
  outDir: string;
  shard?: Shard;
  argv?: string[];
  log?: (line: string) => void;
  /** A stop request (Ctrl-C): honoured at the next safe point, then SuiteInterrupted is thrown. */
  stop?: StopRequest;
  /** Progress display of one training run (default: a bar on a terminal, else plain lines). */
  progress?: (label: string) => ProgressSink;
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
  ) {
    super(`interrupted${during ? ` during ${during}` : ""}`);
    this.name = "SuiteInterrupted";
  }
}

/**
 * Write results.json durably (temporary file, fsync, rename).
 * @example
 * await writeResults("runs/x", results); // "runs/x/results.json"
 */
export async function writeResults(dir: string, results: ResultsFile): Promise<string> {
  const file = `${dir}/results.json`;
  await writeFileAtomic(file, JSON.stringify(results, null, 1), { tracePhase: "write-results" });
  return file;
}

/** Remove checkpoints/ and weights/ when nothing is left in them. */
async function removeEmptyFolders(outDir: string): Promise<void> {
  for (const sub of ["checkpoints", "weights"]) {
    await Deno.remove(`${outDir}/${sub}`).catch(() => {}); // fails (and is kept) unless empty
  }
}

/**
 * Run (or resume) a suite into outDir and return the final results. Every finished piece of a
 * run (training, each solver setting, each NLL estimator, straightness) is written to
 * results.json at once, as a "partial" record until the run is complete; re-running into the
 * same folder does only what is missing. Rendering the report is the caller's job.
 * Throws SuiteInterrupted (after saving) when `stop` is set.
 * @example
 * const results = await runSuite({ suite, config, registry, backend, outDir: "runs/x" });
 */
export async function runSuite(o: RunSuiteOptions): Promise<ResultsFile> {
  const log = o.log ?? ((l: string) => console.error(l));
  const { config: cfg, registry: reg } = o;
  const started = performance.now();
  for (const f of await removeStaleTemps(o.outDir)) {
    log(`resume: removed ${f}, a temporary file left by an interrupted write`);
  }
  const manifest = await buildManifest(
    o.backend,
    cfg.seed,
    cfg as unknown as Record<string, unknown>,
    o.argv ?? [],
  );
  const resultsFile = `${o.outDir}/results.json`;
  const previous = await readResultsForResume(resultsFile, log);
  const runs = planRuns(cfg, o.shard);
  const hashes = new Map(runs.map((r) => [r.id, runHash(cfg, r)]));
  // Records of this plan with this config are kept (complete, partial or failed) until replaced.
  const records = new Map<string, RunRecord>();
  for (const r of previous?.runs ?? []) {
    if (hashes.get(r.id) === r.configHash) records.set(r.id, r);
  }
  if (previous && records.size < previous.runs.length) {
    if (previous.manifest.configHash !== manifest.configHash) {
      log(
        `resume: ${o.outDir} holds a run with a different config; only identical runs are reused`,
      );
    }
    // This run will not rewrite every earlier record: keep the earlier file instead of losing them.
    const backup = await keepEarlierResults(o.outDir, manifest.startedAt);
    log(`resume: ${resultsFile} has runs outside this plan or config; kept a copy at ${backup}`);
  }
  const results: ResultsFile = {
    schema: RESULTS_SCHEMA,
    suite: cfg.suite,
    shard: o.shard,
    manifest,
    plugins: { loaded: reg.entries, failures: reg.failures },
    methods: cfg.methods,
    headline: { ...o.suite.headline, adaptiveSolver: cfg.adaptiveSolver },
    budget: budgetRecord(o.suite, cfg.data.budget),
    runs: [],
  };
  const save = async () => {
    results.runs = runs.flatMap((r) => records.get(r.id) ?? []);
    results.manifest.wallSeconds = (performance.now() - started) / 1000;
    await writeResults(o.outDir, results);
    o.onSaved?.(results);
  };
  const adaptive = pick(reg.solvers, "solver", cfg.adaptiveSolver);
  const ctx: RunContext = {
    suite: o.suite,
    config: cfg,
    registry: reg,
    outDir: o.outDir,
    log,
    plans: cfg.solvers.map((s) => ({
      solver: pick(reg.solvers, "solver", s.name),
      settings: s.settings,
    })),
    adaptive,
    teachers: new Teachers(o.outDir, cfg, adaptive),
    persist: (record) => {
      records.set(record.id, record);
      return save();
    },
    stop: o.stop,
    progress: o.progress,
  };
  log(
    `fmbench ${cfg.suite}: ${runs.length} runs on ${o.backend.backend} (${o.backend.device}) -> ${o.outDir}`,
  );
  let during: string | undefined;
  try {
    for (const [i, run] of runs.entries()) {
      throwIfStopped(o.stop);
      const hash = hashes.get(run.id)!;
      const label = `[${
        i + 1
      }/${runs.length}] ${run.dataset} · ${run.method.label} · ${run.model.name}`;
      if (o.suite.reference && !results.references?.[run.dataset]) {
        const data = await o.suite.load(run.dataset, cfg);
        results.references = {
          ...results.references,
          [run.dataset]: await o.suite.reference(data, cfg),
        };
      }
      const prior = records.get(run.id);
      if (prior?.status === "ok") {
        // A finished teacher is reused only if its reflow pairs are still on disk.
        const restored = !ctx.teachers.isTeacher(run) ||
          await ctx.teachers.restore(run, hash, (await o.suite.load(run.dataset, cfg)).shape);
        if (restored) {
          log(`${label}: complete in ${o.outDir}, skipped (resume)`);
          continue;
        }
        log(`${label}: its reflow pairs are missing; running it again`);
      }
      const partial = prior?.status === "partial" ? prior : undefined;
      if (partial) log(`${label}: resuming its partial record`);
      during = label;
      await runOne(ctx, run, hash, label, partial);
      during = undefined;
    }
  } catch (e) {
    if (!isCancelled(e)) throw e;
    await save();
    await removeEmptyFolders(o.outDir);
    throw new SuiteInterrupted(results, during);
  }
  results.manifest.finishedAt = new Date().toISOString();
  await save();
  await removeEmptyFolders(o.outDir);
  return results;
}
