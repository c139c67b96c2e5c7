// One run of the grid, as the method reads: resolve its plugins, train, evaluate (sampling with
// every solver setting, likelihood, straightness), and publish reflow pairs if it is a teacher.
import {
  type Coupling,
  type Loss,
  type Model,
  type ModelPlugin,
  type Path,
  type Solver,
  subSeed,
  tf,
  type VelocityField,
} from "../core/mod.ts";
import type { RunRecord } from "../results/schema.ts";
import type { DataSource } from "./data/source.ts";
import { firstLine } from "./error-message.ts";
import { evaluateNll, evaluateSampling, type Quality, type SamplingPlan } from "./evaluate.ts";
import { flowStraightness } from "./metrics/straightness.ts";
import { recordTrajectories } from "./metrics/trajectories.ts";
import type { Run } from "./plan.ts";
import { progressFor } from "./progress.ts";
import { pick, type Registry } from "./registry.ts";
import { sourceNoise } from "./source-noise.ts";
import { imageGridDataUri } from "./store/png.ts";
import type { SuiteConfig, SuiteDef } from "./suites/types.ts";
import type { Teachers, TeacherWithProvenance } from "./teachers.ts";
import { train } from "./train.ts";

/** What every run of a suite shares. */
export interface RunContext {
  suite: SuiteDef;
  config: SuiteConfig;
  registry: Registry;
  outDir: string;
  log: (line: string) => void;
  /** Every solver with its settings, for sampling. */
  plans: SamplingPlan[];
  /** The adaptive solver used for NLL, reflow pairs and the headline NFE. */
  adaptive: Solver;
  teachers: Teachers;
}

/** The plugins and data one run uses. */
interface RunParts {
  data: DataSource;
  path: Path;
  loss: Loss;
  coupling: Coupling;
  modelPlugin: ModelPlugin;
  teacher?: TeacherWithProvenance;
}

/** Mid-training checkpoint of a run (removed once the run has trained). */
export function checkpointFile(outDir: string, run: Run): string {
  return `${outDir}/checkpoints/${run.id}.safetensors`;
}

/**
 * Train and evaluate one run; never throws: a failure is recorded with its reason.
 * @example
 * const record = await runOne(ctx, run, runHash(ctx.config, run), "[1/8] moons · FM w/ OT · mlp");
 */
export async function runOne(
  ctx: RunContext,
  run: Run,
  hash: string,
  label: string,
): Promise<RunRecord> {
  const record: RunRecord = {
    id: run.id,
    dataset: run.dataset,
    method: run.method.label,
    model: run.model.name,
    preset: run.model.preset,
    configHash: hash,
    paramCount: 0,
    status: "ok",
    evals: [],
    nll: [],
  };
  const before = tf.memory().numTensors;
  let model: Model | undefined;
  try {
    const parts = await resolveParts(ctx, run);
    model = parts.modelPlugin.create({
      shape: parts.data.shape,
      preset: run.model.preset,
      seed: subSeed(ctx.config.seed, run.id),
    });
    record.paramCount = model.paramCount();
    await trainStep(ctx, run, hash, label, parts, model, record);
    const vf = parts.loss.velocity(model, parts.path);
    const evalStart = performance.now();
    await evaluateStep(ctx, run, parts, vf, record);
    if (parts.teacher) {
      record.provenance = { ...record.provenance, reflow: parts.teacher.provenance };
    }
    if (ctx.teachers.isTeacher(run)) {
      const reflowPairs = await ctx.teachers.publish(run, hash, vf, parts.path, parts.data.shape);
      record.provenance = { ...record.provenance, reflowPairs };
    }
    ctx.log(`${label}: ${evalSummary(ctx, record, (performance.now() - evalStart) / 1000)}`);
  } catch (e) {
    record.status = "failed";
    record.error = firstLine(e);
    ctx.log(`${label}: FAILED: ${record.error}`);
  } finally {
    model?.dispose();
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked > 0) ctx.log(`${label}: warning: ${leaked} tensors not released`);
  return record;
}

