// The four hot paths compared with PyTorch (bench/torch_reference.py): MLP train step at batch
// 256, velocity eval at batch 2,000, dopri5 sampling of 2,000 points, U-Net small step at batch 32;
// and, when named in `only`, the heavy ones of bench/heavy-cases.ts (Inception, ADM U-Net, Frechet).
import process from "node:process";
import { tf } from "../core/tf.ts";
import type { Model, VelocityField } from "../core/types.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { createAdam } from "../harness/fused-adam.ts";
import { optimizerStep } from "../harness/train.ts";
import { TOY2D_TRAIN } from "../harness/suites/toy2d.ts";
import { admForwardCase, frechetCase, type HeavyCase, inceptionCase } from "./heavy-cases.ts";
import { lcgUniform } from "../core/rng.ts";

/** One timing: the median over `reps` repetitions after a warm-up, in milliseconds. */
export interface FourTiming {
  side: "fmbench";
  name: FourCase["name"];
  ms: number;
  /** Median CPU time of a repetition (this process, all threads). */
  cpuMs: number;
  reps: number;
  all: number[];
  cpuAll: number[];
  backend: string;
  [extra: string]: unknown;
}

function detNormal(n: number, seed: number): Float32Array {
  const u = [0, 1, 2, 3].map((k) => lcgUniform(n, seed + k));
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
      w.assign(tf.mul(tf.tensor(lcgUniform(fin * fout, 1000 + i), [fin, fout]), lim));
      b.assign(tf.mul(tf.tensor(lcgUniform(fout, 2000 + i), [fout]), 0.1));
    });
  }
}

/**
 * Median wall time and median CPU time (process.cpuUsage: this process, all its threads) of
 * `reps` repetitions after `warmup` ones. On a shared machine the CPU time is the steadier figure:
 * it does not count the time other processes hold the core.
 */
async function median(
  f: () => Promise<unknown> | unknown,
  reps: number,
  warmup = 2,
): Promise<{ ms: number; cpuMs: number; all: number[]; cpuAll: number[] }> {
  for (let i = 0; i < warmup; i++) await f();
  const all: number[] = [], cpuAll: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    all.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuAll.push((c.user + c.system) / 1000);
  }
  const mid = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return { ms: mid(all), cpuMs: mid(cpuAll), all: all.map(r3), cpuAll: cpuAll.map(r3) };
}

export interface FourOptions {
  reps?: number;
  unetReps?: number;
  only?: string[];
  /** Scale of the dopri5 field's hidden weights (bench/torch_reference.py --gain). */
  gain?: number;
  /** Scale of its output layer's weights (--out-gain). */
  outGain?: number;
  /** Repetitions of the heavy paths (inception, adm_forward, frechet); default 3. */
  heavyReps?: number;
  /** The frechet path's input file (bench/frechet-input.ts); required to run it. */
  frechetInput?: string;
}

/** One of the four hot paths, set up and ready to run repeatedly. */
export interface FourCase {
  name: "mlp_train" | "velocity" | "dopri5" | "unet_train" | HeavyCase["name"];
  /** One repetition (a training step, an evaluation, a solve), awaited to completion. */
  run(): Promise<void>;
  /** What to report beside the timing (batch, NFE, parameters). */
  extra(): Record<string, unknown>;
  dispose(): void;
}

const ALL: FourTiming["name"][] = ["mlp_train", "velocity", "dopri5", "unet_train"];

/**
 * Set up the four hot paths (or those in `only`) on the current backend, with the harness's own
 * training step (harness/train.ts optimizerStep), velocity field and dopri5 plugin.
 * @example
 * const cases = await fourCases({ only: ["velocity"] });
 * await cases[0].run();
 * cases.forEach((c) => c.dispose());
 */
