// The four hot paths compared with PyTorch (bench/torch_reference.py): MLP train step at batch
// 256, velocity eval at batch 2,000, dopri5 sampling of 2,000 points, U-Net small step at batch 32.
import { tf } from "../core/tf.ts";
import type { Model, VelocityField } from "../core/types.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { optimizerStep } from "../harness/train.ts";
import { TOY2D_TRAIN } from "../harness/suites/toy2d.ts";

/** One timing: the median over `reps` repetitions after a warm-up, in milliseconds. */
export interface FourTiming {
  side: "fmbench";
  name: "mlp_train" | "velocity" | "dopri5" | "unet_train";
  ms: number;
  reps: number;
  all: number[];
  backend: string;
  [extra: string]: unknown;
}

/**
 * n values in [-1, 1) from the LCG s <- 1664525 s + 1013904223 (mod 2^32); the same sequence as
 * bench/torch_reference.py's det_uniform, so both sides can build the same weights.
 * @example
 * detUniform(3, 1000); // three values in [-1, 1)
 */
export function detUniform(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    out[i] = 2 * (s / 4294967296) - 1;
  }
  return out;
}

function detNormal(n: number, seed: number): Float32Array {
  const u = [0, 1, 2, 3].map((k) => detUniform(n, seed + k));
  return Float32Array.from(
    { length: n },
    (_, i) => (Math.sqrt(3) / 2) * (u[0][i] + u[1][i] + u[2][i] + u[3][i]),
  );
}

/** Set an MLP's weights as bench/torch_reference.py's Mlp.set_det_weights does. */
function setDetWeights(model: Model, gain: number, outGain: number): void {
  const vars = model.variables();
  const layers = vars.length / 2;
  for (let i = 0; i < layers; i++) {
    const w = vars[2 * i], b = vars[2 * i + 1];
    const [fin, fout] = w.shape;
    const lim = (i + 1 === layers ? outGain : gain) * Math.sqrt(6 / (fin + fout));
    tf.tidy(() => {
      w.assign(tf.mul(tf.tensor(detUniform(fin * fout, 1000 + i), [fin, fout]), lim));
      b.assign(tf.mul(tf.tensor(detUniform(fout, 2000 + i), [fout]), 0.1));
    });
  }
}

async function median(
  f: () => Promise<unknown> | unknown,
  reps: number,
  warmup = 2,
): Promise<{ ms: number; all: number[] }> {
  for (let i = 0; i < warmup; i++) await f();
  const all: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    all.push(performance.now() - t0);
  }
  const s = [...all].sort((a, b) => a - b);
  const ms = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { ms, all: all.map((x) => Math.round(x * 1000) / 1000) };
}

export interface FourOptions {
  reps?: number;
  unetReps?: number;
  only?: string[];
  /** Scale of the dopri5 field's hidden weights (bench/torch_reference.py --gain). */
  gain?: number;
  /** Scale of its output layer's weights (--out-gain). */
  outGain?: number;
}

/**
 * Time the four hot paths on the current backend with the harness's own training step.
 * @example
 * for (const r of await timeFour({ reps: 5 })) console.log(r.name, r.ms);
 */
export async function timeFour(o: FourOptions = {}): Promise<FourTiming[]> {
  const reps = o.reps ?? 15, unetReps = o.unetReps ?? 5;
  const gain = o.gain ?? 5, outGain = o.outGain ?? 0.5;
  const only = new Set(o.only ?? ["mlp_train", "velocity", "dopri5", "unet_train"]);
  const reg = await discoverPlugins();
  const path = reg.paths.get("cond-ot")!, cfm = reg.losses.get("cfm")!;
  const backend = tf.getBackend();
  const out: FourTiming[] = [];
  const emit = (name: FourTiming["name"], r: { ms: number; all: number[] }, extra = {}) =>
    out.push({
      side: "fmbench",
      name,
      ms: r.ms,
      reps: r.all.length,
      all: r.all,
      backend,
      ...extra,
    });
  const trainCfg = { ...TOY2D_TRAIN, seed: 0 };

  if (only.has("mlp_train")) {
    const model = reg.models.get("mlp")!.create({ shape: [2], preset: "default", seed: 0 });
    const opt = tf.train.adam(trainCfg.lr);
    const x1 = tf.randomNormal([256, 2], 0, 1, "float32", 1);
    const x0 = tf.randomNormal([256, 2], 0, 1, "float32", 2);
    const t = tf.randomUniform([256], 0, 1, "float32", 3) as tf.Tensor1D;
    const vars = model.variables();
    const r = await median(async () => {
      const v = optimizerStep(model, path, cfm, vars, opt, { x0, x1, t }, trainCfg);
      await v.data();
      v.dispose();
    }, reps);
    emit("mlp_train", r, { batch: 256 });
    opt.dispose();
    tf.dispose([x0, x1, t]);
    model.dispose();
  }

  if (only.has("velocity") || only.has("dopri5")) {
    const model = reg.models.get("mlp")!.create({ shape: [2], preset: "default", seed: 0 });
    setDetWeights(model, gain, outGain);
    const vf: VelocityField = cfm.velocity(model, path);
    const x = tf.tensor2d(detNormal(4000, 7), [2000, 2]);
    if (only.has("velocity")) {
      const r = await median(async () => {
        const v = vf(x, 0.5);
        await v.data();
        v.dispose();
      }, reps);
      emit("velocity", r, { batch: 2000 });
    }
    if (only.has("dopri5")) {
      const dopri5 = reg.solvers.get("dopri5")!;
      let nfe = 0;
      const counted: VelocityField = (y, tt) => {
        nfe++;
        return vf(y, tt);
      };
      let meanAbs = NaN;
      const solve = async () => {
        nfe = 0;
        const { x: y } = await dopri5.integrate(counted, x, {
          t0: 0,
          t1: 1,
          rtol: 1e-5,
          atol: 1e-5,
        });
        meanAbs = (await tf.tidy(() => tf.mean(tf.abs(y))).data())[0];
        y.dispose();
      };
      const r = await median(solve, Math.max(3, Math.floor(reps / 3)), 1);
      emit("dopri5", r, { batch: 2000, nfe, rtol: 1e-5, atol: 1e-5, mean_abs: meanAbs });
    }
    x.dispose();
    model.dispose();
  }

  if (only.has("unet_train")) {
    const model = reg.models.get("unet")!.create({ shape: [32, 32, 3], preset: "small", seed: 0 });
    const opt = tf.train.adam(1e-4);
    const x1 = tf.randomUniform([32, 32, 32, 3], -1, 1, "float32", 1);
    const x0 = tf.randomNormal([32, 32, 32, 3], 0, 1, "float32", 2);
    const t = tf.randomUniform([32], 0, 1, "float32", 3) as tf.Tensor1D;
    const vars = model.variables();
    const cfg = { ...trainCfg, lr: 1e-4 };
    const r = await median(
      async () => {
        const v = optimizerStep(model, path, cfm, vars, opt, { x0, x1, t }, cfg);
        await v.data();
        v.dispose();
      },
      unetReps,
      1,
    );
    emit("unet_train", r, { batch: 32, params: model.paramCount() });
    opt.dispose();
    tf.dispose([x0, x1, t]);
    model.dispose();
  }
  return out;
}
