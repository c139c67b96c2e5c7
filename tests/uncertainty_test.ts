// The uncertainties and costs the engine measures for the verdict: straightness's standard error
// over trajectories, the headline NFE on disjoint sub-batches of the noise, CPU seconds of the
// training thread (its own work, not another thread's), and wall time summed over sessions.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import type { VelocityField } from "../core/types.ts";
import { evaluateSampling, NFE_DRAWS } from "../harness/evaluate.ts";
import { flowStraightness, flowStraightnessStats } from "../harness/metrics/straightness.ts";
import { earlierSessions, sessionTime } from "../harness/results-file.ts";
import { threadCpuSeconds } from "../harness/thread-cpu.ts";
import { heldOutPreview } from "../harness/run.ts";
import { vectorSource } from "../harness/data/source.ts";
import condOt from "../plugins/paths/cond-ot.ts";
import dopri5 from "../plugins/solvers/dopri5.ts";
import euler from "../plugins/solvers/euler.ts";
import { buildFixture } from "./fixtures.ts";

await tf.setBackend("cpu");

/** A field whose straightness differs from example to example (curvature grows with |x|). */
const field: VelocityField = (x, t) =>
  tf.tidy(() => tf.add(tf.mul(tf.sin(tf.mul(x, 3)), 1 + 2 * t), tf.mul(x, -0.5)));

Deno.test("straightness: stderr is the sd over trajectories / √n, the same in batches", async () => {
  const x0 = tf.randomNormal([40, 2], 0, 1, "float32", 5);
  const stats = await flowStraightnessStats({ field, x0, steps: 16 });
  // Each example measured alone gives its own value; their mean and sd / √n are the stats.
  const each: number[] = [];
  for (let i = 0; i < 40; i++) {
    const xi = x0.slice(i, 1);
    each.push(await flowStraightness({ field, x0: xi, steps: 16 }));
    xi.dispose();
  }
  const mean = each.reduce((a, b) => a + b) / 40;
  const sd = Math.sqrt(each.reduce((a, b) => a + (b - mean) ** 2, 0) / 39);
  assert.equal(stats.n, 40);
  assert.ok(Math.abs(stats.mean - mean) < 1e-6 * mean, `${stats.mean} vs ${mean}`);
  assert.ok(Math.abs(stats.stderr - sd / Math.sqrt(40)) < 1e-5 * stats.stderr);
  assert.ok(stats.stderr > 0.01 * stats.mean, "the examples differ");
  const batched = await flowStraightnessStats({ field, x0, steps: 16, evalBatch: 7 });
  assert.deepEqual(batched, stats);
  // A constant field: every example straight, no spread.
  const still = await flowStraightnessStats({ field: (x) => tf.onesLike(x), x0, steps: 8 });
  assert.deepEqual(still, { mean: 0, stderr: 0, n: 40 });
  x0.dispose();
});

const quality = { fn: () => Promise.resolve({ metrics: {} }), dispose() {} };

