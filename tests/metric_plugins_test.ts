// Metric plugins and their engine without feature networks: defineMetric's checks, the engine's
// feature choice and failure notes (a throw or NaN is a figure's n/a reason, never an error), the
// built-in plugins against the features/ functions they call, and --metrics selection.
import assert from "node:assert/strict";
import { defineMetric, type MetricPlugin, PluginShapeError } from "../core/mod.ts";
import { normals, rng } from "../core/rng.ts";
import { selectBackend } from "../backend/select.ts";
import { densityCoverage, improvedPrecisionRecall } from "../features/mod.ts";
import { vectorSource } from "../harness/data/source.ts";
import { heldOutScores, scoreMetrics, suiteQuality } from "../harness/metric-quality.ts";
import { defaultMetrics, metricInfo, resolveMetricNames } from "../harness/metric-select.ts";
import { w2 } from "../harness/metrics/w2.ts";
import { discoverPlugins, UnknownNameError } from "../harness/registry.ts";
import { SUITES } from "../harness/suites/mod.ts";
import type { SuiteConfig } from "../harness/suites/types.ts";
import { tf } from "../core/tf.ts";
import { tempPluginRoot } from "./helpers/plugins.ts";

await selectBackend("cpu");
const reg = await discoverPlugins();
const builtin = (name: string) => reg.metrics.get(name)!;

/** n rows of 2-D Gaussian points shifted by `shift`. */
function points(n: number, seed: number, shift = 0) {
  const data = Float32Array.from(normals(rng(seed), 2 * n), (z) => z + shift);
  return { data, dim: 2, n };
}

const value = (direction: "lower" | "higher") => ({ direction, title: "X", description: "x" });

function fake(
  name: string,
  compute: MetricPlugin["compute"],
  extra: Partial<MetricPlugin> = {},
): MetricPlugin {
  return defineMetric({
    name,
    description: name,
    features: ["raw"],
    protocol: {},
    values: { [name.replaceAll("-", "_")]: value("lower") },
    compute,
    ...extra,
  });
}

Deno.test("defineMetric: names the member that is wrong", () => {
  const good = {
    name: "m",
    description: "d",
    features: ["raw" as const],
    protocol: { k: 3 },
    values: { m: value("higher") },
    compute: () => ({ m: 1 }),
  };
  assert.equal(defineMetric(good).name, "m");
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ features: [] }, /features must list at least one of: raw, inception-pool3/],
    [{ features: ["pixels"] }, /unknown feature "pixels"; valid: raw, inception-pool3/],
    [{ values: {} }, /values must name at least one figure/],
    [{ values: { m: value("up" as "lower") } }, /values.m.direction must be "lower" or "higher"/],
    [{ values: { "M-1": value("lower") } }, /figure name "M-1" must match/],
    [{ values: { m: { ...value("lower"), spread: "m" } } }, /values.m.spread must name a figure/],
    [{ protocol: { k: [3] } }, /protocol.k must be a string, number or boolean/],
    [{ compute: 1 }, /member "compute" must be a function/],
  ];
  for (const [change, re] of bad) {
    assert.throws(() => defineMetric({ ...good, ...change } as never), (e: Error) => {
      assert.ok(e instanceof PluginShapeError);
      assert.match(e.message, /^metric "m": /);
      assert.match(e.message, re);
      return true;
    });
  }
});

Deno.test("engine: a throw, NaN or a missing figure is that figure's reason; the rest stand", async () => {
  const g = points(40, 1), r = points(40, 2, 0.5);
  const ok = fake("mean-gap", ({ generated, reference, stats }) => {
    const [a, b] = [stats.moments(generated), stats.moments(reference!)];
    return { mean_gap: Math.hypot(a.mu[0] - b.mu[0], a.mu[1] - b.mu[1]) };
  });
  const spread = defineMetric({
    name: "spread",
    description: "a figure with its spread",
    features: ["raw"],
    protocol: {},
    values: { s: { ...value("higher"), spread: "s_std" } },
    compute: () => ({ s: 2, s_std: 0.5, ignored: 7 }),
  });
  const throws = fake("boom", () => {
    throw new Error("k = 3 needs more than 3 rows\nstack line");
  });
  const nan = fake("nan", () => ({ nan: NaN }));
  const none = fake("none", () => ({}));
  const asyncThrow = fake("later", () => Promise.reject(new RangeError("no")));
  const scores = await scoreMetrics({
    metrics: [ok, spread, throws, nan, none, asyncThrow],
    offered: ["raw"],
    generated: { raw: g },
    reference: { raw: r },
    seed: 0,
  });
  const mg = scores.metrics.mean_gap;
  assert.ok(mg > 0.3 && mg < 1.2, `mean gap ${mg}`);
  assert.equal(scores.metrics.s, 2);
  assert.equal(scores.metrics.s_std, 0.5);
  assert.equal(scores.metrics.ignored, undefined, "undeclared figures are not recorded");
  assert.deepEqual(scores.notes, {
    boom: "boom failed: k = 3 needs more than 3 rows",
    nan: "nan returned NaN for nan",
    none: "none returned no value for none",
    later: "later failed: no",
  });
});

