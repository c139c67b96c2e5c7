// One run of the grid, as the method reads: resolve its plugins, train, evaluate (sampling with
// every solver setting, likelihood, straightness), and publish reflow pairs if it is a teacher.
// Every finished piece is persisted at once (trained weights under weights/, each evaluation in
// results.json as a "partial" record), and a resumed run does only what is missing.
import {
  type Coupling,
  type Loss,
  type Model,
  type ModelPlugin,
  type Path,
  type RangedTimes,
  type Solver,
  subSeed,
  tf,
  type VelocityField,
} from "../core/mod.ts";
import { headlineEval, headlineNll } from "../results/headline.ts";
import type { RunRecord } from "../results/schema.ts";
import { loadWeights, saveWeights } from "./checkpoint.ts";
import { referenceStore } from "./reference-samples.ts";
import type { DataSource } from "./data/source.ts";
import { firstLine } from "../core/error-message.ts";
import {
  evaluateNll,
  evaluateSampling,
  type Quality,
  sameSetting,
  type SamplingPlan,
  settingText,
} from "./evaluate.ts";
import { suiteQuality } from "./metric-quality.ts";
import { selectedMetrics } from "./metric-select.ts";
import { flowStraightnessStats } from "./metrics/straightness.ts";
import { recordTrajectories } from "./metrics/trajectories.ts";
import { loadReleased } from "./released.ts";
import { evaluateHighRes } from "./high-res.ts";
import type { Run } from "./plan.ts";
import { progressFor, type ProgressSink } from "./progress.ts";
import { pick, type Registry } from "./registry.ts";
import { sourceNoise } from "./source-noise.ts";
import { removeDurably } from "../store/atomic.ts";
import { imageGridDataUri } from "../store/png.ts";
import { isCancelled, stoppable, type StopRequest } from "./stop.ts";
import type { SuiteConfig, SuiteDef } from "./suites/types.ts";
import type { Teachers, TeacherWithProvenance } from "./teachers.ts";
import { phase } from "../store/trace.ts";
import { bindTimeSampler } from "./time-samplers.ts";
import { train } from "./train.ts";
import { learningSteps } from "./learning-curve.ts";
import { learningProbe } from "./learning-probe.ts";

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
  /** Write the run's record (partial or final) durably into results.json. */
  persist: (record: RunRecord) => Promise<void>;
  /** A stop request, honoured at the next safe point (then runOne throws Cancelled). */
  stop?: StopRequest;
  /** Progress display of a training run (default progressFor: bar or plain lines). */
  progress?: (label: string) => ProgressSink;
}

/** The plugins and data one run uses. */
interface RunParts {
  data: DataSource;
  path: Path;
  loss: Loss;
  coupling: Coupling;
  modelPlugin: ModelPlugin;
  teacher?: TeacherWithProvenance;
  /** The method's training times when it names a time sampler (absent: uniform). */
  times?: RangedTimes;
}

/**
 * Mid-training checkpoint of a run (removed once its trained weights are saved).
 * @example
 * checkpointFile("runs/x", run); // "runs/x/checkpoints/moons__fm-w-ot__mlp-default.safetensors"
 */
export function checkpointFile(outDir: string, run: Run): string {
  return `${outDir}/checkpoints/${run.id}.safetensors`;
}

/**
 * Trained (evaluation) weights of a run, kept until its complete record is in results.json.
 * @example
 * weightsFile("runs/x", run); // "runs/x/weights/moons__fm-w-ot__mlp-default.safetensors"
 */
export function weightsFile(outDir: string, run: Run): string {
  return `${outDir}/weights/${run.id}.safetensors`;
}

/**
 * The run's sampling-error reference samples, kept beside its weights until the record is complete.
 * @example
 * referenceFile("runs/x", run); // "runs/x/weights/moons__fm-w-ot__mlp-default.reference.safetensors"
 */
export function referenceFile(outDir: string, run: Run): string {
  return `${outDir}/weights/${run.id}.reference.safetensors`;
}

