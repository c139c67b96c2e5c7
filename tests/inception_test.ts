// Tests for the FID Inception network (seeded random weights in a temp safetensors file, checked
// against PyTorch values), its weight checks, its pools and resize, and the FID pipeline.
import assert from "node:assert/strict";
import { selectBackend } from "../backend/select.ts";
import { rng } from "../core/rng.ts";
import { tf } from "../core/tf.ts";
import { avgPool3x3ExcludePad, maxPool3x3Same } from "../features/inception/blocks.ts";
import { computeFid, loadFidModel, sha256Hex } from "../features/fid.ts";
import {
  type FeatureExtractor,
  streamFeatureStats,
  toUnitImages,
} from "../features/image-stats.ts";
import { batchStats } from "../features/frechet.ts";
import { kid } from "../features/kid.ts";
import { checkInceptionTensors, InceptionWeightsError } from "../features/inception/inception.ts";
import {
  allConvs,
  expectedTensors,
  FC_PARAMS,
  featureParamCount,
} from "../features/inception/inception-spec.ts";
import { referenceStats, referenceStatsPath } from "../features/reference-stats.ts";
import { seededWeights } from "../features/inception/seeded-weights.ts";
import { encodeSafetensors, type TensorToWrite } from "../store/safetensors.ts";

await selectBackend("wasm");

/**
 * PyTorch's output for the seeded weights and input below: features/inception/torch_golden.py run with
 * torch 1.13.0 / torchvision 0.14.1 (Debian), torchvision Inception3 patched as pytorch-fid's
 * fid_inception_v3, forward as pytorch-fid's InceptionV3 (resize 299 bilinear, 2x-1, pool3).
 */
const GOLDEN = {
  weightSeed: 1234,
  inputSeed: 99,
  inputShape: [2, 32, 32, 3] as [number, number, number, number],
  first8: [
    [0.4316137, 0.0, 0.1166999, 6.942667, 9.4033976, 0.0, 19.3434906, 3.7150927],
    [0.5277345, 0.0, 0.120078, 6.9252133, 9.1964512, 0.0, 19.2699051, 3.4778676],
  ],
  rowSum: [7596.07146, 7405.7288],
  rowSumSq: [85714.9185, 81666.271],
  /** sum(p.numel() for p in net.parameters()) with the 1008-way fc, and BN running values. */
  paramsWithFc: 23850960,
  bnRunningValues: 34432,
};

Deno.test("inception spec: 94 BasicConv2d, 470 tensors, parameter counts match PyTorch", () => {
  assert.equal(allConvs().length, 94);
  assert.equal(expectedTensors().length, 470);
  assert.equal(featureParamCount(), 21_785_568);
  assert.equal(featureParamCount() + FC_PARAMS, GOLDEN.paramsWithFc);
  const running = allConvs().reduce((s, c) => s + 2 * c.cout, 0);
  assert.equal(running, GOLDEN.bnRunningValues);
  assert.equal(GOLDEN.paramsWithFc + running, 23_885_392);
});

/** A directory over the expected manifest with one entry edited. */
function manifestDir(edit: (m: Map<string, { dtype: string; shape: number[] }>) => void) {
  const m = new Map(expectedTensors().map((t) => [t.name, { dtype: "F32", shape: t.shape }]));
  edit(m);
  return { entry: (name: string) => m.get(name), names: () => [...m.keys()] };
}

Deno.test("inception weights: every name and shape is checked; errors name the tensor", () => {
  const ok = manifestDir(() => {});
  checkInceptionTensors(ok, "ok.safetensors");
  const renamed = manifestDir((m) => {
    m.set(
      "Mixed_6c.branch7x7dbl_4.bn.runing_var",
      m.get("Mixed_6c.branch7x7dbl_4.bn.running_var")!,
    );
    m.delete("Mixed_6c.branch7x7dbl_4.bn.running_var");
  });
  assert.throws(() => checkInceptionTensors(renamed, "w.safetensors"), (e: Error) => {
    assert.ok(e instanceof InceptionWeightsError);
    assert.match(
      e.message,
      /w\.safetensors: missing tensor "Mixed_6c\.branch7x7dbl_4\.bn\.running_var"/,
    );
    assert.match(e.message, /expected shape \[160\]/);
    return true;
  });
  const reshaped = manifestDir((m) => {
    m.set("Mixed_7b.branch3x3_2a.conv.weight", { dtype: "F32", shape: [384, 384, 3, 1] });
  });
  assert.throws(
    () => checkInceptionTensors(reshaped, "w.safetensors"),
    /tensor "Mixed_7b\.branch3x3_2a\.conv\.weight" has shape \[384,384,3,1\], expected \[384,384,1,3\]/,
  );
  const intDtype = manifestDir((m) =>
    m.set("Conv2d_1a_3x3.bn.bias", { dtype: "I64", shape: [32] })
  );
  assert.throws(
    () => checkInceptionTensors(intDtype, "w.safetensors"),
    /"Conv2d_1a_3x3\.bn\.bias" has dtype I64/,
  );
  // Extra tensors of the full checkpoint (fc, num_batches_tracked) are fine.
  const extra = manifestDir((m) => {
    m.set("fc.weight", { dtype: "F32", shape: [1008, 2048] });
    m.set("Conv2d_1a_3x3.bn.num_batches_tracked", { dtype: "I64", shape: [] });
  });
  checkInceptionTensors(extra, "w.safetensors");
});

