// The heavier paths of `deno task bench:compare` beside the four: the FID Inception forward (batch
// 16, 32x32 upsampled to 299x299), the ADM U-Net forward (TorchCFM's CIFAR-10 configuration, batch
// 16) and the Frechet distance at d = 2048 on the covariances bench/frechet-input.ts writes.
import { rng } from "../core/rng.ts";
import { tf } from "../core/tf.ts";
import { inceptionFromWeights } from "../features/inception/inception.ts";
import { seededWeights } from "../features/inception/seeded-weights.ts";
import { defaultLinalg, frechetParts, prepareGaussian } from "../features/frechet.ts";
import { createAdmUNet } from "../plugins/models/adm-unet.ts";
import { encodeSafetensors, SafetensorsFile } from "../store/safetensors.ts";
import { readFrechetInput } from "./frechet-input.ts";

/** One heavy path, set up and ready to run repeatedly (the same shape as four.ts's FourCase). */
export interface HeavyCase {
  name: "inception" | "adm_forward" | "frechet";
  run(): Promise<void>;
  extra(): Record<string, unknown>;
  dispose(): void;
}

/**
 * The FID Inception forward pass on `batch` seeded 32x32 images (seeded random weights: the same
 * work as pytorch-fid's weights).
 * @example
 * const c = inceptionCase(16); await c.run(); c.dispose();
 */
export function inceptionCase(batch = 16): HeavyCase {
  const net = inceptionFromWeights(
    new SafetensorsFile(encodeSafetensors(seededWeights(1234)), "seeded"),
  );
  const u = rng(99);
  const x = tf.tensor4d(Float32Array.from({ length: batch * 32 * 32 * 3 }, u), [batch, 32, 32, 3]);
  return {
    name: "inception",
    async run() {
      const f = net.features(x);
      await f.data();
      f.dispose();
    },
    extra: () => ({ batch }),
    dispose() {
      x.dispose();
      net.dispose();
    },
  };
}

/**
 * One forward pass (evaluation) of the ADM U-Net `preset` at batch `batch` on 32x32x3 inputs.
 * @example
 * const c = admForwardCase("torchcfm", 16); await c.run(); c.dispose();
 */
export function admForwardCase(preset = "torchcfm", batch = 16): HeavyCase {
  const shape = [32, 32, 3];
  const model = createAdmUNet({ shape, preset, seed: 0 });
  const x = tf.randomNormal([batch, ...shape], 0, 1, "float32", 1);
  const t = tf.randomUniform([batch], 0, 1, "float32", 2) as tf.Tensor1D;
  return {
    name: "adm_forward",
    async run() {
      const y = model.apply(x, t);
      await y.data();
      y.dispose();
    },
    extra: () => ({ batch, preset, params: model.paramCount() }),
    dispose() {
      tf.dispose([x, t]);
      model.dispose();
    },
  };
}

/**
 * The Frechet distance between the two Gaussians of `file` (bench/frechet-input.ts), from raw
 * statistics: factor the first, then the distance (what SciPy's route does in one go).
 * @example
 * const c = await frechetCase("/tmp/frechet-2048.f64"); await c.run(); c.dispose();
 */
export async function frechetCase(file: string): Promise<HeavyCase> {
  const { a, b } = await readFrechetInput(file);
  const linalg = defaultLinalg();
  let fid = NaN;
  return {
    name: "frechet",
    run() {
      fid = frechetParts(prepareGaussian(a, { linalg }), b, { linalg }).fid;
      return Promise.resolve();
    },
    extra: () => ({ dim: a.dim, fid, linalg: linalg.name }),
    dispose() {},
  };
}
