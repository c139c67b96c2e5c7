// No reads per step in hot loops: training reads its losses once per log step, fixed-step
// solvers read once at the end, dopri5 (both controllers) one scalar per step; and the NaN
// guard names its step.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import type { VelocityField } from "../core/types.ts";
import { selectBackend } from "../backend/select.ts";
import { type DataSource, vectorSource } from "../harness/data/source.ts";
import { NonFiniteLossError, train, type TrainConfig } from "../harness/train.ts";
import independent from "../plugins/couplings/independent.ts";
import cfm from "../plugins/losses/cfm.ts";
import mlp from "../plugins/models/mlp.ts";
import condOt from "../plugins/paths/cond-ot.ts";
import dopri5 from "../plugins/solvers/dopri5.ts";
import dopri5Torchdiffeq from "../plugins/solvers/dopri5-torchdiffeq.ts";
import euler from "../plugins/solvers/euler.ts";
import rk4 from "../plugins/solvers/rk4.ts";
import { countReads } from "../probes/reads.ts";

await selectBackend("cpu");

const CONFIG: TrainConfig = {
  steps: 12,
  batch: 32,
  lr: 1e-3,
  warmup: 4,
  clip: 1,
  ema: 0.99,
  minutes: 0,
  seed: 0,
  logEvery: 4,
};

function toyData(): DataSource {
  const u = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * s));
  return vectorSource("toy", u(2000, 0.37), u(400, 0.91), 2);
}

Deno.test("training reads its losses once per log step, not once per step", async () => {
  for (const microBatch of [0, 16]) {
    const model = mlp.create({ shape: [2], preset: "default", seed: 0 });
    const counter = countReads();
    let out;
    try {
      out = await train({
        model,
        path: condOt,
        loss: cfm,
        coupling: independent,
        data: toyData(),
        config: { ...CONFIG, microBatch },
      });
    } finally {
      counter.stop();
    }
    const logs = Math.ceil(CONFIG.steps / CONFIG.logEvery);
    assert.equal(out.steps, CONFIG.steps);
    assert.equal(out.lossCurve.length, logs);
    // The first step's loss (the NaN guard's early check), then one read of the per-step losses
    // of each log interval, stacked: never one read per step.
    assert.deepEqual(
      counter.reads,
      [{ size: 1, sync: false }, ...Array(logs).fill({ size: CONFIG.logEvery, sync: false })],
      `micro ${microBatch}`,
    );
    out.dispose();
    model.dispose();
  }
});

/** A smooth nonlinear field whose dopri5 solve takes several steps. */
function field(): { vf: VelocityField; dispose(): void } {
  const vf: VelocityField = (x, t) =>
    tf.tidy(() => tf.add(tf.mul(tf.sin(tf.mul(x, 3)), 1 + t), tf.reverse(x, 1)));
  return { vf, dispose() {} };
}

Deno.test("fixed-step solvers read the state once, at the end", async () => {
  const { vf, dispose } = field();
  const x0 = tf.randomNormal([256, 2], 0, 1, "float32", 3);
  for (const solver of [euler, rk4]) {
    const counter = countReads();
    const { x } = await solver.integrate(vf, x0, { t0: 0, t1: 1, steps: 20 });
    counter.stop();
    assert.equal(counter.reads.length, 1, `${solver.name}: ${JSON.stringify(counter.reads)}`);
    x.dispose();
  }
  x0.dispose();
  dispose();
});

Deno.test("dopri5 reads at most one scalar per step", async () => {
  const { vf, dispose } = field();
  const x0 = tf.randomNormal([256, 2], 0, 1, "float32", 4);
  const counter = countReads();
  const r = await dopri5.integrate(vf, x0, { t0: 0, t1: 1, rtol: 1e-5, atol: 1e-5 });
  counter.stop();
  const steps = r.stats!.accepted! + r.stats!.rejected!;
  assert.ok(steps >= 5, `expected several steps, got ${steps}`);
  // Hairer's initial step reads [d0, d1] and d2; then one error norm per trial step.
  assert.equal(counter.reads.length, steps + 2);
  assert.ok(counter.reads.every((rd) => rd.size <= 2 && !rd.sync), JSON.stringify(counter.reads));
  r.x.dispose();
  x0.dispose();
  dispose();
});

Deno.test("dopri5-torchdiffeq reads at most one scalar per trial step, never the state", async () => {
  const { vf, dispose } = field();
  const x0 = tf.randomNormal([256, 2], 0, 1, "float32", 4);
  const counter = countReads();
  const r = await dopri5Torchdiffeq.integrate(vf, x0, { t0: 0, t1: 1, rtol: 1e-5, atol: 1e-5 });
  counter.stop();
  const steps = r.stats!.accepted! + r.stats!.rejected!;
  assert.ok(steps >= 5, `expected several steps, got ${steps}`);
  // The initial step reads [d0, d1] and d2; then one error norm per trial step; the
  // interpolation at t1 reads nothing.
  assert.equal(counter.reads.length, steps + 2, JSON.stringify(counter.reads));
  assert.ok(counter.reads.every((rd) => rd.size <= 2 && !rd.sync), JSON.stringify(counter.reads));
  r.x.dispose();
  x0.dispose();
  dispose();
});

Deno.test("NaN guard: a non-finite loss fails the run naming the step it happened at", async () => {
  const good = toyData();
  let calls = 0;
  const poisoned: DataSource = {
    ...good,
    trainBatch(n, seed) {
      // Step 7 (1-based) draws NaN data.
      return ++calls === 7 ? tf.fill([n, 2], NaN) : good.trainBatch(n, seed);
    },
  };
  const model = mlp.create({ shape: [2], preset: "default", seed: 0 });
  const before = tf.memory().numTensors;
  await assert.rejects(
    () =>
      train({
        model,
        path: condOt,
        loss: cfm,
        coupling: independent,
        data: poisoned,
        config: { ...CONFIG, ema: 0 },
      }),
    (e: unknown) => {
      assert.ok(e instanceof NonFiniteLossError);
      assert.match(e.message, /^loss became NaN by step 7 \(path cond-ot, loss cfm\)/);
      return true;
    },
  );
  assert.equal(tf.memory().numTensors, before, "tensors leaked by the failed run");
  model.dispose();
});

Deno.test("a run stopped by its time budget between log steps still records its last losses", async () => {
  const model = mlp.create({ shape: [2], preset: "default", seed: 0 });
  const out = await train({
    model,
    path: condOt,
    loss: cfm,
    coupling: independent,
    data: toyData(),
    config: { ...CONFIG, steps: 10_000, logEvery: 10_000, minutes: 0.002 },
  });
  assert.ok(out.steps >= 1 && out.steps < 10_000, `${out.steps} steps`);
  assert.equal(out.lossCurve.length, 1);
  assert.equal(out.lossCurve[0][0], out.steps);
  assert.ok(Number.isFinite(out.finalLoss));
  out.dispose();
  model.dispose();
});
