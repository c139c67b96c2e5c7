// Variance of the ScoreFlow (likelihood-weighted, lambda = g^2) loss estimate on toy2d, with t
// drawn uniformly and with Song et al.'s importance sampling, for the same model and batches.
//
//   deno run --allow-read --allow-env bench/scoreflow-variance.ts [--dataset moons] [--batches 200]
//
// Both estimators are unbiased for the same objective (1/|T|) int g(t)^2 E||s - score||^2 dt;
// the table gives their means, per-batch standard deviations and the variance ratio, for the
// network at initialisation and after a short Score Matching training (so s is not trivial).
import { parseArgs } from "node:util";
import { subSeed, tf } from "../core/mod.ts";
import { selectBackend } from "../backend/select.ts";
import { vectorSource } from "../harness/data/source.ts";
import { loadToy2d } from "../harness/data/toy2d.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { sourceNoise } from "../harness/source-noise.ts";
import { scoreLoss } from "../plugins/losses/_score.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    dataset: { type: "string", default: "moons" },
    batches: { type: "string", default: "200" },
    batch: { type: "string", default: "256" },
    "train-steps": { type: "string", default: "300" },
  },
});
await selectBackend("wasm");
const reg = await discoverPlugins();
const path = reg.paths.get("vp-diffusion")!;
const dsm = reg.losses.get("dsm")!;
const uniform = scoreLoss({
  name: "g2-uniform",
  description: "",
  weighting: "g2",
  importance: false,
});
const importance = reg.losses.get("scoreflow")!;
const s = loadToy2d(values.dataset!, 20000, 10, 0);
const data = vectorSource(values.dataset!, s.train, s.test, 2);
const model = reg.models.get("mlp")!.create({ shape: [2], preset: "default", seed: 1 });
const nb = Number(values.batches), bs = Number(values.batch);
const [lo, hi] = path.tRange;

function batch(seed: number) {
  const x1 = data.trainBatch(bs, seed);
  const x0 = sourceNoise({ path, shape: [2], count: bs, seed: subSeed(seed, "x0") });
  const t = tf.randomUniform(
    [bs],
    lo,
    hi,
    "float32",
    subSeed(seed, "t") & 0x7fffffff,
  ) as tf.Tensor1D;
  return { x0, x1, t };
}

function stats(xs: number[]) {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
  return { mean: m, sd: Math.sqrt(v), se: Math.sqrt(v / xs.length) };
}

function measure(label: string) {
  const a: number[] = [], b: number[] = [];
  for (let i = 0; i < nb; i++) {
    const bt = batch(subSeed(7, i));
    a.push(tf.tidy(() => uniform.loss(model, path, bt).dataSync()[0]));
    b.push(tf.tidy(() => importance.loss(model, path, bt).dataSync()[0]));
    tf.dispose([bt.x0, bt.x1, bt.t]);
  }
  const u = stats(a), q = stats(b);
  console.log(
    `| ${label} | uniform t | ${u.mean.toFixed(2)} ± ${u.se.toFixed(2)} | ${u.sd.toFixed(2)} | |`,
  );
  console.log(
    `| ${label} | importance | ${q.mean.toFixed(2)} ± ${q.se.toFixed(2)} | ${q.sd.toFixed(2)} | ${
      ((u.sd / q.sd) ** 2).toFixed(0)
    }x |`,
  );
}

console.log(
  `ScoreFlow loss estimates on ${values.dataset}, ${nb} batches of ${bs} (mean ± se, per-batch sd)`,
);
console.log("| model | t sampling | mean | sd | variance ratio |\n|---|---|---|---|---|");
measure("init");
const opt = tf.train.adam(2e-3);
for (let i = 0; i < Number(values["train-steps"]); i++) {
  const bt = batch(subSeed(99, i));
  tf.tidy(() => {
    opt.minimize(() => dsm.loss(model, path, bt) as tf.Scalar);
  });
  tf.dispose([bt.x0, bt.x1, bt.t]);
}
measure(`after ${values["train-steps"]} Score Matching steps`);
