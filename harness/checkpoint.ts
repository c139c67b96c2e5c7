// Model state on disk: training checkpoints (weights, EMA weights, Adam state, step, loss curve,
// elapsed time) and a run's final trained weights, each one safetensors file written durably, so
// an interrupted run resumes where it stopped and a trained run is never trained again.
import { encodeSafetensors, readSafetensors, type TensorToWrite } from "../store/safetensors.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { tf } from "../core/tf.ts";

export interface CheckpointState {
  /** Optimizer steps completed. */
  step: number;
  curve: Array<[number, number]>;
  lastLoss: number;
  /** Training seconds spent before this checkpoint, summed over every session. */
  seconds?: number;
  /** CPU seconds of the training thread before this checkpoint, summed over every session. */
  cpuSeconds?: number;
  /** CPU seconds per step of each logging interval so far (for the spread of the cost). */
  cpuPerStep?: number[];
  /** Losses of the steps since the last loss-curve point (so the curve continues exactly). */
  pending?: number[];
  /** Steps at which training resumed from a checkpoint so far. */
  resumedFrom?: number[];
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
    format: "fmbench/checkpoint@1",
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
 * returns its state, or null (no file, other config, or unreadable: training starts over).
 * Restoring is exact: resumed training computes what uninterrupted training would, bit for bit
 * on a deterministic backend.
 * @example
 * const state = await loadCheckpoint(file, hash, vars, ema, opt); // null: start from step 0
 */
export async function loadCheckpoint(
  file: string,
  key: string,
  vars: tf.Variable[],
  ema: tf.Variable[],
  opt: tf.Optimizer,
): Promise<CheckpointState | null> {
  let f;
  try {
    f = await readSafetensors(file);
  } catch {
    return null;
  }
  if (f.metadata.format !== "fmbench/checkpoint@1" || f.metadata.key !== key) return null;
  const load = (name: string, like: tf.Tensor) => tf.tensor(f.float32(name), like.shape);
  try {
    tf.tidy(() => {
      vars.forEach((v, i) => v.assign(load(`var/${i}`, v)));
      ema.forEach((v, i) => v.assign(load(`ema/${i}`, v)));
    });
    const names = JSON.parse(f.metadata.optNames) as string[];
    const weights = names.map((name, i) => {
      const e = f.entry(`opt/${i}`)!;
      return { name, tensor: tf.tensor(f.float32(`opt/${i}`), e.shape) };
    });
    await opt.setWeights(weights);
    tf.dispose(weights.map((w) => w.tensor));
    const powers = opt as unknown as AdamPowers;
    if (powers.accBeta1 && powers.accBeta2 && f.entry("adam/accBeta1")) {
      tf.tidy(() => {
        powers.accBeta1!.assign(tf.scalar(f.float32("adam/accBeta1")[0]));
        powers.accBeta2!.assign(tf.scalar(f.float32("adam/accBeta2")[0]));
      });
    }
  } catch {
    return null;
  }
  return JSON.parse(f.metadata.state) as CheckpointState;
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
  const metadata = { format: "fmbench/weights@1", key, info: JSON.stringify(info) };
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata), {
    tracePhase: "write-weights",
  });
}

/**
 * Load final weights saved by saveWeights into `vars` if the file exists, its key matches and
 * every shape fits; returns the saved `info`, or null (nothing loaded).
 * @example
 * const info = await loadWeights(file, hash, model.variables()); // { train: {...} } or null
 */
export async function loadWeights(
  file: string,
  key: string,
  vars: tf.Variable[],
): Promise<Record<string, unknown> | null> {
  let f;
  try {
    f = await readSafetensors(file);
  } catch {
    return null;
  }
  if (f.metadata.format !== "fmbench/weights@1" || f.metadata.key !== key) return null;
  const fits = vars.every((v, i) => {
    const e = f.entry(`var/${i}`);
    return e !== undefined && JSON.stringify(e.shape) === JSON.stringify(v.shape);
  });
  if (!fits) return null;
  tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(f.float32(`var/${i}`), v.shape))));
  return JSON.parse(f.metadata.info) as Record<string, unknown>;
}