export async function fourCases(o: FourOptions = {}): Promise<FourCase[]> {
  const gain = o.gain ?? 5, outGain = o.outGain ?? 0.5;
  const only = new Set(o.only ?? ALL);
  const reg = await discoverPlugins();
  const path = reg.paths.get("cond-ot")!, cfm = reg.losses.get("cfm")!;
  const trainCfg = { ...TOY2D_TRAIN, seed: 0 };
  const cases: FourCase[] = [];

  const trainCase = (
    name: FourCase["name"],
    model: Model,
    shape: number[],
    lr: number,
  ): FourCase => {
    const opt = createAdam(lr);
    const x1 = tf.randomUniform(shape, -1, 1, "float32", 1);
    const x0 = tf.randomNormal(shape, 0, 1, "float32", 2);
    const t = tf.randomUniform([shape[0]], 0, 1, "float32", 3) as tf.Tensor1D;
    const ts = Float32Array.from(t.dataSync()); // the times on the host, as the training loop has them
    const vars = model.variables();
    const cfg = { ...trainCfg, lr };
    return {
      name,
      async run() {
        const v = optimizerStep({
          model,
          path,
          loss: cfm,
          vars,
          optimizer: opt,
          batch: { x0, x1, t, ts },
          config: cfg,
        });
        await v.data();
        v.dispose();
      },
      extra: () => ({ batch: shape[0], params: model.paramCount() }),
      dispose() {
        opt.dispose();
        tf.dispose([x0, x1, t]);
        model.dispose();
      },
    };
  };

  if (only.has("mlp_train")) {
    const model = reg.models.get("mlp")!.create({ shape: [2], preset: "default", seed: 0 });
    cases.push(trainCase("mlp_train", model, [256, 2], trainCfg.lr));
  }
  if (only.has("velocity") || only.has("dopri5")) {
    const model = reg.models.get("mlp")!.create({ shape: [2], preset: "default", seed: 0 });
    setDetWeights(model, gain, outGain);
    const vf: VelocityField = cfm.velocity(model, path);
    const x = tf.tensor2d(detNormal(4000, 7), [2000, 2]);
    let owners = (only.has("velocity") ? 1 : 0) + (only.has("dopri5") ? 1 : 0);
    const release = () => {
      if (--owners === 0) {
        x.dispose();
        model.dispose();
      }
    };
    if (only.has("velocity")) {
      cases.push({
        name: "velocity",
        async run() {
          const v = vf(x, 0.5);
          await v.data();
          v.dispose();
        },
        extra: () => ({ batch: 2000 }),
        dispose: release,
      });
    }
    if (only.has("dopri5")) {
      const dopri5 = reg.solvers.get("dopri5")!;
      let nfe = 0, meanAbs = NaN;
      const counted: VelocityField = (y, tt) => {
        nfe++;
        return vf(y, tt);
      };
      cases.push({
        name: "dopri5",
        async run() {
          nfe = 0;
          const opts = { t0: 0, t1: 1, rtol: 1e-5, atol: 1e-5 };
          const { x: y } = await dopri5.integrate(counted, x, opts);
          const m = tf.tidy(() => tf.mean(tf.abs(y)));
          meanAbs = (await m.data())[0];
          m.dispose();
          y.dispose();
        },
        extra: () => ({ batch: 2000, nfe, rtol: 1e-5, atol: 1e-5, mean_abs: meanAbs }),
        dispose: release,
      });
    }
  }
  if (only.has("unet_train")) {
    const model = reg.models.get("unet")!.create({
      shape: [32, 32, 3],
      preset: "small",
      seed: 0,
    });
    cases.push(trainCase("unet_train", model, [32, 32, 32, 3], 1e-4));
  }
  if (only.has("inception")) cases.push(inceptionCase(16));
  if (only.has("adm_forward")) cases.push(admForwardCase("torchcfm", 16));
  if (only.has("frechet")) {
    if (!o.frechetInput) throw new Error("fourCases: frechet needs frechetInput");
    cases.push(await frechetCase(o.frechetInput));
  }
  return cases;
}

/**
 * Time the four hot paths on the current backend: the median of `reps` repetitions after a
 * warm-up (`unetReps` for the U-Net, a third of `reps` for dopri5).
 * @example
 * for (const r of await timeFour({ reps: 5 })) console.log(r.name, r.ms);
 */
export async function timeFour(o: FourOptions = {}): Promise<FourTiming[]> {
  const reps = o.reps ?? 15, unetReps = o.unetReps ?? 5, heavyReps = o.heavyReps ?? 3;
  const heavy = ["inception", "adm_forward", "frechet"];
  const backend = tf.getBackend();
  const out: FourTiming[] = [];
  for (const c of await fourCases(o)) {
    const n = c.name === "unet_train"
      ? unetReps
      : heavy.includes(c.name)
      ? heavyReps
      : c.name === "dopri5"
      ? Math.max(3, Math.floor(reps / 3))
      : reps;
    const warm = c.name === "unet_train" || c.name === "dopri5" || heavy.includes(c.name) ? 1 : 2;
    const r = await median(() => c.run(), n, warm);
    out.push({
      side: "fmbench",
      name: c.name,
      ms: r.ms,
      cpuMs: r.cpuMs,
      reps: r.all.length,
      all: r.all,
      cpuAll: r.cpuAll,
      backend,
      ...c.extra(),
    });
    c.dispose();
  }
  return out;
}
