// Couplings (independent, minibatch OT exact and entropic) and the Sinkhorn solver behind the
// entropic one: optimality against brute force, permutation outputs, marginals, the small-epsilon
// limit, seeded pair sampling, ownership and tensor leaks.
import assert from "node:assert/strict";
import { selectBackend } from "../backend/select.ts";
import { solveAssignment } from "../core/ot/assignment.ts";
import { samplePairs, sinkhorn } from "../core/ot/sinkhorn.ts";
import { sqdist, sqdistTensor } from "../core/ot/sqdist.ts";
import { normals, rng } from "../core/rng.ts";
import { tf } from "../core/tf.ts";
import independent from "../plugins/couplings/independent.ts";
import minibatchOt, { createMinibatchOt } from "../plugins/couplings/minibatch-ot.ts";

await tf.setBackend("cpu");

const PERMS6: number[][] = [];
(function rec(p: number[]) {
  if (p.length === 6) PERMS6.push(p);
  for (let j = 0; j < 6; j++) if (!p.includes(j)) rec([...p, j]);
})([]);

function rowsOf(x: Float32Array, n: number): string[] {
  const d = x.length / n;
  return Array.from({ length: n }, (_, i) => x.subarray(i * d, i * d + d).join(","));
}

/** Index in `src` rows of each row of `out` (throws if a row is not an input row). */
function sourceIndices(out: Float32Array, src: Float32Array, n: number): number[] {
  const s = rowsOf(src, n);
  return rowsOf(out, n).map((r) => {
    const k = s.indexOf(r);
    assert.ok(k >= 0, `output row ${r} is not an input row`);
    return k;
  });
}

function pairedCost(a: Float32Array, b: Float32Array, n: number): number {
  const d = a.length / n;
  let s = 0;
  for (let k = 0; k < n * d; k++) s += (a[k] - b[k]) ** 2;
  return s;
}

/** Exact OT check on 6-point batches under the active backend. */
async function checkExactOnSixPoints(seeds: number, d: number): Promise<void> {
  for (let seed = 0; seed < seeds; seed++) {
    const a = normals(rng(seed), 6 * d);
    const b = normals(rng(500 + seed), 6 * d).map((v) => 0.7 * v + 0.5);
    const x0 = tf.tensor2d(a, [6, d]), x1 = tf.tensor2d(b, [6, d]);
    const [p0, p1] = await minibatchOt.pair(x0, x1, { seed });
    const o0 = p0.dataSync() as Float32Array, o1 = p1.dataSync() as Float32Array;
    // x1 keeps its order; x0 is a permutation of the input rows (each used once).
    assert.deepEqual([...o1], [...b]);
    const idx = sourceIndices(o0, a, 6);
    assert.equal(new Set(idx).size, 6, `seed ${seed}: duplicated rows ${idx}`);
    const D = sqdist(a, b, 6, 6, d);
    let best = Infinity;
    for (const p of PERMS6) best = Math.min(best, p.reduce((s, j, i) => s + D[i * 6 + j], 0));
    const got = pairedCost(o0, o1, 6);
    assert.ok(Math.abs(got - best) <= 1e-5 * (1 + best), `seed ${seed}: ${got} vs brute ${best}`);
    assert.ok(got <= pairedCost(a, b, 6) + 1e-5, `seed ${seed}: worse than independent`);
    tf.dispose([x0, x1, p0, p1]);
  }
}

