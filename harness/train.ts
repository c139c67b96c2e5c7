// The training loop: Adam with warm-up, gradient clipping, optional EMA, step or wall-clock
// budget, a NaN/Inf guard, thinned loss curve, a learning curve (probes at log-spaced steps, on
// the EMA weights when there are), progress callbacks, checkpoints, and a stop request honoured
// between steps and micro-batches (the step in flight is dropped, a checkpoint of the completed
// steps is saved).
import { createAdam, FusedAdam } from "./fused-adam.ts";
import { sourceNoise } from "./source-noise.ts";
import { learningRate } from "./lr-schedule.ts";
import { threadCpuSeconds } from "./thread-cpu.ts";
import { type CheckpointState, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { isCancelled, type StopRequest, throwIfStopped } from "./stop.ts";
import { type CurveProbe, LearningCurve, type LearningPoint } from "./learning-curve.ts";
import type { DataSource } from "./data/source.ts";
import { rng, subSeed } from "../core/rng.ts";
import { type Tensor, tf } from "../core/tf.ts";
import type { Coupling, Loss, Model, Path, Teacher } from "../core/types.ts";

export interface TrainConfig {
  steps: number;
  batch: number;
  lr: number;
  /** Linear warm-up steps for the learning rate. */
  warmup: number;
  /**
   * Where warm-up starts: "first-step" (default: step k at (k + 1) / warmup of lr) or "zero"
   * (PyTorch LambdaLR's min(k, warmup) / warmup, TorchCFM's recipe).
   */
  warmupFrom?: "first-step" | "zero";
  /** After warm-up: constant lr when absent, else polynomial decay to endLr at the last step. */
  decay?: { kind: "polynomial"; power: number; endLr: number };
  /** Adam's betas and epsilon (default tfjs's: 0.9, 0.999, 1e-7; PyTorch's epsilon is 1e-8). */
  adam?: { beta1: number; beta2: number; epsilon: number };
  /** Clip the global gradient norm to this value (0 = off). */
  clip: number;
  /** EMA decay of the weights used for evaluation (0 = off). */
  ema: number;
  /** Stop after this many minutes even if steps remain (0 = no time budget). */
  minutes: number;
  seed: number;
  /** Record the loss every this many steps. */
  logEvery: number;
  /**
   * Examples per forward/backward pass (0 = the whole batch): gradients of the passes are summed
   * before one optimizer step, the same gradient as one pass for models without batch statistics.
   * Bounds memory on wasm, which keeps every intermediate until the backward pass ends.
   */
  microBatch?: number;
}

export interface TrainProgress {
  step: number;
  total: number;
  loss: number;
  itPerSec: number;
}

export interface TrainOutcome {
  steps: number;
  /** Training seconds, summed over every session when training resumed from a checkpoint. */
  seconds: number;
  /**
   * CPU seconds of the thread that trained (harness/thread-cpu.ts), summed over sessions; absent
   * where the runtime cannot tell or a resumed checkpoint did not record them.
   */
  cpuSeconds?: number;
  /**
   * Standard error of cpuSeconds from the spread of the CPU cost per step over the logging
   * intervals: steps x sd(per-step cost) / sqrt(intervals); absent with fewer than 2 intervals.
   */
  cpuStderr?: number;
  /** Steps at which training resumed from a checkpoint (empty when it ran in one go). */
  resumedFrom: number[];
  lossCurve: Array<[number, number]>;
  finalLoss: number;
  /** The learning curve's points (empty without `curve`). */
  learningCurve: LearningPoint[];
  /** Present when EMA is on: copy EMA weights into the model for evaluation. */
  useEma(): void;
  dispose(): void;
}

/**
 * Thrown by the NaN/Inf guard: names the step and the loss value.
 * @example
 * throw new NonFiniteLossError("loss became NaN by step 1200 (path cond-ot, loss cfm); ...");
 */
export class NonFiniteLossError extends Error {}

export interface TrainInput {
  model: Model;
  path: Path;
  loss: Loss;
  coupling: Coupling;
  data: DataSource;
  teacher?: Teacher;
  config: TrainConfig;
  /**
   * The training time for a uniform draw u in [0, 1) (a time sampler's quantile on the path's
   * range); absent: uniform on path.tRange, tMin + (tMax - tMin) u.
   */
  times?: (u: number) => number;
  onProgress?: (p: TrainProgress) => void;
  /**
   * Save weights, EMA, Adam state and step every `every` steps, and at least every
   * `everySeconds` seconds of training (default 300); resume from `file` if `key` matches.
   */
  checkpoint?: { file: string; key: string; every: number; everySeconds?: number };
  /**
   * A learning curve: `probe` measures the model after each of `steps` (completed steps; the
   * last training step is always probed too, also when a time budget ends training early), with
   * the EMA weights in place when EMA is on (the training weights are restored after). Probes
   * cannot be stopped and their time is not training time.
   */
  curve?: { steps: number[]; probe: CurveProbe };
  /** Called when training resumed from a checkpoint at this step. */
  onResume?: (step: number) => void;
  /** Told when the checkpoint fails its check and is moved aside (training starts over). */
  log?: (line: string) => void;
  /**
   * Checked before every step and micro-batch: once set, training stops (the step in flight is
   * dropped), saves a checkpoint of the completed steps (if checkpointing) and throws Cancelled.
   */
  stop?: StopRequest;
}

/**
 * Train a model; resolves with the loss curve, throws NonFiniteLossError on NaN/Inf loss and
 * Cancelled when `stop` is set.
 * @example
 * const outcome = await train({ model, path, loss, coupling, data, config });
 */
export async function train(input: TrainInput): Promise<TrainOutcome> {
  const { model, path, loss, coupling, data, config: c } = input;
  const vars = model.variables();
  const opt = createAdam(c.lr, c.adam);
  const ema = c.ema > 0 ? vars.map((v) => tf.variable(v, false)) : [];
  const [tMin, tMax] = path.tRange;
  const timeOf = input.times ?? ((u: number) => tMin + (tMax - tMin) * u);
  let curve: Array<[number, number]> = [];
  const start = performance.now();
  let pending: tf.Scalar[] = [];
  let step = 0;
  let last = NaN;
  let priorSeconds = 0;
  let carried: number[] = [];
  let resumedFrom: number[] = [];
  const learning = input.curve ? new LearningCurve(input.curve) : undefined;
  /** Wall milliseconds and thread CPU seconds this session spent in learning-curve probes. */
  let probeMs = 0, probeCpu = 0;
  // The thread's CPU seconds: before this session (from the checkpoint), and per step of each
  // logging interval (for the spread).
  let priorCpu: number | undefined = 0;
  let cpuPerStep: number[] = [];
  const ck = input.checkpoint;
  if (ck) {
    const state = await loadCheckpoint(ck.file, ck.key, vars, ema, opt, {
      totalSteps: c.steps,
      log: input.log,
    });
    if (state) {
      ({ step, curve } = state);
      last = state.lastLoss;
      priorSeconds = state.seconds ?? 0;
      carried = state.pending ?? [];
      resumedFrom = [...(state.resumedFrom ?? []), step];
      if (learning && state.learning) learning.restore(state.learning);
      priorCpu = state.cpuSeconds;
      cpuPerStep = state.cpuPerStep ?? [];
      input.onResume?.(step);
    }
  }
  const resumedAt = step;
  let savedAt = performance.now();
  const deadline = c.minutes > 0 ? start + (c.minutes * 60 - priorSeconds) * 1000 : Infinity;
  const seconds = () => priorSeconds + (performance.now() - start - probeMs) / 1000;
  const cpuStart = threadCpuSeconds();
  let cpuMark = { cpu: cpuStart, step };
  const cpuSeconds = () => {
    const now = threadCpuSeconds();
    return now === undefined || cpuStart === undefined || priorCpu === undefined
      ? undefined
      : priorCpu + (now - cpuStart) - probeCpu;
  };
  /**
   * Probe the model after `done` steps, on the EMA weights when EMA is on; its wall and CPU time
   * are not training time (the CPU interval it falls in is shifted past it).
   */
  const probe = async (done: number) => {
    if (!learning) return;
    const t0 = performance.now();
    const c0 = threadCpuSeconds();
    const at = seconds();
    const saved = ema.length ? vars.map((v) => tf.clone(v)) : [];
    try {
      if (ema.length) vars.forEach((v, i) => v.assign(ema[i]));
      await learning.measure(done, at);
    } finally {
      if (ema.length) vars.forEach((v, i) => v.assign(saved[i]));
      tf.dispose(saved);
      probeMs += performance.now() - t0;
      const c1 = threadCpuSeconds();
      if (c0 !== undefined && c1 !== undefined) {
        probeCpu += c1 - c0;
        if (cpuMark.cpu !== undefined) cpuMark = { ...cpuMark, cpu: cpuMark.cpu + (c1 - c0) };
      }
    }
  };
  /** The state after `done` completed steps, for a checkpoint. */
  const stateNow = async (done: number): Promise<CheckpointState> => ({
    step: done,
    curve,
    lastLoss: last,
    seconds: seconds(),
    cpuSeconds: cpuSeconds(),
    cpuPerStep,
    pending: [...carried, ...(await readLosses(pending))],
    resumedFrom,
    ...(learning ? { learning: learning.state() } : {}),
  });
  /**
   * Average the losses since the last curve point (`upTo` = the last completed step) into the
   * curve; the NaN/Inf guard names the first step whose loss was not finite.
   */
  const logLosses = async (upTo: number) => {
    const vals = [...carried, ...(await readLosses(pending))];
    tf.dispose(pending);
    pending = [];
    carried = [];
    if (vals.length === 0) return;
    const mean = vals.reduce((a, v) => a + v, 0) / vals.length;
    if (!Number.isFinite(mean)) {
      const bad = upTo - vals.length + 1 + vals.findIndex((v) => !Number.isFinite(v));
      throw new NonFiniteLossError(nonFiniteHint(mean, bad, c, input, false));
    }
    last = mean;
    curve.push([upTo, mean]);
  };
  try {
    for (; step < c.steps && performance.now() - probeMs < deadline; step++) {
      throwIfStopped(input.stop);
      const s = subSeed(c.seed, step);
      const x1raw = data.trainBatch(c.batch, s);
      const x0raw = sourceNoise({
        path,
        shape: x1raw.shape.slice(1),
        count: x1raw.shape[0],
        seed: s,
      });
      const [x0, x1] = await coupling.pair(x0raw, x1raw, { seed: s, teacher: input.teacher });
      x0raw.dispose();
      x1raw.dispose();
      // Times from a per-step stream, so a resumed run draws what an uninterrupted one would;
      // one uniform draw per example, mapped through the time sampler (uniform by default).
      const u = rng(subSeed(c.seed, `time-${step}`));
      const ts = new Float32Array(c.batch);
      for (let i = 0; i < c.batch; i++) ts[i] = timeOf(u());
      const t = tf.tensor1d(ts);
      (opt as unknown as { learningRate: number }).learningRate = learningRate(step, c);
      let value: tf.Scalar;
      try {
        value = optimizerStep({
          model,
          path,
          loss,
          vars,
          optimizer: opt,
          batch: { x0, x1, t, ts },
          config: c,
          stop: input.stop,
        });
      } finally {
        tf.dispose([x0, x1, t]);
      }
      // Nothing below may stop: the step is applied, so EMA, loss and checkpoint must follow.
      if (ema.length) {
        tf.tidy(() => {
          vars.forEach((v, i) =>
            ema[i].assign(tf.add(tf.mul(ema[i], c.ema), tf.mul(v, 1 - c.ema)))
          );
        });
      }
      pending.push(value);
      if (step === 0) {
        const first = (await value.data())[0];
        if (!Number.isFinite(first)) {
          throw new NonFiniteLossError(nonFiniteHint(first, 1, c, input, true));
        }
      }
      const logNow = (step + 1) % c.logEvery === 0 || step + 1 === c.steps;
      if (logNow) {
        await logLosses(step + 1);
        const cpu = threadCpuSeconds();
        if (cpu !== undefined && cpuMark.cpu !== undefined && step + 1 > cpuMark.step) {
          cpuPerStep.push((cpu - cpuMark.cpu) / (step + 1 - cpuMark.step));
        }
        cpuMark = { cpu, step: step + 1 };
      }
      if (learning?.due(step + 1)) await probe(step + 1);
      const due = ck && ((step + 1) % ck.every === 0 ||
        performance.now() - savedAt > (ck.everySeconds ?? 300) * 1000);
      if (ck && due && step + 1 < c.steps) {
        await saveCheckpoint(ck.file, ck.key, vars, ema, opt, await stateNow(step + 1));
        savedAt = performance.now();
      }
      if (logNow) {
        const secs = (performance.now() - start - probeMs) / 1000;
        input.onProgress?.({
          step: step + 1,
          total: c.steps,
          loss: last,
          itPerSec: (step + 1 - resumedAt) / secs,
        });
      }
    }
    // Stopped by the time budget between log steps: the last steps' losses still count.
    await logLosses(step);
    // ... and the last step's model is measured, wherever the time budget ended training.
    if (learning && step > learning.last) await probe(step);
  } catch (e) {
    try {
      // Stopped between steps: keep every completed step (and the losses not yet averaged).
      if (isCancelled(e) && ck && step > resumedAt) {
        await saveCheckpoint(ck.file, ck.key, vars, ema, opt, await stateNow(step));
      }
    } finally {
      tf.dispose(ema);
    }
    throw e;
  } finally {
    tf.dispose(pending);
    opt.dispose();
  }
  const cpu = cpuSeconds();
  return {
    steps: step,
    seconds: seconds(),
    ...(cpu !== undefined ? { cpuSeconds: cpu } : {}),
    ...(cpu !== undefined && cpuPerStep.length > 1
      ? { cpuStderr: step * sdOf(cpuPerStep) / Math.sqrt(cpuPerStep.length) }
      : {}),
    resumedFrom,
    lossCurve: curve,
    finalLoss: last,
    learningCurve: learning ? [...learning.points] : [],
    useEma() {
      vars.forEach((v, i) => ema[i] && v.assign(ema[i]));
    },
    dispose() {
      tf.dispose(ema);
    },
  };
}

/** Sample standard deviation (n - 1 in the denominator). */
function sdOf(xs: number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
}

/**
 * The per-step losses as numbers, in ONE read of the device (stacked first): reading each
 * scalar on its own costs a GPU round trip apiece.
 */
async function readLosses(values: tf.Scalar[]): Promise<number[]> {
  if (values.length === 0) return [];
  const all = tf.tidy(() => tf.stack(values));
  try {
    return Array.from((await all.data()) as Float32Array);
  } finally {
    all.dispose();
  }
}

/**
 * The NaN guard's message. NaN at the very first step, before any weight update, cannot come from
 * the learning rate: it points at the path or loss plugin. Later NaN points at the optimisation
 * first, with the flags that change it.
 */
function nonFiniteHint(
  value: number,
  step: number,
  c: TrainConfig,
  input: TrainInput,
  fromStart: boolean,
): string {
  const what =
    `loss became ${value} by step ${step} (path ${input.path.name}, loss ${input.loss.name})`;
  if (fromStart) {
    return `${what}, before any weight update: this points at the path or loss plugin (e.g. a ` +
      `division by zero at an end of its time range), not the learning rate`;
  }
  const clip = c.clip > 0 ? `a smaller --clip (now ${c.clip})` : "gradient clipping, e.g. --clip 1";
  return `${what}; try a lower --lr (now ${c.lr}) or ${clip}; if it persists, check the path ` +
    `and loss plugins`;
}

/** One optimizer step's inputs. */
export interface StepInput {
  model: Model;
  path: Path;
  loss: Loss;
  /** The variables the gradients are taken for (the model's, in its stable order). */
  vars: tf.Variable[];
  optimizer: tf.Optimizer;
  /** The paired batch and its times (`ts`: a host copy of `t`). */
  batch: { x0: Tensor; x1: Tensor; t: tf.Tensor1D; ts: Float32Array };
  config: TrainConfig;
  /** Checked between micro-batches: a stop drops the whole step. */
  stop?: StopRequest;
}

/**
 * One optimizer step over the batch, in micro-batches if configured; returns the mean loss.
 * @example
 * const loss = optimizerStep({ model, path, loss: cfm, vars: model.variables(), optimizer: opt,
 *   batch: { x0, x1, t, ts }, config });
 */
export function optimizerStep(o: StepInput): tf.Scalar {
  const { model, path, loss, vars, optimizer: opt, batch, config: c, stop } = o;
  const n = batch.x0.shape[0];
  const micro = c.microBatch && c.microBatch < n ? c.microBatch : n;
  return tf.tidy(() => {
    let total: tf.Scalar | undefined;
    let grads: tf.NamedTensorMap = {};
    for (let start = 0; start < n; start += micro) {
      // A stop between micro-batches drops the whole step: nothing is applied yet.
      if (start > 0) throwIfStopped(stop);
      const m = Math.min(micro, n - start);
      const part = (x: Tensor) => (m === n ? x : x.slice(start, m));
      // Times from the host copy: paths read them back (affineSample), so never slice on a GPU.
      const t = m === n ? batch.t : tf.tensor1d(batch.ts.subarray(start, start + m));
      const r = tf.variableGrads(() =>
        tf.mul(
          loss.loss(model, path, { x0: part(batch.x0), x1: part(batch.x1), t }),
          m / n,
        ) as tf.Scalar, vars);
      total = total ? tf.add(total, r.value) : r.value;
      grads = start === 0
        ? r.grads
        : Object.fromEntries(Object.keys(r.grads).map((k) => [k, tf.add(grads[k], r.grads[k])]));
    }
    if (opt instanceof FusedAdam) {
      opt.clipNorm = c.clip; // clipped inside its update, without extra kernels
      opt.applyGradients(grads);
    } else {
      const clipped = c.clip > 0 ? clipByGlobalNorm(grads, c.clip) : grads;
      opt.applyGradients(clipped as unknown as Record<string, tf.Variable>);
    }
    return total!;
  });
}

function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  const names = Object.keys(grads);
  const sq = tf.addN(names.map((k) => tf.sum(tf.square(grads[k]))));
  const norm = tf.sqrt(sq);
  const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
  const out: tf.NamedTensorMap = {};
  for (const k of names) out[k] = tf.mul(grads[k], scale) as Tensor;
  return out;
}
