// The image metrics through the cifar10 suite's feature source on code-made Inception weights:
// one Inception pass per sample set feeds FID, KID, precision/recall, density/coverage and the
// Inception Score; FID and KID equal computeFid's (the path before metric plugins) bit for bit;
// DINOv2 weights with the wrong SHA-256 make FD-DINOv2 n/a naming both hashes, nothing else.
import assert from "node:assert/strict";
import { join } from "node:path";
import { selectBackend } from "../backend/select.ts";
import { tf } from "../core/tf.ts";
import {
  computeFid,
  densityCoverage,
  DINOV2_SAFETENSORS,
  DINOV2_SHA256_ENV,
  improvedPrecisionRecall,
  inceptionScore,
  LOGIT_CLASSES,
  tfDotProducts,
} from "../features/mod.ts";
import { FidInception } from "../features/inception/inception.ts";
import { inceptionPthSpec, seededWeights } from "../features/inception/seeded-weights.ts";
import { INCEPTION_PTH } from "../features/weights-file.ts";
import { referenceStats } from "../features/reference-stats.ts";
import { loadFidModel } from "../features/fid.ts";
import { imageSource } from "../harness/data/image-source.ts";
import { suiteQuality } from "../harness/metric-quality.ts";
import { defaultMetrics } from "../harness/metric-select.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { cifar10Suite, type CifarData } from "../harness/suites/cifar10.ts";
import type { SuiteConfig } from "../harness/suites/types.ts";
import { encodePthLegacy } from "../store/torch-save.ts";
import { quickCifarConfig, randomImages } from "./helpers/cifar-scoring.ts";

await selectBackend("wasm");
const reg = await discoverPlugins();

function config(dataDir: string, samples: number): SuiteConfig<CifarData> {
  return quickCifarConfig({ dataDir, samples, reference: 8 });
}

Deno.test("image metrics: one Inception pass feeds every metric; FID and KID as computeFid's", async () => {
  const dir = await Deno.makeTempDir();
  const features = FidInception.prototype.features;
  let passes = 0, rows = 0;
  let seen: Float32Array = new Float32Array();
  FidInception.prototype.features = function (this: FidInception, ...args) {
    passes++;
    rows += args[0].shape[0];
    const out = features.apply(this, args);
    seen = out.dataSync() as Float32Array;
    return out;
  };
  try {
    await Deno.writeFile(
      join(dir, INCEPTION_PTH),
      encodePthLegacy(inceptionPthSpec(seededWeights(5))),
    );
    const data = imageSource("cifar10", randomImages(8, 1), randomImages(2, 2), [32, 32, 3]);
    const cfg = config(dir, 10);
    const names = defaultMetrics(reg, cifar10Suite);
    const q = await suiteQuality({
      suite: cifar10Suite,
      metrics: names.map((n) => reg.metrics.get(n)!),
      data,
      config: cfg,
      seed: 3,
    });
    const samples = tf.randomUniform([10, 32, 32, 3], -1, 1, "float32", 9);
    [passes, rows] = [0, 0];
    const { metrics: m, notes } = await q.fn(samples);
    assert.equal(notes, undefined, JSON.stringify(notes));
    assert.equal(passes, 1, "one Inception forward pass (10 images, batch 50) for five metrics");
    assert.equal(rows, 10);
    const gen = seen;
    q.dispose();

    // The same samples through the path before metric plugins: computeFid with KID.
    const model = await loadFidModel(join(dir, INCEPTION_PTH));
    if (!model.available) throw new Error(model.reason);
    const ref = await referenceStats({
      dataDir: dir,
      dataset: "cifar10",
      n: 8,
      kidFeatures: 8,
      extractor: model.extractor,
      weightsSha256: model.contentSha256,
      images: (o, c) => Promise.resolve(data.trainImages!(o, c)),
      range: [-1, 1],
    });
    assert.equal(ref.reused, true, "the scorer cached the reference statistics");
    let offset = 0;
    const old = await computeFid({
      extractor: model.extractor,
      reference: ref.stats,
      referenceFeatures: ref.features,
      kid: { subsets: 100, subsetSize: 1000, seed: 3, dot: tfDotProducts },
      n: 10,
      range: [-1, 1],
      generate: (count) => {
        const s = samples.slice(offset, count);
        offset += count;
        return Promise.resolve(s);
      },
    });
    assert.equal(m.fid, old.fid);
    assert.equal(m.kid, old.kid!.mean);
    assert.equal(m.kid_std, old.kid!.std);

    // Precision/recall and density/coverage of the pass's pool3 rows against the reference rows;
    // the Inception Score of the seeded network (a constant fc: all classes equally likely) is 1.
    const pr = await improvedPrecisionRecall({
      generated: { data: gen, dim: 2048 },
      reference: { data: ref.features, dim: 2048 },
    });
    const dc = await densityCoverage({
      generated: { data: gen, dim: 2048 },
      reference: { data: ref.features, dim: 2048 },
    });
    assert.deepEqual(
      [m.precision, m.recall, m.density, m.coverage],
      [pr.precision, pr.recall, dc.density, dc.coverage],
    );
    const logits = await model.extractor.logitsOf(gen);
    assert.equal(logits.length, 10 * LOGIT_CLASSES);
    assert.equal(m.is, inceptionScore(logits, LOGIT_CLASSES).mean);
    assert.ok(Math.abs(m.is - 1) < 1e-12 && m.is_std < 1e-12, `IS ${m.is} ± ${m.is_std}`);
    model.extractor.dispose();
    samples.dispose();
  } finally {
    FidInception.prototype.features = features;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("image metrics: DINOv2 weights with the wrong SHA-256 make only FD-DINOv2 n/a", async () => {
  const dir = await Deno.makeTempDir();
  const pin = "0".repeat(64);
  Deno.env.set(DINOV2_SHA256_ENV, pin);
  try {
    await Deno.writeFile(
      join(dir, INCEPTION_PTH),
      encodePthLegacy(inceptionPthSpec(seededWeights(5))),
    );
    await Deno.writeFile(join(dir, DINOV2_SAFETENSORS), new TextEncoder().encode("not weights"));
    const data = imageSource("cifar10", randomImages(8, 1), randomImages(2, 2), [32, 32, 3]);
    const q = await suiteQuality({
      suite: cifar10Suite,
      metrics: ["fid", "fd-dinov2"].map((n) => reg.metrics.get(n)!),
      data,
      config: config(dir, 4),
      seed: 0,
    });
    const reason = q.notes?.fd_dinov2 ?? "";
    assert.match(reason, /^n\/a: DINOv2 weights .*: SHA-256 [0-9a-f]{64}, but 0{64} is pinned/);
    const samples = tf.randomUniform([4, 32, 32, 3], -1, 1, "float32", 2);
    const { metrics, notes } = await q.fn(samples);
    samples.dispose();
    q.dispose();
    assert.ok(Number.isFinite(metrics.fid) && metrics.fid > 0);
    assert.deepEqual(notes, { fd_dinov2: reason });
  } finally {
    Deno.env.delete(DINOV2_SHA256_ENV);
    await Deno.remove(dir, { recursive: true });
  }
});
