// FusedAdam against tfjs's own Adam (same trajectory), its clipping against clip-then-Adam, and a
// checkpoint round trip through getWeights/setWeights that continues as if never interrupted.
import assert from "node:assert/strict";
import { rng } from "../core/rng.ts";
import { tf } from "../core/tf.ts";
import { selectBackend } from "../backend/select.ts";
import { createAdam, FusedAdam } from "../harness/fused-adam.ts";

await selectBackend("wasm");

function randomArray(n: number, seed: number): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => 2 * u() - 1);
}

/** A small least-squares problem: variables w [4, 3], b [3]; loss mean((x w + b - y)^2). */
function problem(tag: string) {
  const w = tf.variable(tf.tensor(randomArray(12, 1), [4, 3]), true, `${tag}/w`);
  const b = tf.variable(tf.tensor(randomArray(3, 2), [3]), true, `${tag}/b`);
  const x = tf.tensor(randomArray(40, 3), [10, 4]);
  const y = tf.tensor(randomArray(30, 4), [10, 3]);
  const loss = () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))) as tf.Scalar;
  return {
    vars: [w, b],
    step(opt: tf.Optimizer, clip = 0) {
      tf.tidy(() => {
        let { grads } = tf.variableGrads(loss, [w, b]);
        if (clip > 0 && !(opt instanceof FusedAdam)) {
          const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
          const scale = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
          grads = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, scale)]));
        }
        if (opt instanceof FusedAdam) opt.clipNorm = clip;
        opt.applyGradients(grads);
      });
    },
    values: () => [w, b].map((v) => Array.from(v.dataSync())),
    dispose: () => tf.dispose([w, b, x, y]),
  };
}

function assertClose(a: number[][], b: number[][], tol: number) {
  a.forEach((row, i) =>
    row.forEach((v, j) =>
      assert.ok(Math.abs(v - b[i][j]) <= tol, `[${i}][${j}] ${v} vs ${b[i][j]}`)
    )
  );
}

Deno.test("FusedAdam follows tfjs Adam step for step, with a changing learning rate", () => {
  for (const clip of [0, 0.05]) {
    const p = problem(`ref${clip}`), q = problem(`fused${clip}`);
    const ref = tf.train.adam(0.01), fused = new FusedAdam(0.01);
    for (let s = 0; s < 25; s++) {
      const lr = 0.01 * Math.min(1, (s + 1) / 5);
      (ref as unknown as { learningRate: number }).learningRate = lr;
      fused.learningRate = lr;
      p.step(ref, clip);
      q.step(fused, clip);
    }
    assertClose(q.values(), p.values(), 2e-5);
    // Not trivially equal to the start: the parameters moved.
    assert.ok(Math.abs(q.values()[0][0] - randomArray(12, 1)[0]) > 1e-3);
    ref.dispose();
    fused.dispose();
    p.dispose();
    q.dispose();
  }
});

Deno.test("FusedAdam state survives getWeights/setWeights (a resumed run continues exactly)", async () => {
  const a = problem("straight"), b = problem("resumed");
  const optA = new FusedAdam(0.02);
  let optB = new FusedAdam(0.02);
  for (let s = 0; s < 6; s++) {
    a.step(optA);
    b.step(optB);
  }
  const saved = await optB.getWeights();
  assert.equal(saved[0].name, "iter");
  assert.deepEqual(saved.slice(1).map((w) => w.name), [
    "resumed/w/m",
    "resumed/b/m",
    "resumed/w/v",
    "resumed/b/v",
  ]);
  optB.dispose();
  optB = new FusedAdam(0.02);
  await optB.setWeights(saved);
  tf.dispose(saved.map((w) => w.tensor));
  for (let s = 0; s < 6; s++) {
    a.step(optA);
    b.step(optB);
  }
  assertClose(b.values(), a.values(), 1e-6);
  a.dispose();
  b.dispose();
});

Deno.test("createAdam picks FusedAdam on wasm and cpu; instanceof tells them apart", () => {
  const opt = createAdam(1e-3);
  assert.ok(opt instanceof FusedAdam);
  const plain = tf.train.adam(1e-3);
  assert.ok(!(plain instanceof FusedAdam), "tfjs Adam is not a FusedAdam");
  assert.ok(opt instanceof tf.Optimizer);
  opt.dispose();
  plain.dispose();
});
