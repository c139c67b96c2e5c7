// Training checkpoints: weights, EMA weights, Adam state, step and loss curve in one safetensors
// file, written atomically, so an interrupted run resumes where it stopped.
import { encodeSafetensors, readSafetensors } from "./store/safetensors.ts";
import { tf } from "../core/tf.ts";

export interface CheckpointState {
  step: number;
  curve: Array<[number, number]>;
  lastLoss: number;
}

/** Save variables, EMA copies and optimizer state; `key` identifies the run's config. */
export async function saveCheckpoint(
  file: string,
  key: string,
  vars: tf.Variable[],
  ema: tf.Variable[],
  opt: tf.Optimizer,
  state: CheckpointState,
): Promise<void> {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  const put = async (name: string, t: tf.Tensor) => {
    tensors[name] = { shape: t.shape, data: Float32Array.from(await t.data() as Float32Array) };
  };
  for (const [i, v] of vars.entries()) await put(`var/${i}`, v);
  for (const [i, v] of ema.entries()) await put(`ema/${i}`, v);
  const optWeights = await opt.getWeights();
  for (const [i, w] of optWeights.entries()) await put(`opt/${i}`, w.tensor);
  // getWeights() makes a fresh scalar for the iteration count; the rest are the optimizer's own.
  for (const w of optWeights) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
  const metadata = {
    format: "fmbench/checkpoint@1",
    key,
    state: JSON.stringify(state),
    optNames: JSON.stringify(optWeights.map((w) => w.name)),
  };
  const dir = file.slice(0, file.lastIndexOf("/"));
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const tmp = `${file}.tmp-${Deno.pid}`;
  await Deno.writeFile(tmp, encodeSafetensors(tensors, metadata));
  await Deno.rename(tmp, file);
}

/**
 * Restore a checkpoint into the variables and optimizer if it exists and its key matches;
 * returns its state, or null (no file, other config, or unreadable: training starts over).
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
  } catch {
    return null;
  }
  return JSON.parse(f.metadata.state) as CheckpointState;
}
