// Run a suite: for each (data set, model, method) train once, evaluate with every solver, write
// results.json after each run (partial results survive), resume matching runs, render the report.
import type { BackendInfo } from "./backend.ts";
import { evaluateNll, evaluateSampling, type Quality, sourceNoise } from "./evaluate.ts";
import { buildManifest } from "./manifest.ts";
import { flowStraightness } from "./metrics/straightness.ts";
import { recordTrajectories } from "./trajectories.ts";
import { imageGridDataUri } from "./png.ts";
import { progressFor } from "./progress.ts";
import { pick, type Registry } from "./registry.ts";
import {
  generatePairs,
  loadPairs,
  type ReflowPairs,
  type ReflowProvenance,
  savePairs,
  teacherFrom,
} from "./reflow.ts";
import { configHash, readResults, writeResults } from "./results/io.ts";
import {
  type MethodEntry,
  RESULTS_SCHEMA,
  type ResultsFile,
  type RunRecord,
} from "./results/schema.ts";
import { subSeed } from "./rng.ts";
import type { SuiteDef } from "./suites/index.ts";
import type { SolverSetting, SuiteConfig } from "./suites/types.ts";
import { tf } from "./tf.ts";
import { train } from "./train.ts";
import type { Model, Solver, Teacher } from "./types.ts";

type TeacherWithProvenance = Teacher & { provenance: ReflowProvenance };

export interface RunSuiteOptions {
  suite: SuiteDef;
  config: SuiteConfig;
  registry: Registry;
  backend: BackendInfo;
  outDir: string;
  shard?: { index: number; count: number };
  argv?: string[];
  log?: (line: string) => void;
  /** Render report.html at the end (default true). */
  report?: boolean;
}

/** One unit of work: a method on a data set with a model. */
export interface Unit {
  dataset: string;
  model: { name: string; preset: string };
  method: MethodEntry;
  id: string;
}

/** Stable run id, safe as a file name. */
export function runId(dataset: string, method: string, model: string, preset: string): string {
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9.]+/g, "-").replace(/^-|-$/g, "");
  return `${slug(dataset)}__${slug(method)}__${slug(model)}-${slug(preset)}`;
}

/**
 * The grid in run order, grouped so that a reflow student shares a shard with its teacher:
 * groups are (data set, model, teacher chain) and shard i of n takes groups g with g % n == i.
 */
export function planUnits(cfg: SuiteConfig, shard?: { index: number; count: number }): Unit[] {
  const groups: Unit[][] = [];
  for (const dataset of cfg.datasets) {
    for (const model of cfg.models) {
      const byRoot = new Map<string, Unit[]>();
      for (const method of cfg.methods) {
        let root = method;
        while (root.teacher) root = cfg.methods.find((m) => m.label === root.teacher)!;
        const list = byRoot.get(root.label) ?? [];
        list.push({
          dataset,
          model,
          method,
          id: runId(dataset, method.label, model.name, model.preset),
        });
        byRoot.set(root.label, list);
      }
      groups.push(...byRoot.values());
    }
  }
  return groups.filter((_, g) => !shard || g % shard.count === shard.index).flat();
}

/** The part of the config that determines one run's result (its resume key). */
export function unitHash(cfg: SuiteConfig, u: Unit): string {
  const teacher = u.method.teacher
    ? cfg.methods.find((m) => m.label === u.method.teacher)
    : undefined;
  return configHash({
    suite: cfg.suite,
    dataset: u.dataset,
    model: u.model,
    method: u.method,
    teacher,
    train: cfg.train,
    eval: cfg.eval,
    solvers: cfg.solvers,
    seed: cfg.seed,
    data: cfg.data,
  });
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 400);
}