/**
 * Train and evaluate one run, continuing `prior` (a partial record of the same config) when
 * given; persists each finished piece through ctx.persist. A failure is recorded with its reason
 * (never thrown); a stop request throws Cancelled after the partial record is persisted.
 * @example
 * const record = await runOne(ctx, { run, hash: runHash(ctx.config, run),
 *   label: "[1/8] moons · FM w/ OT · mlp" });
 */
export async function runOne(
  ctx: RunContext,
  { run, hash, label, partial: prior }: {
    run: Run;
    /** The run's config hash (runHash). */
    hash: string;
    /** How the run is named in log lines. */
    label: string;
    /** A partial record of the same config to continue. */
    partial?: RunRecord;
  },
): Promise<RunRecord> {
  const record: RunRecord = prior ? structuredClone(prior) : {
    id: run.id,
    dataset: run.dataset,
    method: run.method.label,
    model: run.model.name,
    preset: run.model.preset,
    seed: run.seed,
    configHash: hash,
    paramCount: 0,
    status: "partial",
    evals: [],
    nll: [],
  };
  if (prior) {
    record.status = "partial";
    record.sessions = (prior.sessions ?? 1) + 1;
  }
  const before = tf.memory().numTensors;
  let model: Model | undefined;
  try {
    const parts = await resolveParts(ctx, run);
    model = parts.modelPlugin.create({
      shape: parts.data.shape,
      preset: run.model.preset,
      seed: subSeed(run.seed, run.id),
    });
    record.paramCount = model.paramCount();
    await trainStep(ctx, run, hash, label, parts, model, record);
    const vf = stoppable(parts.loss.velocity(model, parts.path), ctx.stop);
    const evalStart = performance.now();
    await evaluateStep(ctx, run, parts, vf, record);
    if (parts.teacher) {
      record.provenance = { ...record.provenance, reflow: parts.teacher.provenance };
    }
    if (ctx.teachers.isTeacher(run)) {
      // Pairs saved by a session stopped just before its record was complete are reused.
      const reflowPairs = await ctx.teachers.restore(run, hash, parts.data.shape) ??
        await ctx.teachers.publish(run, hash, vf, parts.path, parts.data.shape, ctx.stop);
      record.provenance = { ...record.provenance, reflowPairs };
    }
    record.status = "ok";
    await ctx.persist(record);
    // The complete record is durable: the trained weights (and the sampling-error reference)
    // are no longer needed to resume.
    await removeDurably(weightsFile(ctx.outDir, run));
    await removeDurably(referenceFile(ctx.outDir, run));
    const evalSeconds = (performance.now() - evalStart) / 1000;
    ctx.log(
      `${label}: ${
        evalLogLine({
          record,
          adaptiveSolver: ctx.config.adaptiveSolver,
          quality: ctx.suite.headline.quality,
          seconds: evalSeconds,
        })
      }`,
    );
  } catch (e) {
    if (isCancelled(e)) {
      await ctx.persist(record);
      throw e;
    }
    record.status = "failed";
    record.error = firstLine(e);
    ctx.log(`${label}: FAILED: ${record.error}`);
    await ctx.persist(record);
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
  const data = await ctx.suite.load({ dataset: run.dataset, config: ctx.config, seed: run.seed });
  const path = pick(reg.paths, { kind: "path", name: run.method.path });
  const loss = pick(reg.losses, { kind: "loss", name: run.method.loss });
  const coupling = pick(reg.couplings, { kind: "coupling", name: run.method.coupling });
  const modelPlugin = pick(reg.models, { kind: "model", name: run.model.name });
  if (!modelPlugin.accepts.includes(data.kind)) {
    throw new Error(`model "${modelPlugin.name}" does not accept ${data.kind} data`);
  }
  const teacher = coupling.needsTeacher ? ctx.teachers.forStudent(run) : undefined;
  const choice = run.method.timeSampler;
  const times = choice ? bindTimeSampler(choice, { registry: reg, path }) : undefined;
  return { data, path, loss, coupling, modelPlugin, teacher, times };
}

/**
 * Put the run's trained weights into the model: from weights/ when an earlier session trained
 * it, else by training (resuming from its checkpoint), then saved to weights/ before the
 * checkpoint is removed and the training record persisted.
 */
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
  if (cfg.checkpoint) {
    // A released model: its weights replace training (nothing is trained or saved).
    const released = await loadReleased(model, cfg.checkpoint);
    record.provenance = { ...record.provenance, checkpoint: released };
    ctx.log(
      `${label}: evaluating ${released.file} (key ${released.key}${
        released.step !== undefined ? `, step ${released.step}` : ""
      }); no training`,
    );
    return;
  }
  const file = weightsFile(ctx.outDir, run);
  const log = (line: string) => ctx.log(`${label}: ${line}`);
  const saved = await loadWeights(file, hash, model.variables(), {
    totalSteps: cfg.train.steps,
    log,
  });
  if (saved) {
    const known = record.train !== undefined;
    record.train = saved.train;
    if (!known) await ctx.persist(record);
    ctx.log(`${label}: trained weights loaded from ${file} (${resumeNote(ctx, record)})`);
    return;
  }
  if (record.train) {
    ctx.log(
      `${label}: the trained weights of this partial run are missing (${file}); ` +
        `training again, and evaluating again what was evaluated with the lost weights`,
    );
    record.evals = [];
    record.nll = [];
    delete record.train;
    delete record.straightness;
    delete record.straightnessStderr;
    delete record.samples;
    delete record.provenance;
  }
  await phase("train", run.id);
  const bar = (ctx.progress ?? progressFor)(label);
  const curve = await curveFor(ctx, run, parts, model);
  const outcome = await train({
    model,
    path: parts.path,
    loss: parts.loss,
    coupling: parts.coupling,
    data: parts.data,
    teacher: parts.teacher,
    times: parts.times?.time,
    config: { ...cfg.train, seed: subSeed(run.seed, `train-${run.id}`) },
    onProgress: (p) => bar.update(p),
    checkpoint: {
      file: checkpointFile(ctx.outDir, run),
      key: hash,
      every: Math.max(cfg.train.logEvery, Math.ceil(cfg.train.steps / 10)),
    },
    onResume: (step) => ctx.log(`${label}: resuming training from its checkpoint at step ${step}`),
    log,
    stop: ctx.stop,
    ...(curve ? { curve: { steps: curve.steps, probe: curve.probe } } : {}),
  }).finally(() => curve?.dispose());
  if (cfg.train.ema > 0) outcome.useEma();
  outcome.dispose();
  record.train = {
    steps: outcome.steps,
    batch: cfg.train.batch,
    seconds: outcome.seconds,
    ...(outcome.cpuSeconds !== undefined ? { cpuSeconds: outcome.cpuSeconds } : {}),
    ...(outcome.cpuStderr !== undefined ? { cpuStderr: outcome.cpuStderr } : {}),
    lossCurve: outcome.lossCurve,
    finalLoss: outcome.finalLoss,
    ...(outcome.resumedFrom.length ? { resumedFrom: outcome.resumedFrom } : {}),
    ...(curve ? { learningCurve: outcome.learningCurve } : {}),
  };
  await saveWeights(file, hash, model.variables(), { train: record.train });
  await removeDurably(checkpointFile(ctx.outDir, run));
  await ctx.persist(record);
  bar.done(
    `trained ${outcome.steps} steps in ${outcome.seconds.toFixed(1)}s, loss ${
      outcome.finalLoss.toFixed(4)
    }${outcome.resumedFrom.length ? ` (resumed at step ${outcome.resumedFrom.join(", ")})` : ""}`,
  );
}

