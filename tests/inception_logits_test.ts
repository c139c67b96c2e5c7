// Tests for the Inception logits (the checkpoint's 1008-way fc layer without its bias, as
// torch-fidelity's "logits_unbiased"): against a float64 product, against torch-fidelity's own
// network with its preprocessing (fixture by bench/inception_torch_fidelity.py), and the missing
// or misshapen fc.
import assert from "node:assert/strict";
import { selectBackend } from "../backend/select.ts";
import { rng } from "../core/rng.ts";
import { tf } from "../core/tf.ts";
import { inceptionFromWeights, LOGIT_CLASSES } from "../features/inception/inception.ts";
import { seededWeights } from "../features/inception/seeded-weights.ts";
import { encodeSafetensors, readSafetensors, SafetensorsFile } from "../store/safetensors.ts";

await selectBackend("cpu");

function build(extra: Record<string, { shape: number[]; data: Float32Array }>) {
  const bytes = encodeSafetensors({ ...seededWeights(7), ...extra });
  return inceptionFromWeights(new SafetensorsFile(bytes, "seeded.safetensors"));
}

Deno.test("logits = pool3 @ fc.weight^T (no bias), float32 products against float64", async () => {
  const u = rng(5);
  const w = Float32Array.from({ length: LOGIT_CLASSES * 2048 }, () => u() - 0.5);
  const bias = new Float32Array(LOGIT_CLASSES).fill(100); // must not be added
  const net = build({
    "fc.weight": { shape: [LOGIT_CLASSES, 2048], data: w },
    "fc.bias": { shape: [LOGIT_CLASSES], data: bias },
  });
  assert.ok(net.hasLogits);
  const feats = Float32Array.from({ length: 3 * 2048 }, () => 2 * u());
  const got = await net.logits(tf.tensor2d(feats, [3, 2048])).data();
  assert.equal(got.length, 3 * LOGIT_CLASSES);
  let worst = 0;
  for (let b = 0; b < 3; b++) {
    for (let c = 0; c < LOGIT_CLASSES; c++) {
      let s = 0, mag = 0;
      for (let k = 0; k < 2048; k++) {
        s += feats[b * 2048 + k] * w[c * 2048 + k];
        mag += Math.abs(feats[b * 2048 + k] * w[c * 2048 + k]);
      }
      worst = Math.max(worst, Math.abs(got[b * LOGIT_CLASSES + c] - s) / mag);
    }
  }
  assert.ok(worst < 1e-6, `max error / sum |terms| = ${worst}`);
  // From host features in batches (what the Inception Score uses after a pass): the same values.
  assert.deepEqual(await net.logitsOf(feats, 2), got);
  await assert.rejects(net.logitsOf(new Float32Array(3)), /3 values is not a whole number/);
  net.dispose();
});

Deno.test("logits: a file without fc gives features only; a misshapen fc is refused", () => {
  const net = build({});
  assert.equal(net.hasLogits, false);
  assert.throws(() => net.logits(tf.zeros([1, 2048])), /has no fc\.weight \[1008, 2048\]/);
  net.dispose();
  assert.throws(
    () => build({ "fc.weight": { shape: [1000, 2048], data: new Float32Array(1000 * 2048) } }),
    /seeded\.safetensors: tensor "fc\.weight" has shape \[1000,2048\], expected \[1008,2048\]/,
  );
});

Deno.test("preprocess torch-fidelity: pool3 and logits equal torch-fidelity's inception-v3-compat", async () => {
  await selectBackend("wasm");
  // bench/inception_torch_fidelity.py's fc layer (seed 4321) and images (seed 99, 8-bit).
  const u = rng(4321);
  const n = LOGIT_CLASSES * 2048;
  const fcW = Float32Array.from({ length: n }, () => (2 * u() - 1) * Math.sqrt(6 / 2048));
  const fcB = Float32Array.from({ length: LOGIT_CLASSES }, () => 0.2 * u() - 0.1);
  const bytes = encodeSafetensors({
    ...seededWeights(1234),
    "fc.weight": { shape: [LOGIT_CLASSES, 2048], data: fcW },
    "fc.bias": { shape: [LOGIT_CLASSES], data: fcB },
  });
  const net = inceptionFromWeights(new SafetensorsFile(bytes, "seeded.safetensors"));
  const v = rng(99);
  const images = tf.tensor4d(
    Float32Array.from({ length: 2 * 32 * 32 * 3 }, () => Math.round(255 * v()) / 255),
    [2, 32, 32, 3],
  );
  const want = await readSafetensors(
    new URL("./fixtures/inception-torch-fidelity.safetensors", import.meta.url).pathname,
  );
  const pool = net.features(images, { preprocess: "torch-fidelity" });
  const logits = net.logits(pool);
  const rel = (got: ArrayLike<number>, ref: Float32Array) => {
    let e = 0, m = 0;
    ref.forEach((r, i) => {
      e = Math.max(e, Math.abs(got[i] - r));
      m = Math.max(m, Math.abs(r));
    });
    return e / m;
  };
  const ePool = rel(await pool.data(), want.float32("pool3"));
  const eLogits = rel(await logits.data(), want.float32("logits_unbiased"));
  assert.ok(ePool < 1e-5 && eLogits < 1e-5, `pool3 ${ePool}, logits ${eLogits}`);
  // pytorch-fid's preprocessing is a different input: the features differ visibly.
  const fid = net.features(images);
  assert.ok(rel(await fid.data(), want.float32("pool3")) > 1e-3);
  tf.dispose([images, pool, logits, fid]);
  net.dispose();
});