Deno.test("engine: each metric gets the first of its features the suite offers, or a reason", async () => {
  const seen: string[] = [];
  const either = fake("either", ({ feature }) => {
    seen.push(feature);
    return { either: 1 };
  }, { features: ["inception-pool3", "raw"] });
  const pool3 = fake("pool3", () => ({ pool3: 1 }), { features: ["inception-pool3"] });
  const logits = fake("logits", ({ reference }) => ({ logits: reference === undefined ? 1 : 0 }), {
    features: ["inception-logits"],
    reference: false,
  });
  const raw = points(8, 3);
  const onToy = await scoreMetrics({
    metrics: [either, pool3],
    offered: ["raw"],
    generated: { raw },
    reference: { raw },
    seed: 0,
  });
  assert.deepEqual(seen, ["raw"]);
  assert.equal(onToy.metrics.either, 1);
  assert.match(onToy.notes!.pool3, /pool3 reads inception-pool3 features; this suite offers raw/);
  const feats = { data: new Float32Array(8), dim: 2, n: 4 };
  const onImages = await scoreMetrics({
    metrics: [either, pool3, logits],
    offered: ["inception-pool3", "inception-logits"],
    generated: { "inception-logits": feats },
    reference: {},
    missing: { "inception-pool3": "n/a: Inception weights not found; looked for data/x.pth" },
    seed: 0,
  });
  assert.deepEqual(seen, ["raw"], "either's pool3 was missing: not computed");
  assert.equal(onImages.notes!.either, "n/a: Inception weights not found; looked for data/x.pth");
  assert.equal(onImages.notes!.pool3, onImages.notes!.either);
  assert.equal(onImages.metrics.logits, 1, "a reference-free metric gets no reference");
  const noRef = await scoreMetrics({
    metrics: [pool3],
    offered: ["inception-pool3"],
    generated: { "inception-pool3": feats },
    reference: {},
    seed: 0,
  });
  assert.equal(noRef.notes!.pool3, "no reference inception-pool3 features");
});

Deno.test("built-in plugins on raw samples equal the functions they call", async () => {
  const g = points(300, 4, 0.3), r = points(300, 5);
  const scores = await scoreMetrics({
    metrics: ["w2", "precision-recall", "density-coverage"].map(builtin),
    offered: ["raw"],
    generated: { raw: g },
    reference: { raw: r },
    seed: 0,
  });
  assert.equal(scores.notes, undefined);
  assert.equal(scores.metrics.w2, w2(g.data, r.data, 300, 2));
  const pr = await improvedPrecisionRecall({ generated: g, reference: r, k: 3 });
  const dc = await densityCoverage({ generated: g, reference: r, k: 5 });
  assert.equal(scores.metrics.precision, pr.precision);
  assert.equal(scores.metrics.recall, pr.recall);
  assert.equal(scores.metrics.density, dc.density);
  assert.equal(scores.metrics.coverage, dc.coverage);
  // A sample set against itself: every point lies in its own ball (precision = recall =
  // coverage = 1; W2 = 0).
  const self = await scoreMetrics({
    metrics: ["w2", "precision-recall", "density-coverage"].map(builtin),
    offered: ["raw"],
    generated: { raw: r },
    reference: { raw: r },
    seed: 0,
  });
  assert.equal(self.metrics.w2, 0);
  assert.equal(self.metrics.precision, 1);
  assert.equal(self.metrics.recall, 1);
  assert.equal(self.metrics.coverage, 1);
  // Too few rows for k = 5: density/coverage is n/a with the reason, the others stand.
  const few = points(4, 6);
  const small = await scoreMetrics({
    metrics: ["w2", "density-coverage"].map(builtin),
    offered: ["raw"],
    generated: { raw: few },
    reference: { raw: few },
    seed: 0,
  });
  assert.equal(small.metrics.w2, 0);
  assert.equal(
    small.notes!.density,
    "density-coverage failed: kNearestRadii: k = 5 needs at least 6 rows, got 4",
  );
  assert.equal(small.notes!.coverage, small.notes!.density);
});

function toyConfig(metrics?: string[]): SuiteConfig {
  const suite = SUITES.toy2d;
  const d = suite.defaults("default", { dataDir: "data" });
  return {
    suite: "toy2d",
    datasets: ["moons"],
    methods: [],
    models: [],
    solvers: [],
    adaptiveSolver: "dopri5",
    train: d.train,
    eval: { ...d.eval, samples: 64 },
    seeds: [0],
    ...(metrics ? { metrics } : {}),
    data: { nTrain: 0, nTest: 200, budget: "default" },
  };
}