Deno.test("independent: returns new tensors with the same values; inputs stay alive", async () => {
  const before = tf.memory().numTensors;
  const x0 = tf.randomNormal([5, 3], 0, 1, "float32", 1), x1 = tf.randomNormal([5, 3]);
  const [a, b] = await independent.pair(x0, x1, { seed: 1 });
  assert.notEqual(a, x0);
  assert.notEqual(b, x1);
  assert.deepEqual(a.arraySync(), x0.arraySync());
  assert.deepEqual(b.arraySync(), x1.arraySync());
  tf.dispose([x0, x1]);
  assert.equal(a.isDisposed, false);
  assert.equal((a.dataSync() as Float32Array).length, 15); // still readable after inputs go
  tf.dispose([a, b]);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("minibatch-ot: brute-force optimal permutation on 6 points (cpu)", async () => {
  await checkExactOnSixPoints(60, 2);
  await checkExactOnSixPoints(20, 5);
});

Deno.test("minibatch-ot: brute-force optimal on 6 points with the wasm backend", async () => {
  await selectBackend("wasm"); // float32 matmul cost path
  try {
    await checkExactOnSixPoints(30, 2);
  } finally {
    await tf.setBackend("cpu");
  }
});

Deno.test("minibatch-ot: never costlier than independent; images; reorder x1", async () => {
  for (let seed = 0; seed < 10; seed++) {
    const x0 = tf.randomNormal([32, 4, 4, 3], 0, 1, "float32", seed);
    const x1 = tf.randomUniform([32, 4, 4, 3], -1, 1, "float32", seed + 100);
    const a = x0.dataSync() as Float32Array, b = x1.dataSync() as Float32Array;
    const [p0, p1] = await minibatchOt.pair(x0, x1, { seed });
    assert.deepEqual(p0.shape, [32, 4, 4, 3]);
    const o0 = p0.dataSync() as Float32Array;
    assert.equal(new Set(sourceIndices(o0, a, 32)).size, 32);
    const ot = pairedCost(o0, p1.dataSync() as Float32Array, 32);
    assert.ok(ot <= pairedCost(a, b, 32) + 1e-3);
    // Reordering x1 instead gives the same optimal cost and keeps x0's order.
    const [q0, q1] = await createMinibatchOt({ reorder: "x1" }).pair(x0, x1, { seed });
    assert.deepEqual([...(q0.dataSync() as Float32Array)], [...a]);
    const q = q1.dataSync() as Float32Array;
    assert.equal(new Set(sourceIndices(q, b, 32)).size, 32);
    assert.ok(Math.abs(pairedCost(a, q, 32) - ot) < 1e-3 * ot);
    tf.dispose([x0, x1, p0, p1, q0, q1]);
  }
});

Deno.test("minibatch-ot: no tensor leaks (exact, sinkhorn, independent)", async () => {
  const x0 = tf.randomNormal([40, 2], 0, 1, "float32", 3), x1 = tf.randomNormal([40, 2]);
  const before = tf.memory().numTensors;
  for (const c of [minibatchOt, createMinibatchOt({ method: "sinkhorn" }), independent]) {
    for (let s = 0; s < 3; s++) {
      const out = await c.pair(x0, x1, { seed: s });
      assert.equal(tf.memory().numTensors, before + 2, `${c.name} created extra tensors`);
      tf.dispose(out);
    }
    assert.equal(tf.memory().numTensors, before, `${c.name} leaked`);
    assert.equal(x0.isDisposed || x1.isDisposed, false, `${c.name} disposed an input`);
  }
  tf.dispose([x0, x1]);
});

Deno.test("minibatch-ot: rejects mismatched batches with clear messages", async () => {
  const a = tf.zeros([4, 2]), b = tf.zeros([4, 3]), c = tf.zeros([5, 2]);
  await assert.rejects(() => minibatchOt.pair(a, b, { seed: 0 }), /share their example shape/);
  await assert.rejects(() => minibatchOt.pair(a, c, { seed: 0 }), /4 source and 5 data/);
  const [s0, s1] = await createMinibatchOt({ method: "sinkhorn" }).pair(a, c, { seed: 0 });
  assert.deepEqual([s0.shape, s1.shape], [[4, 2], [4, 2]]);
  assert.throws(() => createMinibatchOt({ method: "emd" as "exact" }), /"exact" or "sinkhorn"/);
  assert.throws(() => createMinibatchOt({ method: "sinkhorn", epsilon: 0 }), /epsilon must be/);
  tf.dispose([a, b, c, s0, s1]);
});

Deno.test("sqdistTensor: matches float64 sqdist (cpu path and float32 matmul path)", async () => {
  const a = normals(rng(8), 12 * 5), b = normals(rng(9), 7 * 5);
  const ta = tf.tensor3d(a, [12, 1, 5]), tb = tf.tensor2d(b, [7, 5]);
  const ref = sqdist(a, b, 12, 7, 5);
  const cpu = await sqdistTensor(ta, tb);
  assert.deepEqual([...cpu], [...ref]);
  await selectBackend("wasm");
  try {
    const wa = tf.tensor3d(a, [12, 1, 5]), wb = tf.tensor2d(b, [7, 5]);
    const w = await sqdistTensor(wa, wb);
    for (let k = 0; k < ref.length; k++) assert.ok(Math.abs(w[k] - ref[k]) < 1e-4 * (1 + ref[k]));
    tf.dispose([wa, wb]);
  } finally {
    await tf.setBackend("cpu");
  }
  tf.dispose([ta, tb]);
});

function mean(xs: Float64Array): number {
  return xs.reduce((s, v) => s + v, 0) / xs.length;
}

Deno.test("sinkhorn: uniform marginals (n != m), both modes agree", () => {
  const n = 9, m = 6, d = 2;
  const C = sqdist(normals(rng(1), n * d), normals(rng(2), m * d), n, m, d);
  for (const eps of [1, 0.3, 0.1]) {
    const s = sinkhorn(C, n, m, eps, { tol: 1e-9, maxIter: 20000 });
    const l = sinkhorn(C, n, m, eps, { tol: 1e-9, maxIter: 20000, mode: "log" });
    assert.ok(s.converged && l.converged, `eps ${eps}: not converged`);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let j = 0; j < m; j++) r += s.plan[i * m + j];
      assert.ok(Math.abs(r - 1 / n) < 1e-8, `row ${i} sums to ${r}`);
      total += r;
    }
    for (let j = 0; j < m; j++) {
      let c = 0;
      for (let i = 0; i < n; i++) c += s.plan[i * m + j];
      assert.ok(Math.abs(c - 1 / m) < 1e-8, `column ${j} sums to ${c}`);
    }
    assert.ok(Math.abs(total - 1) < 1e-8);
    for (let k = 0; k < n * m; k++) assert.ok(Math.abs(s.plan[k] - l.plan[k]) < 1e-7);
  }
});