/** Run (or resume) a suite into outDir; returns the final results. */
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
  const previous = await readResults(`${o.outDir}/results.json`).catch(() => null);
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
    runs: [],
  };
  const units = planUnits(cfg, o.shard);
  const planned = new Set(units.map((u) => u.id));
  if (previous?.runs.some((r) => !planned.has(r.id))) {
    // This run will not rewrite every earlier record: keep the earlier file instead of losing them.
    const backup = `${o.outDir}/results.before-${manifest.startedAt.replace(/[:.]/g, "-")}.json`;
    await Deno.copyFile(`${o.outDir}/results.json`, backup);
    log(`resume: ${o.outDir}/results.json has runs outside this plan; kept a copy at ${backup}`);
  }
  const adaptive = pick(reg.solvers, "solver", cfg.adaptiveSolver);
  const plans = cfg.solvers.map((s) => ({
    solver: pick(reg.solvers, "solver", s.name),
    settings: s.settings,
  }));
  const teachers = new Map<string, TeacherWithProvenance>();
  log(
    `fmbench ${cfg.suite}: ${units.length} runs on ${o.backend.backend} (${o.backend.device}) -> ${o.outDir}`,
  );
  for (const [i, u] of units.entries()) {
    const hash = unitHash(cfg, u);
    const label = `[${i + 1}/${units.length}] ${u.dataset} · ${u.method.label} · ${u.model.name}`;
    if (o.suite.reference && !results.references?.[u.dataset]) {
      const data = await o.suite.load(u.dataset, cfg);
      results.references = {
        ...results.references,
        [u.dataset]: await o.suite.reference(data, cfg),
      };
    }
    const prior = reusable.get(u.id);
    const needPairs = cfg.methods.some((m) => m.teacher === u.method.label);
    if (prior && prior.configHash === hash) {
      const pairs = needPairs ? await cachedPairs(o, cfg, u, hash) : null;
      if (!needPairs || pairs) {
        if (pairs) {
          teachers.set(teacherKey(u, u.method.label), teacherFrom(pairs));
        }
        results.runs.push(prior);
        log(`${label}: complete in ${o.outDir}, skipped (resume)`);
        continue;
      }
    }
    const record = await runUnit(o, u, hash, plans, adaptive, teachers, label, needPairs);
    results.runs.push(record);
    results.manifest.wallSeconds = (performance.now() - started) / 1000;
    await writeResults(o.outDir, results);
  }
  results.manifest.finishedAt = new Date().toISOString();
  results.manifest.wallSeconds = (performance.now() - started) / 1000;
  await writeResults(o.outDir, results);
  if (o.report !== false) await writeReport(o.outDir, results, log);
  return results;
}

/** Mid-training checkpoint of a run (removed once the run has trained). */
function checkpointFile(o: RunSuiteOptions, u: Unit): string {
  return `${o.outDir}/checkpoints/${u.id}.safetensors`;
}

/** Key of a teacher's pairs: the same data set and model, the teacher method's label. */
function teacherKey(u: Unit, method: string): string {
  return `${u.dataset}|${u.model.name}|${method}`;
}

function pairsFile(o: RunSuiteOptions, u: Unit): string {
  return `${o.outDir}/reflow/${u.id}`;
}

function pairsExpectation(cfg: SuiteConfig, u: Unit, hash: string, shape: number[]) {
  return {
    teacher: u.method.label,
    dataset: u.dataset,
    model: `${u.model.name}/${u.model.preset}`,
    solver: cfg.adaptiveSolver,
    setting: { rtol: cfg.eval.nll.rtol, atol: cfg.eval.nll.atol },
    seed: subSeed(cfg.seed, `reflow-${u.id}`),
    n: cfg.eval.reflowPairs,
    shape,
    teacherConfigHash: hash,
  };
}

async function cachedPairs(o: RunSuiteOptions, cfg: SuiteConfig, u: Unit, hash: string) {
  const data = await o.suite.load(u.dataset, cfg);
  return loadPairs(pairsFile(o, u), pairsExpectation(cfg, u, hash, data.shape));
}