Deno.test("loadFidModel: a missing file is n/a with the path; a partial file names the gap", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = `${dir}/nope.safetensors`;
    const r = await loadFidModel(missing);
    assert.equal(r.available, false);
    if (r.available) return;
    assert.ok(
      r.reason.startsWith(`n/a: Inception weights not found; looked for ${missing}`),
      r.reason,
    );
    assert.match(r.reason, /deno task fid:weights/);
    assert.match(
      r.reason,
      /releases\/download\/fid_weights\/pt_inception-2015-12-05-6726825d\.pth/,
    );
    // Only the stem's first conv: the first missing tensor is Conv2d_2a_3x3.conv.weight.
    const partial = `${dir}/partial.safetensors`;
    const all = seededWeightsStem();
    await Deno.writeFile(partial, encodeSafetensors(all));
    await assert.rejects(
      loadFidModel(partial),
      /partial\.safetensors: missing tensor "Conv2d_2a_3x3\.conv\.weight"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function seededWeightsStem(): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  for (const t of expectedTensors().slice(0, 5)) {
    out[t.name] = { shape: t.shape, data: new Float32Array(t.shape.reduce((a, b) => a * b, 1)) };
  }
  return out;
}

Deno.test("inception forward: seeded weights from a temp file match PyTorch; [B, 2048]; no leaks", async () => {
  const dir = await Deno.makeTempDir();
  const before = tf.memory().numTensors;
  try {
    const path = `${dir}/random-inception.safetensors`;
    const weights = seededWeights(GOLDEN.weightSeed);
    const bytes = encodeSafetensors(weights, { note: "header bytes do not change contentSha256" });
    await Deno.writeFile(path, bytes);
    const model = await loadFidModel(path);
    assert.ok(model.available);
    if (!model.available) return;
    assert.equal(model.sha256, await sha256Hex(bytes));
    const values = Object.values(weights).map((t) => new Uint8Array(t.data.buffer));
    const concat = new Uint8Array(values.reduce((s, v) => s + v.length, 0));
    values.reduce((at, v) => (concat.set(v, at), at + v.length), 0);
    assert.equal(model.contentSha256, await sha256Hex(concat));
    assert.equal(model.paramCount, 21_785_568);
    const u = rng(GOLDEN.inputSeed);
    const count = GOLDEN.inputShape.reduce((a, b) => a * b, 1);
    const x = tf.tensor4d(Float32Array.from({ length: count }, u), GOLDEN.inputShape);
    const f = model.extractor.features(x);
    assert.deepEqual(f.shape, [2, 2048]);
    const v = (await f.data()) as Float32Array;
    for (let b = 0; b < 2; b++) {
      const row = v.subarray(b * 2048, (b + 1) * 2048);
      assert.ok(row.every(Number.isFinite));
      GOLDEN.first8[b].forEach((want, i) => {
        assert.ok(
          Math.abs(row[i] - want) <= 1e-4 * (1 + Math.abs(want)),
          `f[${b}][${i}]=${row[i]}`,
        );
      });
      const sum = row.reduce((s, a) => s + a, 0);
      const sumSq = row.reduce((s, a) => s + a * a, 0);
      assert.ok(Math.abs(sum / GOLDEN.rowSum[b] - 1) < 1e-5, `row ${b} sum ${sum}`);
      assert.ok(Math.abs(sumSq / GOLDEN.rowSumSq[b] - 1) < 1e-5, `row ${b} sum sq ${sumSq}`);
    }
    // Without the resize the network runs at the input size (>= 75): still [B, 2048].
    const small = tf.zeros([1, 75, 80, 1]);
    const g = model.extractor.features(small, { resize: false });
    assert.deepEqual(g.shape, [1, 2048]);
    const tooSmall = tf.zeros([1, 74, 80, 3]);
    assert.throws(() => model.extractor.features(tooSmall, { resize: false }), /75x75/);
    tf.dispose([x, f, small, g, tooSmall]);
    model.extractor.dispose();
    assert.equal(tf.memory().numTensors, before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Brute-force PyTorch-semantics pools on an NHWC array. */
function brutePool(x: Float32Array, [n, h, w, c]: number[], kind: "avg" | "max"): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let k = 0; k < c; k++) {
          let acc = kind === "avg" ? 0 : -Infinity, count = 0;
          for (let di = -1; di <= 1; di++) {
            for (let dj = -1; dj <= 1; dj++) {
              const ii = i + di, jj = j + dj;
              if (ii < 0 || jj < 0 || ii >= h || jj >= w) continue;
              const val = x[((b * h + ii) * w + jj) * c + k];
              acc = kind === "avg" ? acc + val : Math.max(acc, val);
              count++;
            }
          }
          out[((b * h + i) * w + j) * c + k] = kind === "avg" ? acc / count : acc;
        }
      }
    }
  }
  return out;
}

