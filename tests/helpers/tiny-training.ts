// A tiny training setup on the cpu backend (moons, the tiny MLP, 40 steps) shared by the tests of
// checkpoints and resumption, of files read back, and of learning curves.
import { tf } from "../../core/tf.ts";
import { vectorSource } from "../../harness/data/source.ts";
import { loadToy2d } from "../../harness/data/toy2d.ts";
import { discoverPlugins } from "../../harness/registry.ts";
import type { TrainConfig } from "../../harness/train.ts";

/**
 * Select the cpu backend and return the plugins, 500 moons training points (and `nTest` held out,
 * default 50), a 40-step config with warm-up, clipping and EMA, and `parts()`: a fresh tiny MLP
 * with FM w/ OT's path, loss and coupling, ready for `train`.
 * @example
 * const { parts } = await tinyTraining();
 * await train(parts());
 */
export async function tinyTraining(o: { nTest?: number } = {}) {
  await tf.setBackend("cpu");
  const reg = await discoverPlugins();
  const split = loadToy2d("moons", 500, o.nTest ?? 50, 0);
  const data = vectorSource("moons", split.train, split.test, 2);
  const config: TrainConfig = {
    steps: 40,
    batch: 32,
    lr: 1e-2,
    warmup: 5,
    clip: 1,
    ema: 0.9,
    minutes: 0,
    seed: 3,
    logEvery: 10,
  };
  const parts = () => ({
    model: reg.models.get("mlp")!.create({ shape: [2], preset: "tiny", seed: 1 }),
    path: reg.paths.get("cond-ot")!,
    loss: reg.losses.get("cfm")!,
    coupling: reg.couplings.get("independent")!,
    data,
    config,
  });
  return { reg, data, config, parts };
}
