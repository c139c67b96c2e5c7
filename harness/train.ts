// The training loop: Adam with warm-up, gradient clipping, optional EMA, step or wall-clock
// budget, a NaN/Inf guard, thinned loss curve, and progress callbacks.
import { sourceNoise } from "./source-noise.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
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
  seconds: number;
  lossCurve: Array<[number, number]>;
  finalLoss: number;
  /** Present when EMA is on: copy EMA weights into the model for evaluation. */
  useEma(): void;
  dispose(): void;
}

/** Thrown by the NaN/Inf guard: names the step and the loss value. */
export class NonFiniteLossError extends Error {}

export interface TrainInput {
  model: Model;
  path: Path;
  loss: Loss;
  coupling: Coupling;
  data: DataSource;
  teacher?: Teacher;
  config: TrainConfig;
  onProgress?: (p: TrainProgress) => void;
  /** Save weights, EMA, Adam state and step every `every` steps; resume from `file` if `key` matches. */
  checkpoint?: { file: string; key: string; every: number };
  /** Called when training resumed from a checkpoint at this step. */
  onResume?: (step: number) => void;
}

/** Train a model; resolves with the loss curve, throws NonFiniteLossError on NaN/Inf loss. */
export async function train(input: TrainInput): Promise<TrainOutcome> {
  const { model, path, loss, coupling, data, config: c } = input;
  const vars = model.variables();
  const opt = tf.train.adam(c.lr);
  const ema = c.ema > 0 ? vars.map((v) => tf.variable(v, false)) : [];
  const [tMin, tMax] = path.tRange;
  let curve: Array<[number, number]> = [];
  const start = performance.now();
  let pending: tf.Scalar[] = [];
  let step = 0;
  let last = NaN;
  const ck = input.checkpoint;
  if (ck) {
    const state = await loadCheckpoint(ck.file, ck.key, vars, ema, opt);
    if (state) {
      ({ step, curve } = state);
      last = state.lastLoss;
      input.onResume?.(step);
    }
  }
  const resumedAt = step;
  const deadline = c.minutes > 0 ? start + c.minutes * 60_000 : Infinity;
  let yielded = performance.now();
  try {
    for (; step < c.steps && performance.now() < deadline; step++) {
      // The CPU backends resolve every await here as a microtask: give the event loop a turn a
      // few times a second so a signal handler (Ctrl-C: save and exit) can run mid-training.
      if (performance.now() - yielded > 200) {
        await new Promise((r) => setTimeout(r, 0));
        yielded = performance.now();
      }
      const s = subSeed(c.seed, step);
      const x1raw = data.trainBatch(c.batch, s);
      const x0raw = sourceNoise(path, x1raw.shape.slice(1), x1raw.shape[0], s);
      const [x0, x1] = await coupling.pair(x0raw, x1raw, { seed: s, teacher: input.teacher });
      x0raw.dispose();
      x1raw.dispose();
      // Times from a per-step stream, so a resumed run draws what an uninterrupted one would.
      const u = rng(subSeed(c.seed, `time-${step}`));
      const ts = new Float32Array(c.batch);
      for (let i = 0; i < c.batch; i++) ts[i] = tMin + (tMax - tMin) * u();
      const t = tf.tensor1d(ts);
      const lrNow = c.warmup > 0 ? c.lr * Math.min(1, (step + 1) / c.warmup) : c.lr;
      (opt as unknown as { learningRate: number }).learningRate = lrNow;
      const value = optimizerStep(model, path, loss, vars, opt, { x0, x1, t }, c);
      tf.dispose([x0, x1, t]);
      if (ema.length) {
        tf.tidy(() => {
          vars.forEach((v, i) =>
            ema[i].assign(tf.add(tf.mul(ema[i], c.ema), tf.mul(v, 1 - c.ema)))
          );
        });
      }
      pending.push(value);
      const logNow = (step + 1) % c.logEvery === 0 || step + 1 === c.steps;
      if (logNow) {
        const vals = await Promise.all(pending.map((p) => p.data()));
        tf.dispose(pending);
        pending = [];
        const mean = vals.reduce((a, v) => a + v[0], 0) / vals.length;
        if (!Number.isFinite(mean)) {
          throw new NonFiniteLossError(
            `loss became ${mean} by step ${step + 1} (path ${path.name}, loss ${loss.name}); ` +
              `try a lower --lr or enable clipping`,
          );
        }
        last = mean;
        curve.push([step + 1, mean]);
      }
      if (ck && ((step + 1) % ck.every === 0) && step + 1 < c.steps) {
        await saveCheckpoint(ck.file, ck.key, vars, ema, opt, {
          step: step + 1,
          curve,
          lastLoss: last,
        });
      }
      if (logNow) {
        const secs = (performance.now() - start) / 1000;
        input.onProgress?.({
          step: step + 1,
          total: c.steps,
          loss: last,
          itPerSec: (step + 1 - resumedAt) / secs,
        });
      }
    }
  } catch (e) {
    tf.dispose(ema);
    throw e;
  } finally {
    tf.dispose(pending);
    opt.dispose();
  }
  return {
    steps: step,
    seconds: (performance.now() - start) / 1000,
    lossCurve: curve,
    finalLoss: last,
    useEma() {
      vars.forEach((v, i) => ema[i] && v.assign(ema[i]));
    },
    dispose() {
      tf.dispose(ema);
    },
  };
}

/** One optimizer step over the batch, in micro-batches if configured; returns the mean loss. */
function optimizerStep(
  model: Model,
  path: Path,
  loss: Loss,
  vars: tf.Variable[],
  opt: tf.Optimizer,
  batch: { x0: Tensor; x1: Tensor; t: tf.Tensor1D },
  c: TrainConfig,
): tf.Scalar {
  const n = batch.x0.shape[0];
  const micro = c.microBatch && c.microBatch < n ? c.microBatch : n;
  return tf.tidy(() => {
    let total: tf.Scalar | undefined;
    let grads: tf.NamedTensorMap = {};
    for (let start = 0; start < n; start += micro) {
      const m = Math.min(micro, n - start);
      const part = (x: Tensor) => (m === n ? x : x.slice(start, m));
      const r = tf.variableGrads(() =>
        tf.mul(
          loss.loss(model, path, {
            x0: part(batch.x0),
            x1: part(batch.x1),
            t: part(batch.t) as tf.Tensor1D,
          }),
          m / n,
        ) as tf.Scalar, vars);
      total = total ? tf.add(total, r.value) : r.value;
      grads = start === 0
        ? r.grads
        : Object.fromEntries(Object.keys(r.grads).map((k) => [k, tf.add(grads[k], r.grads[k])]));
    }
    const clipped = c.clip > 0 ? clipByGlobalNorm(grads, c.clip) : grads;
    opt.applyGradients(clipped as unknown as Record<string, tf.Variable>);
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