/**
 * The learning curve's probe steps and probe of a run, when its config asks for one (eval.curve)
 * and its data is continuous: the adaptive solver, the suite's scorer at the probe's size, and
 * held-out points and noise fixed for the run.
 */
async function curveFor(ctx: RunContext, run: Run, parts: RunParts, model: Model) {
  const c = ctx.config.eval.curve;
  if (!c || parts.data.kind !== "vector") return undefined;
  const cfg = { ...ctx.config, eval: { ...ctx.config.eval, samples: c.n } };
  // Only the headline quality metric (W2 for toy2d): the probe must stay cheap.
  const headline = ctx.registry.metrics.get(ctx.suite.headline.quality);
  const quality = await suiteQuality({
    suite: ctx.suite,
    metrics: headline ? [headline] : [],
    data: parts.data,
    config: cfg,
    seed: run.seed,
  });
  try {
    const p = learningProbe({
      field: parts.loss.velocity(model, parts.path),
      path: parts.path,
      data: parts.data,
      solver: ctx.adaptive,
      config: c,
      quality,
      seed: subSeed(run.seed, `curve-${run.dataset}`),
      evalBatch: ctx.config.eval.batch,
    });
    return {
      steps: learningSteps(ctx.config.train.steps, c.from),
      probe: p.probe,
      dispose() {
        p.dispose();
        quality.dispose();
      },
    };
  } catch (e) {
    quality.dispose();
    throw e;
  }
}

