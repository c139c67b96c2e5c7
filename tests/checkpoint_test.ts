// Training checkpoints: a run interrupted mid-way resumes to exactly the uninterrupted result.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import { vectorSource } from "../harness/data/source.ts";
import { loadToy2d } from "../harness/data/toy2d.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { train, type TrainConfig } from "../harness/train.ts";

await tf.setBackend("cpu");
const reg = await discoverPlugins();
const split = loadToy2d("moons", 500, 50, 0);
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

function weights(m: { variables(): tf.Variable[] }): Promise<number[][]> {
  return Promise.all(m.variables().map(async (v) => Array.from(await v.data())));
}

Deno.test("checkpoint: an interrupted run resumes to the same weights, EMA and loss curve", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/ck.safetensors`;
  const a = parts();
  const full = await train(a);
  full.useEma();
  const want = await weights(a.model);

  const b = parts();
  const before = tf.memory().numTensors;
  await assert.rejects(
    train({
      ...b,
      checkpoint: { file, key: "k1", every: 20 },
      onProgress: (p) => {
        if (p.step === 20) throw new Error("simulated interruption");
      },
    }),
    /simulated interruption/,
  );
  b.model.dispose();
  // Saving leaves nothing behind (the model's own variables are gone with dispose()).
  assert.ok(tf.memory().numTensors <= before - b.model.variables().length, "checkpoint leaked");

  const c = parts();
  let resumedAt = -1;
  const rest = await train({
    ...c,
    checkpoint: { file, key: "k1", every: 20 },
    onResume: (s) => (resumedAt = s),
  });
  rest.useEma();
  assert.equal(resumedAt, 20);
  // Adam's restored bias corrections are recomputed as beta^t rather than accumulated step by
  // step, so values agree to float32 round-off rather than bit for bit.
  assert.deepEqual(rest.lossCurve.map(([s]) => s), full.lossCurve.map(([s]) => s));
  rest.lossCurve.forEach(([, l], i) => {
    assert.ok(Math.abs(l - full.lossCurve[i][1]) < 1e-5 * Math.abs(l), `loss at ${i}`);
  });
  const got = await weights(c.model);
  for (let i = 0; i < want.length; i++) {
    for (let j = 0; j < want[i].length; j++) {
      assert.ok(Math.abs(got[i][j] - want[i][j]) < 1e-5, `variable ${i}[${j}]`);
    }
  }

  // A checkpoint of another config is ignored: training starts over.
  const d = parts();
  let resumed = false;
  await train({
    ...d,
    checkpoint: { file, key: "other", every: 100 },
    onResume: () => (resumed = true),
  });
  assert.equal(resumed, false);
  for (const x of [a, c, d]) x.model.dispose();
  for (const o of [full, rest]) o.dispose();
  await Deno.remove(dir, { recursive: true });
});