Deno.test("pools: 3x3/1 avg excludes padding (count_include_pad=False); max ignores padding", () => {
  const shape = [2, 5, 4, 3];
  const u = rng(7);
  // Negative values make a zero-padded max pool differ from a -inf-padded one.
  const x = Float32Array.from({ length: 120 }, () => u() * 2 - 1.5);
  const t = tf.tensor4d(x, shape as [number, number, number, number]);
  const avg = avgPool3x3ExcludePad(t);
  const max = maxPool3x3Same(t);
  const wantAvg = brutePool(x, shape, "avg");
  const wantMax = brutePool(x, shape, "max");
  avg.dataSync().forEach((v, i) => assert.ok(Math.abs(v - wantAvg[i]) < 1e-6, `avg[${i}]`));
  assert.deepEqual(max.dataSync(), wantMax);
  tf.dispose([t, avg, max]);
});

/** PyTorch F.interpolate(mode="bilinear", align_corners=False) on one channel, brute force. */
function torchBilinear(x: Float32Array, h: number, w: number, oh: number, ow: number) {
  // Source coordinate in float32, as PyTorch's CPU kernel computes it.
  const f = Math.fround;
  const src = (d: number, inSize: number, outSize: number) => {
    const s = Math.max(f(f(f(inSize / outSize) * f(d + 0.5)) - 0.5), 0);
    const i0 = Math.floor(s);
    return [i0, Math.min(i0 + 1, inSize - 1), f(s - i0)];
  };
  const out = new Float32Array(oh * ow);
  for (let i = 0; i < oh; i++) {
    const [r0, r1, lr] = src(i, h, oh);
    for (let j = 0; j < ow; j++) {
      const [c0, c1, lc] = src(j, w, ow);
      const top = x[r0 * w + c0] * (1 - lc) + x[r0 * w + c1] * lc;
      const bottom = x[r1 * w + c0] * (1 - lc) + x[r1 * w + c1] * lc;
      out[i * ow + j] = top * (1 - lr) + bottom * lr;
    }
  }
  return out;
}

Deno.test("resize: tfjs halfPixelCenters bilinear equals PyTorch align_corners=False", () => {
  const u = rng(8);
  for (const [h, w, oh, ow] of [[4, 6, 11, 9], [13, 10, 5, 4], [32, 32, 299, 299]]) {
    const x = Float32Array.from({ length: h * w }, u);
    const t = tf.tensor4d(x, [1, h, w, 1]);
    const r = tf.image.resizeBilinear(t, [oh, ow], false, true);
    const want = torchBilinear(x, h, w, oh, ow);
    // Backends round the source coordinate differently (wasm vs PyTorch: up to ~2e-6 here);
    // a wrong convention (align_corners=True, no half-pixel centres) is off by ~1e-1.
    r.dataSync().forEach((v, i) =>
      assert.ok(Math.abs(v - want[i]) < 1e-5, `${h}x${w}: [${i}] ${v} vs ${want[i]}`)
    );
    tf.dispose([t, r]);
  }
});

