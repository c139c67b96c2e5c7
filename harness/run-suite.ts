// Run a suite: plan the grid, then for each run train once and evaluate with every solver,
// writing results.json after each run (partial results survive) and reusing finished runs.
import { readResultsForResume, writeResults } from "../results/io.ts";
import { RESULTS_SCHEMA, type ResultsFile, type RunRecord } from "../results/schema.ts";
import type { BackendInfo } from "./backend/select.ts";
import { buildManifest } from "./manifest.ts";
import { planRuns, runHash, type Shard } from "./plan.ts";
import { pick, type Registry } from "./registry.ts";
import { type RunContext, runOne } from "./run.ts";
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
}

/**
 * Run (or resume) a suite into outDir and return the final results; results.json is rewritten
 * after every run. Rendering the report is the caller's job (see reports/render.ts).
 * @example
 * const results = await runSuite({ suite, config, registry, backend, outDir: "runs/x" });
 */
export async function runSuite(o: RunSuiteOptions): Promise<ResultsFile> {
  const log = o.log ?? ((l: string) => console.error(l));
  const { config: cfg, registry: reg } = o;
  const started = performance.now();
  const manifest = await buildManifest(
    o.backend,
    cfg.seed,
    cfg as unknown as Record<string, unknown>,
    o.argv ?? [],
  );
  const resultsFile = `${o.outDir}/results.json`;
  const previous = await readResultsForResume(resultsFile, log);
  const reusable = new Map<string, RunRecord>();
  if (previous) {
    if (previous.manifest.configHash !== manifest.configHash) {
      log(
        `resume: ${o.outDir} holds a run with a different config; only identical runs are reused`,
      );
    }
    for (const r of previous.runs) if (r.status === "ok") reusable.set(r.id, r);
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
  const runs = planRuns(cfg, o.shard);
  const planned = new Set(runs.map((r) => r.id));
  if (previous?.runs.some((r) => !planned.has(r.id))) {
    // This run will not rewrite every earlier record: keep the earlier file instead of losing them.
    const backup = `${o.outDir}/results.before-${manifest.startedAt.replace(/[:.]/g, "-")}.json`;
    await Deno.copyFile(resultsFile, backup);
    log(`resume: ${resultsFile} has runs outside this plan; kept a copy at ${backup}`);
  }
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
  };
  log(
    `fmbench ${cfg.suite}: ${runs.length} runs on ${o.backend.backend} (${o.backend.device}) -> ${o.outDir}`,
  );
  for (const [i, run] of runs.entries()) {
    const hash = runHash(cfg, run);
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
    const prior = reusable.get(run.id);
    if (prior && prior.configHash === hash) {
      // A finished teacher is reused only if its reflow pairs are still on disk.
      const restored = !ctx.teachers.isTeacher(run) ||
        await ctx.teachers.restore(run, hash, (await o.suite.load(run.dataset, cfg)).shape);
      if (restored) {
        results.runs.push(prior);
        log(`${label}: complete in ${o.outDir}, skipped (resume)`);
        continue;
      }
    }
    results.runs.push(await runOne(ctx, run, hash, label));
    results.manifest.wallSeconds = (performance.now() - started) / 1000;
    await writeResults(o.outDir, results);
  }
  results.manifest.finishedAt = new Date().toISOString();
  results.manifest.wallSeconds = (performance.now() - started) / 1000;
  await writeResults(o.outDir, results);
  return results;
}