async function runUnit(
  o: RunSuiteOptions,
  u: Unit,
  hash: string,
  plans: Array<{ solver: Solver; settings: SolverSetting[] }>,
  adaptive: Solver,
  teachers: Map<string, TeacherWithProvenance>,
  label: string,
  needPairs: boolean,
): Promise<RunRecord> {
  const { config: cfg, registry: reg } = o;
  const log = o.log ?? ((l: string) => console.error(l));
  const record: RunRecord = {
    id: u.id,
    dataset: u.dataset,
    method: u.method.label,
    model: u.model.name,
    preset: u.model.preset,
    configHash: hash,
    paramCount: 0,
    status: "ok",
    evals: [],
    nll: [],
  };
  const before = tf.memory().numTensors;
  let model: Model | undefined;
  let quality: Quality | undefined;
  try {
    const data = await o.suite.load(u.dataset, cfg);
    const path = pick(reg.paths, "path", u.method.path);
    const loss = pick(reg.losses, "loss", u.method.loss);
    const coupling = pick(reg.couplings, "coupling", u.method.coupling);
    const modelPlugin = pick(reg.models, "model", u.model.name);
    if (!modelPlugin.accepts.includes(data.kind)) {
      throw new Error(`model "${modelPlugin.name}" does not accept ${data.kind} data`);
    }
    let teacher: TeacherWithProvenance | undefined;
    if (coupling.needsTeacher) {
      teacher = teachers.get(teacherKey(u, u.method.teacher!));
      if (!teacher) throw new Error(`teacher "${u.method.teacher}" did not produce reflow pairs`);
    }
    model = modelPlugin.create({
      shape: data.shape,
      preset: u.model.preset,
      seed: subSeed(cfg.seed, u.id),
    });
    record.paramCount = model.paramCount();
    const bar = progressFor(label);
    const outcome = await train({
      model,
      path,
      loss,
      coupling,
      data,
      teacher,
      config: { ...cfg.train, seed: subSeed(cfg.seed, `train-${u.id}`) },
      onProgress: (p) => bar.update(p),
      checkpoint: {
        file: checkpointFile(o, u),
        key: hash,
        every: Math.max(cfg.train.logEvery, Math.ceil(cfg.train.steps / 10)),
      },
      onResume: (step) => log(`${label}: resuming training from its checkpoint at step ${step}`),
    });
    await Deno.remove(checkpointFile(o, u)).catch(() => {});
    if (cfg.train.ema > 0) outcome.useEma();
    outcome.dispose();
    record.train = {
      steps: outcome.steps,
      batch: cfg.train.batch,
      seconds: outcome.seconds,
      lossCurve: outcome.lossCurve,
      finalLoss: outcome.finalLoss,
    };
    bar.done(
      `trained ${outcome.steps} steps in ${outcome.seconds.toFixed(1)}s, loss ${
        outcome.finalLoss.toFixed(4)
      }`,
    );
    const vf = loss.velocity(model, path);
    quality = await o.suite.quality(data, cfg);
    const evalSeed = subSeed(cfg.seed, `eval-${u.dataset}`);
    const evalStart = performance.now();
    record.evals = await evaluateSampling(
      vf,
      path,
      data.shape,
      plans,
      cfg.eval.samples,
      evalSeed,
      quality,
      async (x) => {
        if (data.kind === "vector") {
          const pts = await x.array() as number[][];
          record.samples = { ...record.samples, points: pts.slice(0, 500) };
        } else {
          const few = x.slice(0, Math.min(16, x.shape[0]));
          record.samples = { ...record.samples, image: await imageGridDataUri(few, 4) };
          few.dispose();
        }
      },
    );
    record.nll = await evaluateNll(
      vf,
      path,
      data,
      adaptive,
      cfg.eval.nll,
      evalSeed,
      data.kind === "image",
    )
      .catch((e) => {
        record.provenance = { ...record.provenance, nllError: message(e) };
        return [];
      });
    const x0 = sourceNoise(
      path,
      data.shape,
      Math.min(cfg.eval.samples, 500),
      subSeed(evalSeed, "straight"),
    );
    const [ta, tb] = path.tRange;
    try {
      record.straightness = await flowStraightness(vf, x0, cfg.eval.straightnessSteps, {
        t0: ta,
        t1: tb,
      });
      if (data.kind === "vector" && cfg.eval.trajectories > 0) {
        const few = x0.slice(0, Math.min(cfg.eval.trajectories, x0.shape[0]));
        record.samples = {
          ...record.samples,
          trajectories: await recordTrajectories(vf, few, 20, ta, tb),
        };
        few.dispose();
      }
    } finally {
      x0.dispose();
    }
    if (teacher) {
      record.provenance = { ...record.provenance, reflow: teacher.provenance };
    }
    if (needPairs) {
      const expect = pairsExpectation(cfg, u, hash, data.shape);
      const gen = await generatePairs(
        vf,
        path,
        adaptive,
        expect.setting,
        data.shape,
        expect.n,
        expect.seed,
      );
      const pairs: ReflowPairs = {
        x0: gen.x0,
        x1: gen.x1,
        provenance: { ...expect, nfe: gen.nfe, file: `${pairsFile(o, u)}.f32` },
      };
      await Deno.mkdir(`${o.outDir}/reflow`, { recursive: true });
      await savePairs(pairsFile(o, u), pairs);
      teachers.set(teacherKey(u, u.method.label), teacherFrom(pairs));
      record.provenance = { ...record.provenance, reflowPairs: pairs.provenance };
    }
    const best = record.evals.find((e) => e.solver === cfg.adaptiveSolver && e.status === "ok");
    const nll = record.nll[0];
    const q = o.suite.headline.quality;
    const qText = best && q in best.metrics ? `${q} ${best.metrics[q].toFixed(4)}` : `${q} n/a`;
    log(
      `${label}: eval ${((performance.now() - evalStart) / 1000).toFixed(1)}s` +
        (best ? ` · ${qText} @ ${best.nfe} NFE` : "") +
        (nll
          ? ` · NLL ${
            nll.bpd !== undefined ? `${nll.bpd.toFixed(3)} bits/dim` : `${nll.nats.toFixed(3)} nats`
          }`
          : "") +
        (record.straightness !== undefined
          ? ` · straightness ${record.straightness.toFixed(4)}`
          : ""),
    );
  } catch (e) {
    record.status = "failed";
    record.error = message(e);
    log(`${label}: FAILED: ${record.error}`);
  } finally {
    quality?.dispose();
    model?.dispose();
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked > 0) log(`${label}: warning: ${leaked} tensors not released`);
  return record;
}

async function writeReport(outDir: string, results: ResultsFile, log: (l: string) => void) {
  try {
    const { renderReport } = await import("../reports/render.ts");
    await Deno.writeTextFile(`${outDir}/report.html`, renderReport(results));
    log(`report: ${outDir}/report.html`);
  } catch (e) {
    log(
      `report: not written (${
        message(e)
      }); results.json is complete, retry with: deno task report ${outDir}`,
    );
  }
}
