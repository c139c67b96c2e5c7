// The cifar10 suite's scorer (its feature source and the fid and kid metric plugins) end to end on
// tiny synthetic images: n/a (naming the folder searched and how to get the weights) without
// weights; with code-made weights in the data dir, FID, KID and the protocol recorded for every
// evaluation.
import assert from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../core/tf.ts";
import { selectBackend } from "../backend/select.ts";
import { imageSource } from "../harness/data/image-source.ts";
import { INCEPTION_PTH, INCEPTION_URL } from "../features/weights-file.ts";
import { cifar10Suite, type CifarData } from "../harness/suites/cifar10.ts";
import type { SuiteConfig } from "../harness/suites/types.ts";
import type { DataSource } from "../harness/data/source.ts";
import { suiteQuality } from "../harness/metric-quality.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { inceptionPthSpec, seededWeights } from "../features/inception/seeded-weights.ts";
import { encodePthLegacy } from "../store/torch-save.ts";
import { quickCifarConfig, randomImages } from "./helpers/cifar-scoring.ts";

await selectBackend("wasm");
const reg = await discoverPlugins();

/** The scorer a cifar10 run with --metrics fid,kid uses. */
function cifarQuality(
  { data, config, seed }: { data: DataSource; config: SuiteConfig<CifarData>; seed: number },
) {
  return suiteQuality({
    suite: cifar10Suite,
    metrics: ["fid", "kid"].map((n) => reg.metrics.get(n)!),
    data,
    config,
    seed,
  });
}

function config(dataDir: string): SuiteConfig<CifarData> {
  return quickCifarConfig({ dataDir, samples: 3, reference: 4, kidReference: 3 });
}

Deno.test("cifar10 quality: without weights FID and KID are n/a, naming the folder and the way", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = imageSource("cifar10", randomImages(4, 1), randomImages(2, 2), [32, 32, 3]);
    const q = await cifarQuality({ data, config: config(dir), seed: 0 });
    assert.equal(q.protocol, undefined);
    const reason = q.notes?.fid ?? "";
    assert.equal(q.notes?.kid, reason);
    assert.match(reason, /^n\/a: Inception weights not found; looked for /);
    assert.ok(reason.includes(join(dir, INCEPTION_PTH)), reason);
    assert.ok(reason.includes(INCEPTION_URL), reason);
    const x = tf.zeros([2, 32, 32, 3]);
    assert.deepEqual(await q.fn(x), { metrics: {}, notes: { fid: reason, kid: reason } });
    x.dispose();
    q.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cifar10 quality: with weights in the data dir, FID, KID and the protocol", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(
      join(dir, INCEPTION_PTH),
      encodePthLegacy(inceptionPthSpec(seededWeights(5))),
    );
    const data = imageSource("cifar10", randomImages(4, 1), randomImages(2, 2), [32, 32, 3]);
    const q = await cifarQuality({ data, config: config(dir), seed: 0 });
    const samples = tf.randomUniform([3, 32, 32, 3], -1, 1, "float32", 3);
    const { metrics: m } = await q.fn(samples);
    samples.dispose();
    assert.ok(Number.isFinite(m.fid) && m.fid > 0, `fid ${m.fid}`);
    assert.ok(Number.isFinite(m.kid) && Number.isFinite(m.kid_std), JSON.stringify(m));
    const p = q.protocol!;
    assert.equal(p.weights.file, INCEPTION_PTH);
    assert.match(p.weights.sha256, /^[0-9a-f]{64}$/);
    assert.equal(p.weights.published, false);
    assert.deepEqual(p.reference, { dataset: "cifar10", split: "train", n: 4, kidFeatures: 3 });
    assert.equal(p.generated, 3);
    assert.match(p.preprocessing, /rounded to 8 bits/);
    // KID's settings are the kid plugin's protocol (results.json's metricInfo), not the network's.
    assert.equal(p.kid, undefined);
    assert.deepEqual(reg.metrics.get("kid")!.protocol, {
      kernel: "(x.y/d + 1)^3",
      estimator: "unbiased MMD^2, mean and std over subsets",
      subsets: 100,
      subsetSize: "min(1000, generated, reference features), drawn without replacement",
      seed: "the run's seed",
    });
    assert.ok([...Deno.readDirSync(dir)].some((e) => e.name.startsWith("fid-ref-cifar10-train-4")));
    q.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