Deno.test("NFE draws: the headline adaptive setting counts its NFE on disjoint quarters of the noise", async () => {
  const before = tf.memory().numTensors;
  const plans = [
    { solver: euler, settings: [{ steps: 4 }] },
    { solver: dopri5, settings: [{ rtol: 1e-3, atol: 1e-3 }, { rtol: 1e-6, atol: 1e-6 }] },
  ];
  const input = {
    field,
    path: condOt,
    shape: [2],
    plans,
    samples: 200,
    seed: 3,
    quality,
    referenceSolver: "dopri5",
  };
  const recs = await evaluateSampling(input);
  const head = recs.find((r) => r.setting.rtol === 1e-6)!;
  assert.equal(head.nfeDraws!.batch, 200 / NFE_DRAWS);
  assert.equal(head.nfeDraws!.nfe.length, NFE_DRAWS);
  // Each draw is what dopri5 needs on that quarter alone.
  const x0 = (await import("../harness/source-noise.ts")).sourceNoise({
    path: condOt,
    shape: [2],
    count: 200,
    seed: (await import("../core/rng.ts")).subSeed(3, "sample"),
  });
  for (let k = 0; k < NFE_DRAWS; k++) {
    const part = x0.slice(50 * k, 50);
    let n = 0;
    const counted: VelocityField = (x, t) => (n++, field(x, t));
    (await dopri5.integrate(counted, part, { t0: 0, t1: 1, rtol: 1e-6, atol: 1e-6 })).x.dispose();
    part.dispose();
    assert.equal(head.nfeDraws!.nfe[k], n, `quarter ${k}`);
  }
  x0.dispose();
  // The headline NFE itself is the whole batch's, as before; only the headline setting has draws.
  assert.ok(Number.isInteger(head.nfe));
  assert.equal(recs.filter((r) => r.nfeDraws).length, 1);
  // Solved in batches (--eval-batch), the batches themselves are the draws: no extra solve.
  const batched = await evaluateSampling({ ...input, evalBatch: 80 });
  const b = batched.find((r) => r.setting.rtol === 1e-6)!;
  assert.equal(b.nfeDraws!.batch, 80);
  assert.equal(b.nfeDraws!.nfe.length, 3);
  assert.equal(b.nfe, b.nfeDraws!.nfe.reduce((a, c) => a + c) / 3);
  assert.equal(tf.memory().numTensors, before, "leaked tensors");
});

Deno.test("thread CPU: counts the calling thread's work, not another thread's", async () => {
  const t0 = threadCpuSeconds();
  assert.ok(t0 !== undefined, "Deno implements process.threadCpuUsage");
  // Work on this thread shows up.
  const end = performance.now() + 300;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  const t1 = threadCpuSeconds()!;
  assert.ok(t1 - t0 > 0.02, `this thread's busy loop: ${t1 - t0} s`);
  // A worker (another OS thread) burning a fixed amount of CPU while this thread waits.
  const src = `self.onmessage = () => {
    let y = 0; for (let i = 0; i < 2e8; i++) y += Math.sqrt(i);
    self.postMessage(y);
  };`;
  const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
  const w = new Worker(url, { type: "module" });
  const started = performance.now();
  await new Promise((resolve) => {
    w.onmessage = resolve;
    w.postMessage(0);
  });
  const waited = (performance.now() - started) / 1000;
  w.terminate();
  URL.revokeObjectURL(url);
  const t2 = threadCpuSeconds()!;
  assert.ok(waited > 0.1, `the worker worked ${waited} s`);
  assert.ok(t2 - t1 < Math.max(0.05, 0.25 * waited), `waiting cost ${t2 - t1} s of ${waited} s`);
});

Deno.test("wall time: a resumed session adds its elapsed time to the earlier sessions'", () => {
  const r = buildFixture();
  const prior = { ...r, manifest: { ...r.manifest, wallSeconds: 259, sessions: 1 } };
  const earlier = earlierSessions(prior, r.manifest);
  assert.deepEqual(earlier, { seconds: 259, sessions: 1 });
  const now = sessionTime(earlier, performance.now() - 920);
  assert.ok(now.wallSeconds > 259.9 && now.wallSeconds < 261, `${now.wallSeconds}`);
  assert.equal(now.sessions, 2);
  // Another config, or no earlier file: this session alone.
  const other = { ...prior, manifest: { ...prior.manifest, configHash: "other" } };
  assert.deepEqual(earlierSessions(other, r.manifest), { seconds: 0, sessions: 0 });
  assert.deepEqual(earlierSessions(null, r.manifest), { seconds: 0, sessions: 0 });
  assert.equal(sessionTime({ seconds: 0, sessions: 0 }, performance.now()).sessions, undefined);
});

Deno.test("held-out preview: the first 500 test points of a 2-D data set", async () => {
  const test = Float32Array.from({ length: 1400 }, (_, i) => i / 10);
  const data = vectorSource("toy", new Float32Array(20), test, 2);
  const preview = await heldOutPreview(data);
  assert.equal(preview.points!.length, 500);
  assert.deepEqual(preview.points![0].map((v) => Math.round(v * 10)), [0, 1]);
  assert.deepEqual(preview.points![499].map((v) => Math.round(v * 10)), [998, 999]);
});
