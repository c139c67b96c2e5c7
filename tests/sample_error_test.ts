// Sampling error against NFE: each fixed-step setting's samples against the reference solve
// (the adaptive solver's tightest setting) from the same noise, reusing the generated samples.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import type { VelocityField } from "../core/types.ts";
import { evaluateSampling } from "../harness/evaluate.ts";
import condOt from "../plugins/paths/cond-ot.ts";
import dopri5 from "../plugins/solvers/dopri5.ts";
import euler from "../plugins/solvers/euler.ts";
import rk4 from "../plugins/solvers/rk4.ts";

await tf.setBackend("cpu");

// dx/dt = A x: a rotation with decay; smooth, so Euler's error is O(h) and rk4's O(h^4).
const AT = tf.keep(tf.tensor2d([[-0.5, 2], [-2, -0.5]]));
const field: VelocityField = (x) => tf.matMul(x as tf.Tensor2D, AT);
const quality = { fn: () => Promise.resolve({ metrics: {} }), dispose() {} };

Deno.test("sampling error: fixed-step samples against the tight adaptive reference, same noise", async () => {
  const before = tf.memory().numTensors;
  const plans = [
    { solver: euler, settings: [4, 8, 16, 32].map((steps) => ({ steps })) },
    { solver: rk4, settings: [{ steps: 2 }, { steps: 4 }] },
    { solver: dopri5, settings: [{ rtol: 1e-3, atol: 1e-3 }, { rtol: 1e-6, atol: 1e-6 }] },
  ];
  const recs = await evaluateSampling({
    field,
    path: condOt,
    shape: [2],
    plans,
    samples: 400,
    seed: 3,
    quality,
    referenceSolver: "dopri5",
  });
  // Plan order is kept although the reference ran first.
  assert.deepEqual(recs.map((r) => `${r.solver}:${r.setting.steps ?? r.setting.rtol}`), [
    "euler:4",
    "euler:8",
    "euler:16",
    "euler:32",
    "rk4:2",
    "rk4:4",
    "dopri5:0.001",
    "dopri5:0.000001",
  ]);
  for (const r of recs.filter((r) => r.solver === "dopri5")) assert.equal(r.sampleError, undefined);
  const mse = recs.slice(0, 6).map((r) => {
    assert.deepEqual(r.sampleError!.reference, {
      solver: "dopri5",
      setting: { rtol: 1e-6, atol: 1e-6 },
    });
    return r.sampleError!.mse!;
  });
  // Euler: MSE ~ h^2, so halving h divides it by ~4; rk4 converges much faster.
  for (let i = 1; i < 4; i++) {
    const ratio = mse[i - 1] / mse[i];
    assert.ok(ratio > 3 && ratio < 6, `euler MSE ratio ${ratio} (${mse.join(", ")})`);
  }
  assert.ok(mse[5] < mse[4] / 100, `rk4: ${mse[4]} -> ${mse[5]}`);
  assert.ok(mse[5] < mse[3], "rk4 at 16 NFE beats euler at 32");
  assert.equal(tf.memory().numTensors, before, "leaked tensors");
});

Deno.test("sampling error: a failed reference is a note on the fixed-step records, not an error", async () => {
  const bad: VelocityField = (x, t) => (t > 0.5 ? tf.mul(x, NaN) : tf.clone(x));
  const plans = [
    { solver: euler, settings: [{ steps: 1 }] },
    { solver: dopri5, settings: [{ rtol: 1e-5, atol: 1e-5 }] },
  ];
  const recs = await evaluateSampling({
    field: bad,
    path: condOt,
    shape: [2],
    plans,
    samples: 10,
    seed: 0,
    quality,
    referenceSolver: "dopri5",
  });
  assert.equal(recs[1].status, "failed");
  assert.equal(recs[0].status, "ok");
  assert.equal(recs[0].sampleError!.mse, undefined);
  assert.match(recs[0].sampleError!.note!, /reference solve failed/);
  assert.equal(recs[0].notes, undefined, "metric notes stay about metrics");
  // Without a reference solver no errors are computed (old behaviour).
  const plain = await evaluateSampling({
    field,
    path: condOt,
    shape: [2],
    plans: plans.slice(0, 1),
    samples: 10,
    seed: 0,
    quality,
  });
  assert.equal(plain[0].sampleError, undefined);
});

Deno.test("sampling error: a resumed evaluation solves the recorded reference again, same figures", async () => {
  const plans = [
    { solver: euler, settings: [{ steps: 4 }, { steps: 8 }] },
    { solver: dopri5, settings: [{ rtol: 1e-6, atol: 1e-6 }] },
  ];
  const opts = { referenceSolver: "dopri5" };
  const full = await evaluateSampling({
    field,
    path: condOt,
    shape: [2],
    plans,
    samples: 50,
    seed: 9,
    quality,
    ...opts,
  });
  // An interrupted session recorded the reference and euler:4; the resume does euler:8.
  const persisted: number[] = [];
  const resumed = await evaluateSampling({
    field,
    path: condOt,
    shape: [2],
    plans,
    samples: 50,
    seed: 9,
    quality,
    ...opts,
    done: [full[2], full[0]],
    onRecord: (r) => Promise.resolve(void persisted.push(r.length)),
  });
  assert.deepEqual(persisted, [3], "one new record, all three in plan order");
  assert.deepEqual(resumed.map((r) => r.sampleError?.mse), full.map((r) => r.sampleError?.mse));
  assert.ok(resumed[1].sampleError!.mse! > 0);
});

Deno.test("sampling error: a resume uses the saved reference samples instead of solving again", async () => {
  const { referenceStore } = await import("../harness/reference-samples.ts");
  const dir = await Deno.makeTempDir({ prefix: "fmbench-ref-" });
  const store = referenceStore(`${dir}/r.reference.safetensors`, "hash|dopri5");
  const plans = [
    { solver: euler, settings: [{ steps: 4 }, { steps: 8 }] },
    { solver: dopri5, settings: [{ rtol: 1e-6, atol: 1e-6 }] },
  ];
  const full = await evaluateSampling({
    field,
    path: condOt,
    shape: [2],
    plans,
    samples: 50,
    seed: 9,
    quality,
    referenceSolver: "dopri5",
    referenceStore: store,
  });
  // The resume must not call the adaptive solver: count its evaluations through the field.
  let calls = 0;
  const counting: VelocityField = (x, t) => (calls++, field(x, t));
  const resumed = await evaluateSampling({
    field: counting,
    path: condOt,
    shape: [2],
    plans,
    samples: 50,
    seed: 9,
    quality,
    referenceSolver: "dopri5",
    referenceStore: store,
    done: [full[2], full[0]],
  });
  assert.equal(calls, 8, "only euler:8 was solved");
  assert.deepEqual(resumed.map((r) => r.sampleError?.mse), full.map((r) => r.sampleError?.mse));
  // A store with another key (a different run or config) is not used.
  assert.equal(await referenceStore(`${dir}/r.reference.safetensors`, "other").load([50, 2]), null);
  assert.equal(await store.load([49, 2]), null, "nor samples of another shape");
  await Deno.remove(dir, { recursive: true });
});
