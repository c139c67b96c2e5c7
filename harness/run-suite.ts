// Run a suite: plan the grid, then for each run train once and evaluate with every solver,
// persisting every finished piece to results.json at once (durably), resuming partial runs and
// reusing complete ones, and stopping cleanly at a safe point when asked to.
import type { ResultsFile } from "../results/schema.ts";
import { writeResults } from "../results/write.ts";
import { buildManifest } from "./manifest.ts";
import { heldOutScores } from "./metric-quality.ts";
import { selectedMetrics } from "./metric-select.ts";
import { planRuns, runHash } from "./plan.ts";
import { pick } from "./registry.ts";
import { earlierSessions, openResultsFile, sessionTime } from "./results-file.ts";
import { heldOutPreview, type RunContext, runOne } from "./run.ts";
import { isCancelled, throwIfStopped } from "./stop.ts";
import { Teachers } from "./teachers.ts";
import { type RunSuiteOptions, SuiteInterrupted } from "./run-options.ts";

export { type RunSuiteOptions, SuiteInterrupted };

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
  if (o.jobs && o.jobs.count > 1) {
    const { runParallel } = await import("./parallel/pool.ts");
    return await runParallel({ ...o, jobs: o.jobs });
  }
  const log = o.display?.log ?? ((l: string) => console.error(l));
  const { config: cfg, registry: reg } = o;
  const started = performance.now();
  const manifest = await buildManifest({
    backend: o.backend,
    config: cfg,
    argv: o.argv ?? [],
  });
  const runs = planRuns(cfg, o.shard);
  const hashes = new Map(runs.map((r) => [r.id, runHash(cfg, r)]));
  // Records of this plan with this config are kept (complete, partial or failed) until replaced.
  const { header: results, kept: records, previous } = await openResultsFile({
    ...o,
    manifest,
    planned: hashes,
    log,
  });
  const earlier = earlierSessions(previous, manifest);
  const save = async () => {
    results.runs = runs.flatMap((r) => records.get(r.id) ?? []);
    Object.assign(results.manifest, sessionTime(earlier, started));
    await writeResults(o.outDir, results);
    o.onSaved?.(results);
  };
  const adaptive = pick(reg.solvers, { kind: "solver", name: cfg.adaptiveSolver });
  const ctx: RunContext = {
    suite: o.suite,
    config: cfg,
    registry: reg,
    outDir: o.outDir,
    log,
    plans: cfg.solvers.map((s) => ({
      solver: pick(reg.solvers, { kind: "solver", name: s.name }),
      settings: s.settings,
    })),
    adaptive,
    teachers: new Teachers(o.outDir, cfg, adaptive, log),
    persist: (record) => {
      records.set(record.id, record);
      return save();
    },
    stop: o.stop,
    progress: o.display?.progress,
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
      if (!results.heldOut?.[run.dataset]) {
        // References compare held-out draws of the data, and the report shows held-out points
        // beside the samples; the first seed's draw stands for all.
        const data = await o.suite.load({ dataset: run.dataset, config: cfg, seed: cfg.seeds[0] });
        const figures = o.suite.referenceFigures?.({ data, config: cfg, seed: cfg.seeds[0] });
        if (o.suite.referencePair || figures) {
          results.references = {
            ...results.references,
            [run.dataset]: {
              ...await heldOutScores({
                suite: o.suite,
                metrics: selectedMetrics(reg, o.suite, cfg),
                data,
                config: cfg,
                seed: cfg.seeds[0],
              }),
              ...figures,
            },
          };
        }
        results.heldOut = { ...results.heldOut, [run.dataset]: await heldOutPreview(data) };
      }
      const prior = records.get(run.id);
      if (prior?.status === "ok") {
        // A finished teacher is reused only if its reflow pairs are still on disk.
        const restored = !ctx.teachers.isTeacher(run) ||
          await ctx.teachers.restore(
            run,
            hash,
            (await o.suite.load({ dataset: run.dataset, config: cfg, seed: run.seed })).shape,
          );
        if (restored) {
          log(`${label}: complete in ${o.outDir}, skipped (resume)`);
          continue;
        }
        log(`${label}: its reflow pairs are missing; running it again`);
      }
      const partial = prior?.status === "partial" ? prior : undefined;
      if (partial) log(`${label}: resuming its partial record`);
      during = label;
      await runOne(ctx, { run, hash, label, partial });
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