Deno.test("toy2d: the scorer and the held-out floor read the raw samples; W2 as before", async () => {
  const test = points(200, 7).data;
  const data = vectorSource("moons", new Float32Array(2), test, 2);
  const cfg = toyConfig();
  const metrics = resolveMetricNames(reg, SUITES.toy2d, undefined).map(builtin);
  const q = await suiteQuality({ suite: SUITES.toy2d, metrics, data, config: cfg, seed: 0 });
  const gen = points(64, 8, 0.2);
  const x = tf.tensor2d(gen.data, [64, 2]);
  const scores = await q.fn(x);
  x.dispose();
  q.dispose();
  // The suite's old formula: W2 of the samples against the first min(samples, test) points.
  assert.equal(scores.metrics.w2, w2(gen.data, test.subarray(0, 128), 64, 2));
  assert.deepEqual(Object.keys(scores.metrics).sort(), [
    "coverage",
    "density",
    "precision",
    "recall",
    "w2",
  ]);
  const floor = await heldOutScores({ suite: SUITES.toy2d, metrics, data, config: cfg, seed: 0 });
  assert.equal(floor.w2, w2(test.subarray(0, 128), test.subarray(128, 256), 64, 2));
  assert.ok(floor.precision > 0.8 && floor.recall > 0.8, JSON.stringify(floor));
});

Deno.test("--metrics: defaults per suite, unknown or unusable names name the valid ones", async () => {
  assert.deepEqual(defaultMetrics(reg, SUITES.toy2d), [
    "w2",
    "precision-recall",
    "density-coverage",
  ]);
  assert.deepEqual(defaultMetrics(reg, SUITES.cifar10), [
    "fid",
    "kid",
    "precision-recall",
    "density-coverage",
    "inception-score",
  ]);
  assert.deepEqual(resolveMetricNames(reg, SUITES.cifar10, ["fd-dinov2", "fid"]), [
    "fd-dinov2",
    "fid",
  ]);
  assert.throws(
    () => resolveMetricNames(reg, SUITES.toy2d, ["wasserstein"]),
    (e: Error) =>
      e instanceof UnknownNameError &&
      /unknown metric "wasserstein"; valid: .*w2.*precision-recall/.test(e.message),
  );
  assert.throws(
    () => resolveMetricNames(reg, SUITES.toy2d, ["fid"]),
    /metric "fid" reads inception-pool3 features, which suite toy2d does not offer \(it offers raw\); valid for toy2d: /,
  );
  // Two plugins reporting the same figure cannot both be selected.
  const root = await tempPluginRoot({
    "metrics/w2-copy.ts": `
import { defineMetric } from "${new URL("../mod.ts", import.meta.url).href}";
export default defineMetric({
  name: "w2-copy", description: "reports w2 again", features: ["raw"], protocol: {},
  values: { w2: { direction: "lower", title: "W2", description: "again" } },
  compute: () => ({ w2: 0 }),
});
`,
  });
  try {
    const withCopy = await discoverPlugins([new URL("../plugins/", import.meta.url), root]);
    assert.deepEqual(withCopy.failures, []);
    assert.throws(
      () => resolveMetricNames(withCopy, SUITES.toy2d, undefined),
      /metrics "w2" and "w2-copy" both report "w2"; select one of them/,
    );
  } finally {
    await Deno.remove(decodeURIComponent(root.pathname), { recursive: true });
  }
  const info = metricInfo(reg, SUITES.cifar10, { metrics: ["inception-score", "kid"] });
  assert.deepEqual(Object.keys(info), ["inception-score", "kid"]);
  assert.equal(info["inception-score"].feature, "inception-logits");
  assert.equal(info["inception-score"].values.is.direction, "higher");
  assert.equal(info["inception-score"].values.is.spread, "is_std");
  assert.equal(info.kid.values.kid.direction, "lower");
  assert.match(info.kid.featureDescription, /pytorch-fid InceptionV3 pool3/);
});

Deno.test("README: the one-file metric plugin loads and reports the Fréchet distance", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const block = /```ts\n(\/\/ plugins\/metrics\/fd-raw\.ts[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, "the README shows plugins/metrics/fd-raw.ts");
  const mod = new URL("../mod.ts", import.meta.url).href;
  const root = await tempPluginRoot({
    "metrics/fd-raw.ts": block.replace('"../../core/mod.ts"', `"${mod}"`),
  });
  try {
    const withIt = await discoverPlugins([new URL("../plugins/", import.meta.url), root]);
    assert.deepEqual(withIt.failures, []);
    assert.deepEqual(resolveMetricNames(withIt, SUITES.toy2d, ["w2", "fd-raw"]), ["w2", "fd-raw"]);
    // A copy shifted by (0.3, -0.4): same covariance, so the distance is |shift|^2 = 0.25.
    const r = points(400, 11);
    const g = { ...r, data: r.data.map((v, i) => v + (i % 2 ? -0.4 : 0.3)) };
    const s = await scoreMetrics({
      metrics: [withIt.metrics.get("fd-raw")!],
      offered: ["raw"],
      generated: { raw: g },
      reference: { raw: r },
      seed: 0,
    });
    assert.ok(Math.abs(s.metrics.fd_raw - 0.25) < 1e-5, `${s.metrics.fd_raw}`);
  } finally {
    await Deno.remove(decodeURIComponent(root.pathname), { recursive: true });
  }
});