/** "12 of 28 solver settings and 0 of 2 NLL estimators already recorded" for a resumed run. */
function resumeNote(ctx: RunContext, record: RunRecord): string {
  const settings = ctx.plans.reduce((a, p) => a + p.settings.length, 0);
  return `${record.evals.length} of ${settings} solver settings and ${record.nll.length} of ` +
    `${ctx.config.eval.nll.estimators.length} NLL estimators already recorded`;
}

/**
 * Sample with every solver setting, then NLL, straightness and trajectories; each finished
 * setting and estimator is persisted at once, and those already recorded are not re-run.
 */
async function evaluateStep(
  ctx: RunContext,
  run: Run,
  parts: RunParts,
  vf: VelocityField,
  record: RunRecord,
): Promise<void> {
  const cfg = ctx.config;
  const { data, path } = parts;
  const evalSeed = subSeed(run.seed, `eval-${run.dataset}`);
  const missing = ctx.plans.some(({ solver, settings }) =>
    settings.some((setting) =>
      !record.evals.some((e) => sameSetting(e, { solver: solver.name, setting }))
    )
  );
  if (missing) {
    let quality: Quality | undefined;
    try {
      quality = await suiteQuality({
        suite: ctx.suite,
        metrics: selectedMetrics(ctx.registry, ctx.suite, cfg),
        data,
        config: cfg,
        seed: run.seed,
      });
      record.evals = await evaluateSampling({
        field: vf,
        path,
        shape: data.shape,
        plans: ctx.plans,
        samples: cfg.eval.samples,
        seed: evalSeed,
        quality,
        done: record.evals,
        stop: ctx.stop,
        traceId: run.id,
        evalBatch: cfg.eval.batch,
        keep: async (x, from) => {
          record.samples = { ...record.samples, ...await samplePreview(data, x), from };
        },
        referenceSolver: cfg.adaptiveSolver,
        referenceStore: referenceStore(
          referenceFile(ctx.outDir, run),
          `${record.configHash ?? ""}|${cfg.adaptiveSolver}`,
          (line) => ctx.log(`${run.id}: ${line}`),
        ),
        onRecord: (evals) => {
          record.evals = evals;
          return ctx.persist(record);
        },
      });
    } finally {
      quality?.dispose();
    }
  }
  if (record.highRes === undefined) {
    const highRes = await evaluateHighRes({
      suite: ctx.suite,
      cfg,
      data,
      path,
      vf,
      plans: ctx.plans,
      seed: evalSeed,
      runSeed: run.seed,
      stop: ctx.stop,
      traceId: run.id,
    });
    if (highRes) {
      record.highRes = highRes;
      await ctx.persist(record);
    }
  }
  if (record.provenance?.nllError === undefined) {
    try {
      record.nll = await evaluateNll({
        field: vf,
        path,
        data,
        solver: ctx.adaptive,
        config: cfg.eval.nll,
        seed: evalSeed,
        bitsPerDim: data.kind === "image",
        evalBatch: cfg.eval.batch,
        done: record.nll,
        stop: ctx.stop,
        traceId: run.id,
        onRecord: (nll) => {
          record.nll = nll;
          return ctx.persist(record);
        },
      });
    } catch (e) {
      if (isCancelled(e)) throw e;
      record.provenance = { ...record.provenance, nllError: firstLine(e) };
      await ctx.persist(record);
    }
  }
  if (record.straightness === undefined) {
    await phase("straightness", run.id);
    const x0 = sourceNoise({
      path,
      shape: data.shape,
      count: Math.min(cfg.eval.samples, 500),
      seed: subSeed(evalSeed, "straight"),
    });
    const [ta, tb] = path.tRange;
    try {
      const straightness = await flowStraightnessStats({
        field: vf,
        x0,
        steps: cfg.eval.straightnessSteps,
        t0: ta,
        t1: tb,
        evalBatch: cfg.eval.batch,
      });
      if (data.kind === "vector" && cfg.eval.trajectories > 0) {
        const few = x0.slice(0, Math.min(cfg.eval.trajectories, x0.shape[0]));
        try {
          record.samples = {
            ...record.samples,
            trajectories: await recordTrajectories({
              field: vf,
              x0: few,
              steps: 20,
              t0: ta,
              t1: tb,
            }),
          };
        } finally {
          few.dispose();
        }
      }
      record.straightness = straightness.mean;
      record.straightnessStderr = straightness.stderr;
    } finally {
      x0.dispose();
    }
    await ctx.persist(record);
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

/**
 * Held-out data to show beside a data set's samples: the first 500 test points (2-D data), or a
 * 4x4 PNG grid of the first 16 test images; the same count and layout as samplePreview.
 * @example
 * results.heldOut = { ...results.heldOut, moons: await heldOutPreview(data) };
 */
export async function heldOutPreview(
  data: DataSource,
): Promise<{ points?: number[][]; image?: string }> {
  const x = data.testSet(Math.min(data.kind === "vector" ? 500 : 16, data.nTest));
  try {
    if (data.kind === "vector") return { points: await x.array() as number[][] };
    return { image: await imageGridDataUri(x, 4) };
  } finally {
    x.dispose();
  }
}

/**
 * The one-line log of a finished evaluation: the headline quality and NFE (results/headline.ts's
 * rule: the adaptive solver at its tightest tolerance, a failure shown as such), NLL, straightness.
 * @example
 * evalLogLine(record, "dopri5", "w2", 12.3); // "eval 12.3s · w2 0.1234 @ 134 NFE · NLL 2.345 nats"
 */
export function evalLogLine(
  { record, adaptiveSolver, quality, seconds }: {
    record: RunRecord;
    /** The suite's adaptive solver (whose setting is the headline). */
    adaptiveSolver: string;
    /** The quality metric's name (w2, fid). */
    quality: string;
    /** Evaluation wall time. */
    seconds: number;
  },
): string {
  const h = headlineEval(record, adaptiveSolver);
  let qText = "";
  if (h && h.status !== "ok") {
    qText = ` · ${quality} failed (${h.solver} ${settingText(h.setting ?? {})}: ${
      h.error ?? "no reason recorded"
    })`;
  } else if (h) {
    const v = h.metrics[quality];
    qText = ` · ${quality} ${fixed(v, 4)} @ ${h.nfe} NFE`;
  }
  const nll = headlineNll(record, adaptiveSolver);
  return `eval ${seconds.toFixed(1)}s` + qText +
    (nll
      ? ` · NLL ${
        nll.bpd !== undefined ? `${fixed(nll.bpd, 3)} bits/dim` : `${fixed(nll.nats, 3)} nats`
      }`
      : "") +
    (record.straightness !== undefined ? ` · straightness ${fixed(record.straightness, 4)}` : "");
}

/** A value with `digits` decimals; "n/a" for null (NaN read back) or absent. */
function fixed(v: number | null | undefined, digits: number): string {
  return typeof v === "number" ? v.toFixed(digits) : "n/a";
}
