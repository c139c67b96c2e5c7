// Tests for DINOv2 in tfjs: a small ViT with seeded random weights against facebookresearch/
// dinov2's PyTorch model with EDM2's preprocessing (fixture by bench/dinov2_reference.py), the
// original checkpoint's names, the weight checks, and the resize matrices.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { selectBackend } from "../backend/select.ts";
import { tf } from "../core/tf.ts";
import { dinov2FromWeights } from "../features/dinov2/vit.ts";
import {
  originalName,
  VIT_L14,
  type VitConfig,
  vitParamCount,
} from "../features/dinov2/vit-spec.ts";
import { antialiasBicubicMatrix, bicubicMatrix } from "../features/dinov2/resize.ts";
import { encodeSafetensors, readSafetensors, SafetensorsFile } from "../store/safetensors.ts";
import { DINOV2_PIPELINE, DINOV2_REFERENCE } from "../features/dinov2/model.ts";
import { referenceStats } from "../features/reference-stats.ts";
import { computeFid } from "../features/fid.ts";
import { batchStats, frechetDistance } from "../features/frechet.ts";
import type { TensorToWrite } from "../store/safetensors.ts";
import { dinov2ReferenceImages } from "../bench/dinov2-images.ts";

const FIXTURE = fileURLToPath(
  new URL("./fixtures/dinov2-small-reference.safetensors", import.meta.url),
);
const file = await readSafetensors(FIXTURE);
const meta = JSON.parse(file.metadata.config);
const SMALL: VitConfig = {
  ...VIT_L14,
  dim: meta.embed_dim,
  depth: meta.depth,
  heads: meta.num_heads,
  mlpDim: 4 * meta.embed_dim,
};

/** max |got - want| / max |want|. */
function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0, mag = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    mag = Math.max(mag, Math.abs(want[i]));
  }
  return err / mag;
}

for (const backend of ["cpu", "wasm"]) {
  Deno.test(`dinov2 (${backend}): a small ViT matches PyTorch + EDM2 preprocessing`, async () => {
    await selectBackend(backend);
    const net = dinov2FromWeights(file, SMALL);
    for (const [count, side] of [[2, 32], [1, 300]]) {
      const x = dinov2ReferenceImages(count, side);
      const f = net.features(x);
      assert.deepEqual(f.shape, [count, SMALL.dim]);
      const err = relError(await f.data(), file.float32(`expected_${side}`));
      assert.ok(err < 2e-5, `${count}x${side}x${side}: max error / max |feature| = ${err}`);
      tf.dispose([x, f]);
    }
    net.dispose();
  });
}

Deno.test("dinov2: the original checkpoint's names (fused qkv) give the same features", async () => {
  await selectBackend("cpu");
  // Re-encode the fixture under dinov2_vit*14_pretrain.pth's names, q/k/v fused into attn.qkv.
  const tensors: Record<string, TensorToWrite> = {};
  const fused = new Map<string, Float32Array[]>();
  for (const name of file.names()) {
    if (name.startsWith("expected_") || name === "embeddings.mask_token") continue;
    const o = originalName(name);
    const data = file.float32(name);
    const shape = file.entry(name)!.shape;
    if (o.third === undefined) {
      tensors[o.name] = { shape, data };
      continue;
    }
    const parts = fused.get(o.name) ?? [];
    parts[o.third] = data;
    fused.set(o.name, parts);
    if (parts.filter(Boolean).length === 3) {
      const all = new Float32Array(3 * data.length);
      parts.forEach((p, t) => all.set(p, t * data.length));
      tensors[o.name] = { shape: [3 * shape[0], ...shape.slice(1)], data: all };
    }
  }
  assert.ok(tensors["blocks.1.attn.qkv.weight"] && !tensors["encoder.layer.0.norm1.weight"]);
  const original = new SafetensorsFile(encodeSafetensors(tensors), "dinov2_pretrain.safetensors");
  const a = dinov2FromWeights(file, SMALL);
  const b = dinov2FromWeights(original, SMALL);
  const x = dinov2ReferenceImages(2, 32);
  assert.deepEqual(await b.features(x).data(), await a.features(x).data());
  tf.dispose(x);
  a.dispose();
  b.dispose();
});