/** A stand-in extractor: per-channel mean and mean square (dim 6), for pipeline tests. */
const tinyExtractor: FeatureExtractor = {
  dim: 6,
  features: (images) =>
    tf.tidy(() =>
      tf.concat([tf.mean(images, [1, 2]), tf.mean(tf.square(images), [1, 2])], 1) as tf.Tensor2D
    ),
};

Deno.test("fid pipeline: streaming, quantisation, cached reference reuse and computeFid", async () => {
  const dir = await Deno.makeTempDir();
  const before = tf.memory().numTensors;
  try {
    const u = rng(3);
    const all = Float32Array.from({ length: 10 * 4 * 4 * 3 }, () => Math.round(u() * 255) / 255);
    const images = (offset: number, count: number) =>
      Promise.resolve(tf.tensor4d(all.slice(offset * 48, (offset + count) * 48), [count, 4, 4, 3]));
    // Streaming in batches of 3 equals the one-shot statistics of the features.
    const stats = await streamFeatureStats({ extractor: tinyExtractor, images, n: 10, batch: 3 });
    const whole = tf.tensor4d(all, [10, 4, 4, 3]);
    const feats = tinyExtractor.features(whole);
    const featsOnce = feats.dataSync() as Float32Array;
    const once = batchStats(featsOnce, 6);
    tf.dispose([whole, feats]);
    once.sigma.forEach((v, i) => assert.ok(Math.abs(v - stats.sigma[i]) < 1e-12));
    const opts = {
      dataDir: dir,
      dataset: "toy/set",
      n: 10,
      extractor: tinyExtractor,
      weightsSha256: "abc",
      images,
      batch: 4,
    };
    const first = await referenceStats(opts);
    assert.equal(first.reused, false);
    assert.equal(
      first.path,
      referenceStatsPath({ dataDir: dir, dataset: "toy/set", split: "train", n: 10 }),
    );
    assert.match(first.path, /fid-ref-toy_set-train-10\.safetensors$/);
    const again = await referenceStats(opts);
    assert.equal(again.reused, true);
    assert.deepEqual(again.stats.sigma, first.stats.sigma);
    assert.deepEqual(again.stats.factor, first.stats.factor);
    assert.equal(first.provenance.kidFeatures, 10);
    assert.deepEqual(again.features, first.features);
    assert.deepEqual(first.features, Float32Array.from(featsOnce));
    assert.equal(again.provenance.weightsSha256, "abc");
    const fewer = await referenceStats({ ...opts, kidFeatures: 4 });
    assert.equal(fewer.reused, false, "a different KID feature count recomputes");
    assert.deepEqual(fewer.features, Float32Array.from(featsOnce.subarray(0, 4 * 6)));
    const other = await referenceStats({ ...opts, weightsSha256: "def" });
    assert.equal(other.reused, false, "different weights must recompute");
    // Same images generated in [-1, 1]: FID 0 against their own statistics.
    let k = 0;
    const generate = (count: number) => {
      const start = k;
      k += count;
      return images(start, count).then((t) => {
        const y = tf.tidy(() => tf.sub(tf.mul(t, 2), 1));
        t.dispose();
        return y;
      });
    };
    const r = await computeFid({
      extractor: tinyExtractor,
      generate,
      reference: first.stats,
      referenceFeatures: first.features,
      kid: { subsets: 3, seed: 5 },
      n: 10,
      batch: 4,
      range: [-1, 1],
    });
    assert.ok(Math.abs(r.fid) < 1e-9, `fid ${r.fid}`);
    assert.equal(r.n, 10);
    // KID on the kept generated features (the same images) equals KID of the features directly.
    assert.deepEqual(r.kid, await kid(featsOnce, first.features, 6, { subsets: 3, seed: 5 }));
    assert.equal(r.kid?.subsetSize, 10);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("toUnitImages: range mapping, clipping and 8-bit rounding like save_image", () => {
  const x = tf.tensor4d([-1, 0, 1, 1.5, -2, 0.001, 0.6], [1, 1, 7, 1]);
  const y = toUnitImages(x, { range: [-1, 1] });
  const want = [0, 128, 255, 255, 0, 128, 204].map((k) => Math.fround(k / 255));
  assert.deepEqual([...y.dataSync()], want);
  const raw = toUnitImages(x, { range: [-1, 1], quantize: false });
  assert.ok(Math.abs(raw.dataSync()[6] - 0.8) < 1e-7);
  tf.dispose([x, y, raw]);
});