/** Load the data and pick the run's plugins (and its reflow teacher). */
async function resolveParts(ctx: RunContext, run: Run): Promise<RunParts> {
  const reg = ctx.registry;
  const data = await ctx.suite.load(run.dataset, ctx.config);
  const path = pick(reg.paths, "path", run.method.path);
  const loss = pick(reg.losses, "loss", run.method.loss);
  const coupling = pick(reg.couplings, "coupling", run.method.coupling);
  const modelPlugin = pick(reg.models, "model", run.model.name);
  if (!modelPlugin.accepts.includes(data.kind)) {
    throw new Error(`model "${modelPlugin.name}" does not accept ${data.kind} data`);
  }
  const teacher = coupling.needsTeacher ? ctx.teachers.forStudent(run) : undefined;
  return { data, path, loss, coupling, modelPlugin, teacher };
}

/** Train (resuming from a checkpoint), switch to EMA weights, and record the training curve. */
async function trainStep(
  ctx: RunContext,
  run: Run,
  hash: string,
  label: string,
  parts: RunParts,
  model: Model,
  record: RunRecord,
): Promise<void> {
  const cfg = ctx.config;
  const bar = progressFor(label);
  const outcome = await train({
    model,
    path: parts.path,
    loss: parts.loss,
    coupling: parts.coupling,
    data: parts.data,
    teacher: parts.teacher,
    config: { ...cfg.train, seed: subSeed(cfg.seed, `train-${run.id}`) },
    onProgress: (p) => bar.update(p),
    checkpoint: {
      file: checkpointFile(ctx.outDir, run),
      key: hash,
      every: Math.max(cfg.train.logEvery, Math.ceil(cfg.train.steps / 10)),
    },
    onResume: (step) => ctx.log(`${label}: resuming training from its checkpoint at step ${step}`),
  });
  await Deno.remove(checkpointFile(ctx.outDir, run)).catch(() => {});
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
}

/** Sample with every solver setting, then NLL, straightness and trajectories. */
async function evaluateStep(
  ctx: RunContext,
  run: Run,
  parts: RunParts,
  vf: VelocityField,
  record: RunRecord,
): Promise<void> {
  const cfg = ctx.config;
  const { data, path } = parts;
  const evalSeed = subSeed(cfg.seed, `eval-${run.dataset}`);
  let quality: Quality | undefined;
  try {
    quality = await ctx.suite.quality(data, cfg);
    record.evals = await evaluateSampling(
      vf,
      path,
      data.shape,
      ctx.plans,
      cfg.eval.samples,
      evalSeed,
      quality,
      async (x, from) => {
        record.samples = { ...record.samples, ...await samplePreview(data, x), from };
      },
      cfg.adaptiveSolver,
    );
  } finally {
    quality?.dispose();
  }
  record.nll = await evaluateNll(
    vf,
    path,
    data,
    ctx.adaptive,
    cfg.eval.nll,
    evalSeed,
    data.kind === "image",
  ).catch((e) => {
    record.provenance = { ...record.provenance, nllError: firstLine(e) };
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
}

/** What the report shows of generated samples: up to 500 points, or a 4x4 PNG grid of images. */
async function samplePreview(data: DataSource, x: tf.Tensor): Promise<RunRecord["samples"]> {
  if (data.kind === "vector") {
    const pts = await x.array() as number[][];
    return { points: pts.slice(0, 500) };
  }
  const few = x.slice(0, Math.min(16, x.shape[0]));
  try {
    return { image: await imageGridDataUri(few, 4) };
  } finally {
    few.dispose();
  }
}

/** The one-line log of a finished evaluation: headline quality and NFE, NLL, straightness. */
function evalSummary(ctx: RunContext, record: RunRecord, seconds: number): string {
  const best = record.evals.find((e) =>
    e.solver === ctx.config.adaptiveSolver && e.status === "ok"
  );
  const nll = record.nll[0];
  const q = ctx.suite.headline.quality;
  const qText = best && q in best.metrics ? `${q} ${best.metrics[q].toFixed(4)}` : `${q} n/a`;
  return `eval ${seconds.toFixed(1)}s` +
    (best ? ` · ${qText} @ ${best.nfe} NFE` : "") +
    (nll
      ? ` · NLL ${
        nll.bpd !== undefined ? `${nll.bpd.toFixed(3)} bits/dim` : `${nll.nats.toFixed(3)} nats`
      }`
      : "") +
    (record.straightness !== undefined ? ` · straightness ${record.straightness.toFixed(4)}` : "");
}