Deno.test("dinov2 weights: a missing tensor or a wrong shape is refused by name", async () => {
  await selectBackend("cpu");
  const without = (drop: string, reshape?: [string, number[]]) => {
    const tensors: Record<string, TensorToWrite> = {};
    for (const name of file.names()) {
      if (name === drop) continue;
      const shape = reshape?.[0] === name ? reshape[1] : file.entry(name)!.shape;
      tensors[name] = { shape, data: file.float32(name) };
    }
    return new SafetensorsFile(encodeSafetensors(tensors), "model.safetensors");
  };
  assert.throws(
    () => dinov2FromWeights(without("encoder.layer.1.mlp.fc2.bias"), SMALL),
    /model\.safetensors: missing tensor "encoder\.layer\.1\.mlp\.fc2\.bias" \(expected shape \[32\]\)/,
  );
  assert.throws(
    () => dinov2FromWeights(without("", ["encoder.layer.0.mlp.fc1.weight", [32, 128]]), SMALL),
    /tensor "encoder\.layer\.0\.mlp\.fc1\.weight" has shape \[32,128\], expected \[128,32\]/,
  );
  // The small file is not ViT-L/14: the first mismatch is named.
  assert.throws(() => dinov2FromWeights(file, VIT_L14), /"embeddings\.cls_token" has shape/);
});

Deno.test("FD-DINOv2 through the Fréchet routine: cached apart from FID, equal to direct stats", async () => {
  await selectBackend("wasm");
  const net = dinov2FromWeights(file, SMALL);
  const dir = await Deno.makeTempDir({ prefix: "fmbench-fd-dinov2-" });
  try {
    // Reference: 6 images in [0, 1]; generated: 5 images in [-1, 1] (mapped, rounded to 8 bits).
    const refImages = dinov2ReferenceImages(6, 32);
    const ref = await referenceStats({
      dataDir: dir,
      dataset: "toyimages",
      n: 6,
      extractor: net,
      weightsSha256: "x".repeat(64),
      images: (offset, count) => Promise.resolve(tf.slice(refImages, [offset], [count])),
      batch: 4,
      network: DINOV2_REFERENCE,
    });
    assert.match(ref.path, /\/fd-dinov2-ref-toyimages-train-6\.safetensors$/);
    assert.equal(ref.provenance.pipeline, DINOV2_PIPELINE);
    const gen = tf.sub(tf.mul(dinov2ReferenceImages(5, 32), 2), 1);
    let at = 0;
    const r = await computeFid({
      extractor: net,
      reference: ref.stats,
      n: 5,
      batch: 2,
      range: [-1, 1],
      generate: (count) => {
        const t = tf.slice(gen, [at], [count]);
        at += count;
        return Promise.resolve(t);
      },
    });
    const direct = (t: tf.Tensor4D) => batchStats(net.features(t).dataSync(), SMALL.dim);
    const want = frechetDistance(direct(refImages), direct(dinov2ReferenceImages(5, 32)));
    assert.ok(Math.abs(r.fid - want) <= 1e-6 * Math.abs(want), `${r.fid} vs ${want}`);
    assert.ok(want > 0);
    tf.dispose([refImages, gen]);
  } finally {
    net.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ViT-L/14 parameter count is torch.hub dinov2_vitl14's", () => {
  assert.equal(vitParamCount(VIT_L14), 304368640);
});

Deno.test("resize matrices: rows sum to 1; identity at equal sizes; the pos-grid offset", () => {
  for (const [i, o] of [[32, 224], [300, 224], [224, 224]]) {
    const m = antialiasBicubicMatrix(i, o);
    for (let r = 0; r < o; r++) {
      const s = m.subarray(r * i, (r + 1) * i).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(s - 1) < 1e-6, `${i}->${o} row ${r} sums to ${s}`);
    }
  }
  const id = antialiasBicubicMatrix(16, 16);
  for (let r = 0; r < 16; r++) assert.equal(id[r * 16 + r], 1);
  // DINOv2 resizes its 37x37 grid by the scale factor 16.1 / 37, not to the size 16: different.
  const withOffset = bicubicMatrix(37, 16, 16.1 / 37);
  const bySize = bicubicMatrix(37, 16);
  assert.ok(Math.abs(withOffset[0] - bySize[0]) > 1e-3);
});
