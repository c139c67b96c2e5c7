// U-Net micro-benchmark: one flow-matching training step and one velocity evaluation, plain timings.
import { selectBackend } from "../backend/select.ts";
import { rng } from "../core/rng.ts";
import { tf } from "../core/tf.ts";
import { registerWasmConvGrads } from "../backend/wasm-conv-grads.ts";
import unet from "../plugins/models/unet.ts";
import { finish } from "./gpu-sync.ts";

/** What unetMicro measured (wall-clock, median over the timed repetitions). */
export interface UnetMicroResult {
  backend: string;
  preset: string;
  batch: number;
  /** Examples per forward/backward pass (gradients summed over the batch). */
  microBatch: number;
  params: number;
  /** Adam step on the linear-path flow-matching loss (forward + backward + update). */
  train: { msPerStep: number; imagesPerSec: number; reps: number };
  /** One velocity evaluation of the whole batch (forward, training = false, in micro-batches). */
  forward: { msPerEval: number; imagesPerSec: number; reps: number };
}

export interface UnetMicroOptions {
  preset?: string;
  batch?: number;
  /** Timed repetitions of each measurement after one warm-up (default 2). */
  reps?: number;
  /** Image side (default 32, CIFAR-10). */
  size?: number;
  /**
   * Examples per forward/backward pass; gradients are summed over the batch before one Adam
   * update. Default: the whole batch, but 32 on wasm (batch 128 of "small" overflows its heap).
   */
  microBatch?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * u());
}

/**
 * Time a U-Net training step and a forward pass on `backend` (activated if it is not current;
 * wasm gets the convolution gradient kernels). Every timed repetition ends when the backend has
 * finished its work (on webgpu: the device queue is idle), not when it was dispatched. Returns
 * plain timings, not mitata output.
 * @example
 * const r = await unetMicro("wasm", { preset: "small", batch: 128 });
 */
export async function unetMicro(
  backend: string,
  opts: UnetMicroOptions = {},
): Promise<UnetMicroResult> {
  if (tf.getBackend() !== backend) {
    if (!(await tf.setBackend(backend))) throw new Error(`unetMicro: backend "${backend}" failed`);
  }
  if (backend === "wasm") registerWasmConvGrads();
  const preset = opts.preset ?? "small", batch = opts.batch ?? 128, reps = opts.reps ?? 2;
  const size = opts.size ?? 32;
  const micro = opts.microBatch ?? (backend === "wasm" ? Math.min(batch, 32) : batch);
  if (!Number.isInteger(micro) || micro < 1) {
    throw new Error(`unetMicro: microBatch must be a positive integer, got ${micro}`);
  }
  const shape = [batch, size, size, 3];
  const n = batch * size * size * 3;
  const model = unet.create({ shape: [size, size, 3], preset, seed: 0 });
  const x1 = tf.tensor(uniform(n, 1, -1, 1), shape);
  const x0 = tf.randomNormal(shape, 0, 1, "float32", 2);
  const t = tf.tensor1d(uniform(batch, 3, 0, 1));
  const tc = t.reshape([batch, 1, 1, 1]);
  const xt = tf.tidy(() => tf.add(tf.mul(tc, x1), tf.mul(tf.sub(1, tc), x0)));
  const ut = tf.sub(x1, x0);
  const opt = tf.train.adam(1e-4);
  const vars = model.variables();
  // Micro-batches: the U-Net has no cross-example statistics (GroupNorm is per example), so the
  // summed gradient of size-weighted micro-batch losses equals the full-batch gradient.
  const chunks: Array<[tf.Tensor, tf.Tensor1D, tf.Tensor, number]> = [];
  for (let s0 = 0; s0 < batch; s0 += micro) {
    const k = Math.min(micro, batch - s0);
    chunks.push([xt.slice(s0, k), t.slice(s0, k) as tf.Tensor1D, ut.slice(s0, k), k / batch]);
  }
  const step = async () => {
    let acc: tf.NamedTensorMap | undefined;
    for (const [xc, tcs, uc, weight] of chunks) {
      const { value, grads } = tf.variableGrads(
        () => tf.mul(tf.mean(tf.square(tf.sub(model.apply(xc, tcs, true), uc))), weight),
        vars,
      );
      value.dispose();
      if (!acc) acc = grads;
      else {
        const prev: tf.NamedTensorMap = acc;
        acc = Object.fromEntries(Object.keys(prev).map((k) => [k, tf.add(prev[k], grads[k])]));
        tf.dispose([...Object.values(prev), ...Object.values(grads)]);
      }
    }
    opt.applyGradients(acc as unknown as Parameters<typeof opt.applyGradients>[0]);
    // The updated weights depend on the whole step: waiting for one element waits for all.
    const probe = tf.tidy(() => tf.slice(vars[vars.length - 1].flatten(), 0, 1));
    tf.dispose(Object.values(acc!));
    await finish(probe);
    probe.dispose();
  };
  const evalOnce = async () => {
    const probes: tf.Tensor[] = [];
    for (const [xc, tcs] of chunks) {
      const v = model.apply(xc, tcs, false);
      probes.push(tf.tidy(() => tf.slice(v.flatten(), 0, 1)));
      v.dispose();
    }
    // The queue runs in order: the last chunk done means every chunk is done.
    await finish(probes[probes.length - 1]);
    tf.dispose(probes);
  };
  const time = async (f: () => Promise<void>) => {
    await f(); // warm-up (kernel setup, shader compilation, Adam slots)
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await f();
      ms.push(performance.now() - t0);
    }
    return median(ms);
  };
  try {
    const trainMs = await time(step);
    const fwdMs = await time(evalOnce);
    return {
      backend,
      preset,
      batch,
      microBatch: micro,
      params: model.paramCount(),
      train: { msPerStep: trainMs, imagesPerSec: (1000 * batch) / trainMs, reps },
      forward: { msPerEval: fwdMs, imagesPerSec: (1000 * batch) / fwdMs, reps },
    };
  } finally {
    opt.dispose();
    tf.dispose([x1, x0, t, tc, xt, ut, ...chunks.flatMap(([a, b, c]) => [a, b, c])]);
    model.dispose();
  }
}

if (import.meta.main) {
  // deno run -A probes/unet-micro.ts [backend] [preset] [batch] [reps] [microBatch]
  const [backend = "wasm", preset = "small", batch = "128", reps = "2", micro] = Deno.args;
  await selectBackend(backend); // as the harness does (wasm gets its matmul fix there)
  const r = await unetMicro(backend, {
    preset,
    batch: Number(batch),
    reps: Number(reps),
    microBatch: micro ? Number(micro) : undefined,
  });
  console.log(JSON.stringify(r));
}
