// Model state on disk: training checkpoints (weights, EMA weights, Adam state, step, loss curve,
// elapsed time) and a run's final trained weights, each one safetensors file written durably, so
// an interrupted run resumes where it stopped and a trained run is never trained again.
import {
  encodeSafetensors,
  readSafetensorsMetadata,
  type TensorToWrite,
} from "../store/safetensors.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { readChecked } from "../store/read-checked.ts";
import { tf } from "../core/tf.ts";
import {
  checkCheckpoint,
  checkCheckpointState,
  CHECKPOINT_FORMAT,
  type CheckpointState,
  checkWeights,
  WEIGHTS_FORMAT,
} from "./checkpoint-check.ts";
import type { TrainRecord } from "../results/schema.ts";

export type { CheckpointState } from "./checkpoint-check.ts";

/** How a run reads back its own files. */
export interface LoadOptions {
  /** The training budget in steps: a file's step counts must lie in [0, totalSteps]. */
  totalSteps?: number;
  /** Told when a file fails its check and is moved aside (the work is then redone). */
  log?: (line: string) => void;
}

/** Adam's running products beta^t, which setWeights recomputes (with round-off) from t. */
interface AdamPowers {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

async function put(
  tensors: Record<string, TensorToWrite>,
  name: string,
  t: tf.Tensor,
): Promise<void> {
  tensors[name] = { shape: t.shape, data: Float32Array.from(await t.data() as Float32Array) };
}

/**
 * Save variables, EMA copies and optimizer state durably; `key` identifies the run's config.
 * @example
 * await saveCheckpoint("runs/x/checkpoints/r.safetensors", hash, vars, ema, opt, { step, curve, lastLoss });
 */
export async function saveCheckpoint(
  file: string,
  key: string,
  vars: tf.Variable[],
  ema: tf.Variable[],
  opt: tf.Optimizer,
  state: CheckpointState,
): Promise<void> {
  const tensors: Record<string, TensorToWrite> = {};
  for (const [i, v] of vars.entries()) await put(tensors, `var/${i}`, v);
  for (const [i, v] of ema.entries()) await put(tensors, `ema/${i}`, v);
  const optWeights = await opt.getWeights();
  for (const [i, w] of optWeights.entries()) await put(tensors, `opt/${i}`, w.tensor);
  // getWeights() makes a fresh scalar for the iteration count; the rest are the optimizer's own.
  for (const w of optWeights) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
  const powers = opt as unknown as AdamPowers;
  if (powers.accBeta1 && powers.accBeta2) {
    await put(tensors, "adam/accBeta1", powers.accBeta1);
    await put(tensors, "adam/accBeta2", powers.accBeta2);
  }
  const metadata = {
    format: CHECKPOINT_FORMAT,
    key,
    state: JSON.stringify(state),
    optNames: JSON.stringify(optWeights.map((w) => w.name)),
  };
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata), {
    tracePhase: "write-checkpoint",
  });
}

/**
 * Restore a checkpoint into the variables and optimizer if it exists and its key matches;
 * returns its state, or null (no file, or another config's: training starts over). A file that
 * fails its check (harness/checkpoint-check.ts: state, every tensor's shape and finiteness,
 * Adam's state) is moved aside to `<file>.unreadable-<time>`, told to `o.log`, and null
 * returned. Restoring is exact: resumed training computes what uninterrupted training would, bit
 * for bit on a deterministic backend.
 * @example
 * const state = await loadCheckpoint(file, hash, vars, ema, opt, { totalSteps: 400 }); // null: step 0
 */
export async function loadCheckpoint(
  file: string,
  key: string,
  vars: tf.Variable[],
  ema: tf.Variable[],
  opt: tf.Optimizer,
  o: LoadOptions = {},
): Promise<CheckpointState | null> {
  const ck = await readChecked({
    file,
    check: (f) =>
      checkCheckpoint(f, {
        key,
        shapes: vars.map((v) => v.shape),
        ema: ema.length > 0,
        totalSteps: o.totalSteps,
      }),
    then: "training starts over",
    log: o.log,
  });
  if (!ck) return null;
  tf.tidy(() => {
    vars.forEach((v, i) => v.assign(tf.tensor(ck.vars[i], v.shape)));
    ema.forEach((v, i) => v.assign(tf.tensor(ck.ema[i], v.shape)));
  });
  // Moments take their variable's shape (tfjs Adam needs it; FusedAdam reads them flat).
  const weights = ck.opt.map(({ name, data }, i) => ({
    name,
    tensor: tf.tensor(data, i === 0 ? [] : vars[(i - 1) % vars.length].shape),
  }));
  await opt.setWeights(weights);
  tf.dispose(weights.map((w) => w.tensor));
  const powers = opt as unknown as AdamPowers;
  if (powers.accBeta1 && powers.accBeta2 && ck.accBeta) {
    tf.tidy(() => {
      powers.accBeta1!.assign(tf.scalar(ck.accBeta![0]));
      powers.accBeta2!.assign(tf.scalar(ck.accBeta![1]));
    });
  }
  return ck.state;
}

/**
 * A checkpoint's training state alone (its header, checked), without a model: for status lines
 * and tests. Throws a SafetensorsError or FileCheckError naming the file.
 * @example
 * (await readCheckpointState("runs/x/checkpoints/r.safetensors")).step; // 120
 */
export async function readCheckpointState(file: string): Promise<CheckpointState> {
  return checkCheckpointState(await readSafetensorsMetadata(file), file);
}

/**
 * Save a run's final (evaluation) weights durably with `info` (e.g. its training record);
 * `key` identifies the run's config.
 * @example
 * await saveWeights("runs/x/weights/r.safetensors", hash, model.variables(), { train });
 */
export async function saveWeights(
  file: string,
  key: string,
  vars: tf.Variable[],
  info: Record<string, unknown>,
): Promise<void> {
  const tensors: Record<string, TensorToWrite> = {};
  for (const [i, v] of vars.entries()) await put(tensors, `var/${i}`, v);
  const metadata = { format: WEIGHTS_FORMAT, key, info: JSON.stringify(info) };
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata), {
    tracePhase: "write-weights",
  });
}

/**
 * Load final weights saved by saveWeights into `vars` if the file exists and its key matches;
 * returns the saved `info` (its training record), or null (nothing loaded). A file that fails its
 * check (a training record as results.json's schema wants it, every variable finite with its
 * shape) is moved aside to `<file>.unreadable-<time>`, told to `o.log`, and null returned.
 * @example
 * const info = await loadWeights(file, hash, model.variables()); // { train: {...} } or null
 */
export async function loadWeights(
  file: string,
  key: string,
  vars: tf.Variable[],
  o: LoadOptions = {},
): Promise<{ train: TrainRecord } | null> {
  const w = await readChecked({
    file,
    check: (f) =>
      checkWeights(f, { key, shapes: vars.map((v) => v.shape), totalSteps: o.totalSteps }),
    then: "the run trains again",
    log: o.log,
  });
  if (!w) return null;
  tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(w.vars[i], v.shape))));
  return w.info;
}