Deno.test("sinkhorn: cost approaches the exact assignment cost as epsilon shrinks", () => {
  const n = 40, d = 2;
  const a = normals(rng(3), n * d), b = normals(rng(4), n * d).map((v) => 0.5 * v + 1);
  const C = sqdist(a, b, n, n, d);
  const exact = solveAssignment(C, n).total / n; // mean cost of the optimal permutation
  const scale = mean(C), cmax = Math.max(...C);
  let prevGap = Infinity;
  for (const rel of [1, 0.1, 0.01, 0.001]) {
    const eps = rel * scale;
    const s = sinkhorn(C, n, n, eps, { tol: 1e-5, maxIter: 50000 });
    assert.ok(s.converged, `eps ${eps}: not converged (${s.marginalError})`);
    const gap = s.cost - exact;
    // 0 <= <C, P_eps> - OT <= eps log n (the entropy of a plan is at most log(n^2)), up to the
    // plan's marginal error times the largest cost.
    const slack = s.marginalError * cmax;
    assert.ok(gap > -slack, `eps ${eps}: plan beats the optimum by ${-gap}`);
    assert.ok(gap <= eps * Math.log(n) + slack, `eps ${eps}: gap ${gap} > eps log n`);
    assert.ok(gap < prevGap, `gap did not shrink: ${gap} >= ${prevGap}`);
    prevGap = gap;
  }
  assert.ok(prevGap < 1e-3 * exact, `final gap ${prevGap} vs exact ${exact}`);
  // Epsilon scaling is only a speed-up: same fixed point.
  const e = 0.03 * scale;
  const on = sinkhorn(C, n, n, e, { tol: 1e-10, epsScaling: true, maxIter: 50000 });
  const off = sinkhorn(C, n, n, e, { tol: 1e-10, epsScaling: false, maxIter: 50000 });
  assert.ok(on.converged && off.converged);
  for (let k = 0; k < n * n; k++) assert.ok(Math.abs(on.plan[k] - off.plan[k]) < 1e-8);
});

