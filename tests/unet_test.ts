// U-Net model plugin: shapes, parameter counts, seeding, GroupNorm, time embedding, training.
import assert from "node:assert/strict";
import { selectBackend } from "../backend/select.ts";
import { tf } from "../core/tf.ts";
import { registerWasmConvGrads } from "../backend/wasm-conv-grads.ts";
import { groupNorm, normalizeGroups } from "../plugins/models/_unet/groupnorm.ts";
import { Params } from "../plugins/models/_unet/params.ts";
import { timeEmbedding } from "../plugins/models/_unet/timeembed.ts";
import unet from "../plugins/models/unet.ts";
import { randomArray } from "./helpers/random.ts";

await selectBackend("wasm");
registerWasmConvGrads();
await tf.setBackend("cpu");

Deno.test("unet plugin metadata", () => {
  assert.equal(unet.name, "unet");
  assert.deepEqual(unet.accepts, ["image"]);
  assert.equal(unet.usesConvolution, true);
  assert.deepEqual(Object.keys(unet.presets).sort(), ["paper", "small", "tiny"]);
});

Deno.test("tiny U-Net: output shape equals input shape, parameter count, no leaks", () => {
  tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const m = unet.create({ shape: [16, 16, 3], preset: "tiny", seed: 1 });
  const sizes = m.variables().reduce((a, v) => a + v.size, 0);
  assert.equal(m.paramCount(), sizes);
  assert.ok(m.paramCount() > 0 && m.paramCount() < 1_000_000);
  const x = tf.tensor(randomArray(2 * 16 * 16 * 3, 2), [2, 16, 16, 3]);
  const t = tf.tensor1d([0.25, 0.75]);
  const mid = tf.memory().numTensors;
  const y = m.apply(x, t);
  assert.deepEqual(y.shape, [2, 16, 16, 3]);
  assert.ok(Array.from(y.dataSync()).every(Number.isFinite));
  y.dispose();
  assert.equal(tf.memory().numTensors, mid, "apply() left intermediates behind");
  tf.dispose([x, t]);
  m.dispose();
  assert.equal(tf.memory().numTensors, before, "dispose() left variables behind");
});

Deno.test("preset parameter counts on 32x32x3 (recorded; paper = DDPM CIFAR-10, 35.7M)", () => {
  tf.setBackend("cpu");
  const counts: Record<string, number> = {};
  for (const preset of ["tiny", "small", "paper"]) {
    const m = unet.create({ shape: [32, 32, 3], preset, seed: 0 });
    counts[preset] = m.paramCount();
    m.dispose();
  }
  console.log("unet parameter counts:", counts);
  assert.ok(counts.tiny < 1_000_000);
  assert.ok(counts.small > 1_000_000 && counts.small < 10_000_000);
  assert.ok(Math.abs(counts.paper - 35.7e6) < 0.1e6, `paper has ${counts.paper} parameters`);
});

Deno.test("U-Net initialisation is deterministic from the seed", () => {
  tf.setBackend("cpu");
  const values = (seed: number) => {
    const m = unet.create({ shape: [16, 16, 3], preset: "tiny", seed });
    const out = m.variables().map((v) => Array.from(v.dataSync()));
    const shapes = m.variables().map((v) => v.shape.join("x"));
    m.dispose();
    return { out, shapes };
  };
  const a = values(7), b = values(7), c = values(8);
  assert.deepEqual(a.shapes, c.shapes, "variable order/shapes must not depend on the seed");
  assert.deepEqual(a.out, b.out);
  assert.notDeepEqual(a.out, c.out);
});

Deno.test("U-Net rejects bad shapes and presets with clear messages", () => {
  assert.throws(
    () => unet.create({ shape: [2], preset: "tiny", seed: 0 }),
    /must be \[H, W, C\]/,
  );
  assert.throws(() => unet.create({ shape: [10, 10, 3], preset: "paper", seed: 0 }), /multiples/);
  assert.throws(() => unet.create({ shape: [8, 8, 3], preset: "huge", seed: 0 }), /tiny/);
  const m = unet.create({ shape: [8, 8, 3], preset: "tiny", seed: 0 });
  const x = tf.zeros([1, 8, 8, 1]);
  const t = tf.zeros([1]) as tf.Tensor1D;
  assert.throws(() => m.apply(x, t), /input must be \[B, 8, 8, 3\]/);
  tf.dispose([x, t]);
  m.dispose();
});

