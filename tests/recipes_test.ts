// Published recipes as budgets: TorchCFM's and Lipman et al.'s fields, the learning-rate schedules
// they need (resumed exactly), and the flags that change a recipe named in the config.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import { buildConfig } from "../cli/config.ts";
import { parseFlags } from "../cli/flags.ts";
import { vectorSource } from "../harness/data/source.ts";
import { loadToy2d } from "../harness/data/toy2d.ts";
import { learningRate } from "../harness/lr-schedule.ts";
import { BUILTIN_PLUGINS, discoverPlugins } from "../harness/registry.ts";
import { train, type TrainConfig } from "../harness/train.ts";

const reg = await discoverPlugins([BUILTIN_PLUGINS]);
const cfg = (...argv: string[]) =>
  buildConfig(parseFlags(["--suite", "cifar10", "--data-dir", "/nonexistent", ...argv]).values, {
    registry: reg,
    backend: "wasm",
  });

Deno.test("learning rate: TorchCFM's LambdaLR warm-up, fmbench's, and polynomial decay", () => {
  const torch = { lr: 2e-4, warmup: 5000, steps: 400_001, warmupFrom: "zero" as const };
  assert.equal(learningRate(0, torch), 0, "LambdaLR: the first step runs at lr 0");
  assert.equal(learningRate(2500, torch), 1e-4);
  assert.equal(learningRate(5000, torch), 2e-4);
  assert.equal(learningRate(400_000, torch), 2e-4, "then constant");
  const ours = { lr: 1, warmup: 4, steps: 10 };
  assert.deepEqual([0, 1, 2, 3, 4].map((k) => learningRate(k, ours)), [0.25, 0.5, 0.75, 1, 1]);
  const poly = {
    lr: 5e-4,
    warmup: 45_000,
    steps: 391_000,
    decay: { kind: "polynomial" as const, power: 1, endLr: 0 },
  };
  assert.equal(learningRate(45_000, poly), 5e-4);
  assert.ok(Math.abs(learningRate(218_000, poly) - 2.5e-4) < 1e-12, "halfway: half");
  assert.equal(learningRate(391_000, poly), 0);
  const sq = { ...poly, decay: { kind: "polynomial" as const, power: 2, endLr: 1e-5 } };
  assert.ok(Math.abs(learningRate(218_000, sq) - (1e-5 + (5e-4 - 1e-5) * 0.25)) < 1e-12);
});

Deno.test("--budget torchcfm is TorchCFM's recipe; --budget lipman is Lipman et al.'s", () => {
  const t = cfg("--budget", "torchcfm");
  assert.deepEqual(t.models, [{ name: "adm-unet", preset: "torchcfm" }]);
  assert.deepEqual(t.methods.map((m) => m.label), ["1-RF", "OT-CFM (sigma 0)"]);
  assert.deepEqual(
    t.methods.map((m) => m.path),
    ["linear", "linear"],
    "sigma 0: the straight path",
  );
  const tr = t.train;
  assert.deepEqual(
    [tr.lr, tr.batch, tr.warmup, tr.warmupFrom, tr.clip, tr.ema, tr.steps, tr.adam?.epsilon],
    [2e-4, 128, 5000, "zero", 1, 0.9999, 400_001, 1e-8],
  );
  assert.deepEqual(t.recipeChanges, []);
  assert.equal(t.eval.samples, 50_000);
  const l = cfg("--budget", "lipman");
  assert.deepEqual(l.models, [{ name: "adm-unet", preset: "lipman" }]);
  assert.deepEqual(
    [
      l.train.lr,
      l.train.batch,
      l.train.warmup,
      l.train.steps,
      l.train.decay?.kind,
      l.eval.nll.dequant,
    ],
    [5e-4, 256, 45_000, 391_000, "polynomial", 50],
  );
  // The other budgets keep tfjs's Adam and fmbench's warm-up (their figures do not move).
  assert.equal(cfg("--budget", "quick").train.adam, undefined);
  assert.equal(cfg("--budget", "quick").recipeChanges, undefined);
});

Deno.test("a flag that changes a recipe field is named; one that does not is not", () => {
  assert.deepEqual(cfg("--budget", "torchcfm", "--steps", "2000").recipeChanges, ["--steps 2000"]);
  assert.deepEqual(cfg("--budget", "torchcfm", "--steps", "400001").recipeChanges, []);
  assert.deepEqual(
    cfg("--budget", "torchcfm", "--models", "adm-unet:tiny", "--samples", "64").recipeChanges,
    ["--samples 64", "--models adm-unet:tiny"],
  );
  assert.deepEqual(cfg("--budget", "lipman", "--micro-batch", "4").recipeChanges, []);
});

Deno.test("a decaying schedule resumes from a checkpoint exactly", async () => {
  await tf.setBackend("cpu");
  const split = loadToy2d("moons", 300, 20, 0);
  const data = vectorSource("moons", split.train, split.test, 2);
  const config: TrainConfig = {
    steps: 30,
    batch: 16,
    lr: 5e-3,
    warmup: 6,
    warmupFrom: "zero",
    clip: 0,
    ema: 0.9,
    minutes: 0,
    seed: 4,
    logEvery: 5,
    decay: { kind: "polynomial", power: 2, endLr: 1e-4 },
    adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  };
  const parts = () => ({
    model: reg.models.get("mlp")!.create({ shape: [2], preset: "tiny", seed: 1 }),
    path: reg.paths.get("linear")!,
    loss: reg.losses.get("cfm")!,
    coupling: reg.couplings.get("independent")!,
    data,
    config,
  });
  const weights = (m: { variables(): tf.Variable[] }) =>
    Promise.all(m.variables().map(async (v) => Array.from(await v.data())));
  const a = parts();
  const full = await train(a);
  const dir = await Deno.makeTempDir();
  try {
    const b = parts();
    await assert.rejects(
      train({
        ...b,
        checkpoint: { file: `${dir}/ck.safetensors`, key: "k", every: 10 },
        onProgress: (p) => {
          if (p.step === 20) throw new Error("interrupted");
        },
      }),
      /interrupted/,
    );
    b.model.dispose();
    const c = parts();
    const rest = await train({
      ...c,
      checkpoint: { file: `${dir}/ck.safetensors`, key: "k", every: 10 },
    });
    assert.deepEqual(rest.resumedFrom, [20]);
    assert.deepEqual(rest.lossCurve, full.lossCurve);
    assert.deepEqual(await weights(c.model), await weights(a.model));
    rest.dispose();
    c.model.dispose();
  } finally {
    full.dispose();
    a.model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