Deno.test("sinkhorn: stabilized mode matches log mode (large offsets, absorption)", () => {
  const check = (C: Float64Array, n: number, m: number, eps: number, epsScaling: boolean) => {
    const opts = { tol: 1e-8, maxIter: 100000, epsScaling };
    const s = sinkhorn(C, n, m, eps, opts);
    const l = sinkhorn(C, n, m, eps, { ...opts, mode: "log" as const });
    assert.ok(s.converged && l.converged);
    for (let k = 0; k < n * m; k++) assert.ok(Math.abs(s.plan[k] - l.plan[k]) < 1e-9);
  };
  // Costs 1e4 + [0, 10) with epsilon 0.05: exp(-C / eps) alone would underflow everywhere.
  const u = rng(1);
  const offset = Float64Array.from({ length: 30 }, () => 1e4 + 10 * u());
  check(offset, 6, 5, 0.05, true);
  check(offset, 6, 5, 0.05, false);
  // Without epsilon scaling this instance drives the scalings past e^50, so the stabilized
  // mode absorbs them into the potentials mid-run (seen by instrumenting the solver).
  const a = normals(rng(3), 80), b = normals(rng(4), 80).map((v) => 0.5 * v + 3);
  check(sqdist(a, b, 40, 40, 2), 40, 40, 0.1, false);
});

Deno.test("sinkhorn: rejects bad inputs", () => {
  assert.throws(() => sinkhorn(new Float64Array(4), 2, 2, 0), /epsilon must be a positive/);
  assert.throws(() => sinkhorn(new Float64Array(5), 2, 2, 1), /expected n\*m = 4/);
  assert.throws(() => sinkhorn(new Float64Array([0, Infinity, 0, 0]), 2, 2, 1), /not finite/);
});

Deno.test("samplePairs: seeded, follows the plan, never draws zero-mass cells", () => {
  const plan = new Float64Array([0.1, 0, 0.3, 0.6]); // 2 x 2
  const a = samplePairs(plan, 2, 2, 20000, 7);
  const b = samplePairs(plan, 2, 2, 20000, 7);
  assert.deepEqual(a, b);
  const counts = [0, 0, 0, 0];
  for (let k = 0; k < 20000; k++) counts[a.rows[k] * 2 + a.cols[k]]++;
  assert.equal(counts[1], 0);
  [0.1, 0, 0.3, 0.6].forEach((p, k) => assert.ok(Math.abs(counts[k] / 20000 - p) < 0.015));
  assert.notDeepEqual(samplePairs(plan, 2, 2, 50, 8), samplePairs(plan, 2, 2, 50, 9));
  assert.throws(() => samplePairs(new Float64Array([0, -1, 0, 0]), 2, 2, 3, 1), /must be finite/);
});

Deno.test("minibatch-ot sinkhorn: seeded; small epsilon reproduces the exact pairing", async () => {
  const n = 16;
  const a = normals(rng(11), n * 2), b = normals(rng(12), n * 2).map((v) => v * 0.5 + 2);
  const x0 = tf.tensor2d(a, [n, 2]), x1 = tf.tensor2d(b, [n, 2]);
  const sk = createMinibatchOt({ method: "sinkhorn", epsilon: 1e-3, tol: 1e-8, maxIter: 20000 });
  assert.equal(sk.name, "minibatch-ot-sinkhorn");
  const [s0, s1] = await sk.pair(x0, x1, { seed: 5 });
  const [t0, t1] = await sk.pair(x0, x1, { seed: 5 });
  assert.deepEqual(s0.arraySync(), t0.arraySync());
  // Every sampled pair (x0_i, x1_j) must be a pair of the optimal assignment.
  const { rowToCol } = solveAssignment(sqdist(a, b, n, n, 2), n);
  const i0 = sourceIndices(s0.dataSync() as Float32Array, a, n);
  const i1 = sourceIndices(s1.dataSync() as Float32Array, b, n);
  for (let k = 0; k < n; k++) assert.equal(i1[k], rowToCol[i0[k]], `pair ${k} is not optimal`);
  tf.dispose([x0, x1, s0, s1, t0, t1]);
});