Deno.test("GroupNorm normalises each group to mean 0, variance 1 before the affine", () => {
  tf.setBackend("cpu");
  const [b, h, w, c, groups] = [2, 4, 3, 8, 4];
  const x = tf.tensor(randomArray(b * h * w * c, 3, 6, 2.5), [b, h, w, c]);
  const v = normalizeGroups(x, groups).dataSync();
  const per = c / groups;
  for (let n = 0; n < b; n++) {
    for (let g = 0; g < groups; g++) {
      let s = 0, s2 = 0, k = 0;
      for (let p = 0; p < h * w; p++) {
        for (let j = 0; j < per; j++) {
          const val = v[(n * h * w + p) * c + g * per + j];
          s += val;
          s2 += val * val;
          k++;
        }
      }
      const mean = s / k, variance = s2 / k - mean * mean;
      assert.ok(Math.abs(mean) < 1e-5, `group ${g} of example ${n}: mean ${mean}`);
      assert.ok(Math.abs(variance - 1) < 1e-4, `group ${g} of example ${n}: variance ${variance}`);
    }
  }
  // The affine is per channel: y = normalised * gamma + beta.
  const p = new Params(1);
  const gn = {
    gamma: p.weight("g", [c], 1, 1),
    beta: p.weight("b", [c], 1, 1),
    groups,
    eps: 1e-6,
  };
  const y = groupNorm(x, gn).dataSync();
  const gamma = gn.gamma.dataSync(), beta = gn.beta.dataSync();
  for (let i = 0; i < y.length; i++) {
    assert.ok(Math.abs(y[i] - (v[i] * gamma[i % c] + beta[i % c])) < 1e-5);
  }
  tf.dispose([x, ...p.variables]);
});

Deno.test("time embedding: sin/cos halves with geometric frequencies", () => {
  tf.setBackend("cpu");
  const e = timeEmbedding(tf.tensor1d([0, 0.5]), 8, 1000);
  assert.deepEqual(e.shape, [2, 8]);
  const v = e.dataSync();
  assert.deepEqual(Array.from(v.slice(0, 8)), [0, 0, 0, 0, 1, 1, 1, 1]);
  // Row t = 0.5: frequency 0 is 1, so the first sin entry is sin(500).
  assert.ok(Math.abs(v[8] - Math.sin(500)) < 1e-4);
  assert.ok(Math.abs(v[8 + 3] - Math.sin(500 * 1e-4)) < 1e-6); // last frequency 10000^-1
  e.dispose();
});

Deno.test("training steps on a fixed batch reduce the loss without leaking tensors (wasm)", () => {
  tf.setBackend("wasm");
  const m = unet.create({ shape: [16, 16, 3], preset: "tiny", seed: 4 });
  const x = tf.tensor(randomArray(4 * 16 * 16 * 3, 5, 2), [4, 16, 16, 3]);
  const target = tf.tensor(randomArray(4 * 16 * 16 * 3, 6, 2), [4, 16, 16, 3]);
  const t = tf.tensor1d([0.1, 0.4, 0.6, 0.9]);
  const opt = tf.train.adam(2e-3);
  const losses: number[] = [];
  const counts: number[] = [];
  for (let step = 0; step < 6; step++) {
    const loss = opt.minimize(
      () => tf.mean(tf.square(tf.sub(m.apply(x, t, true), target))) as tf.Scalar,
      true,
      m.variables(),
    )!;
    losses.push(loss.dataSync()[0]);
    loss.dispose();
    counts.push(tf.memory().numTensors);
  }
  assert.ok(losses[5] < 0.9 * losses[0], `loss went ${losses.map((l) => l.toFixed(4))}`);
  // The first step creates Adam's moment slots; after that the count must stay flat.
  assert.ok(counts.slice(1).every((n) => n === counts[1]), `tensor counts ${counts}`);
  opt.dispose();
  tf.dispose([x, target, t]);
  m.dispose();
  tf.setBackend("cpu");
});
