// Tests for divergence, log-likelihood (nats) and bits/dim against closed-form Gaussian flows.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import { selectBackend } from "../backend/select.ts";
import type { VelocityField } from "../core/types.ts";
import { normals, rng } from "../core/rng.ts";
import { countNfe } from "../core/solve/nfe.ts";
import {
  drawProbes,
  exactDivergence,
  hutchinsonDivergence,
} from "../harness/metrics/divergence.ts";
import { logLikelihood, summarizeNll } from "../harness/metrics/nll.ts";
import { bitsPerDim, DEQUANT_BITS, dequantize } from "../harness/metrics/bits-per-dim.ts";
import dopri5 from "../plugins/solvers/dopri5.ts";
import euler from "../plugins/solvers/euler.ts";
import rk4 from "../plugins/solvers/rk4.ts";

await tf.setBackend("cpu");

const A3 = [[0.3, -1.2, 0.5], [0.8, -0.7, 0.1], [-0.4, 0.9, 1.1]];
const TR3 = 0.3 - 0.7 + 1.1;

Deno.test("exact divergence of linear and nonlinear fields matches the analytic trace", () => {
  const before = tf.memory().numTensors;
  const w = [0.5, -2, 1.5];
  const AT = tf.tidy(() => tf.tensor2d(A3).transpose());
  const wT = tf.tensor1d(w);
  const lin: VelocityField = (x) => tf.add(tf.matMul(x as tf.Tensor2D, AT), 0.25);
  const nonlin: VelocityField = (x) =>
    tf.add(tf.mul(tf.tanh(x), wT), tf.matMul(x as tf.Tensor2D, AT));
  const xs = [[0.1, -0.5, 2], [1, 1, -1], [-0.3, 0.7, 0.2], [0, 0, 0]];
  const x = tf.tensor2d(xs);
  for (const maxRows of [4096, 4, 8]) {
    const r = exactDivergence(lin, x, 0.3, { maxRows });
    for (const d of r.div.arraySync()) assert.ok(Math.abs(d - TR3) < 1e-5, `${d} vs ${TR3}`);
    const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(r.v, lin(x, 0.3)))).arraySync() as number);
    assert.ok(gap < 1e-6, `velocity differs by ${gap}`);
    r.v.dispose();
    r.div.dispose();
    const n = exactDivergence(nonlin, x, 0.3, { maxRows });
    const got = n.div.arraySync();
    xs.forEach((row, b) => {
      const d = TR3 + row.reduce((s, xi, i) => s + w[i] * (1 - Math.tanh(xi) ** 2), 0);
      assert.ok(Math.abs(got[b] - d) < 1e-5, `row ${b}: ${got[b]} vs ${d}`);
    });
    n.v.dispose();
    n.div.dispose();
  }
  // Image-shaped batch with an elementwise field c * x^2: div = sum 2 c x; chunking D = 4 by 3.
  const c = tf.tensor4d([1, -2, 0.5, 3], [1, 2, 2, 1]);
  const sq: VelocityField = (xx) => tf.mul(c, tf.square(xx));
  const xi = tf.tensor4d([0.2, 0.4, -1, 2, 1, 1, 1, 1], [2, 2, 2, 1]);
  const r = exactDivergence(sq, xi, 0, { maxRows: 6 });
  const d = r.div.arraySync();
  assert.ok(Math.abs(d[0] - 2 * (0.2 - 0.8 - 0.5 + 6)) < 1e-5, `${d[0]}`);
  assert.ok(Math.abs(d[1] - 2 * (1 - 2 + 0.5 + 3)) < 1e-5, `${d[1]}`);
  assert.deepEqual(r.v.shape, [2, 2, 2, 1]);
  tf.dispose([r.v, r.div, c, xi, x, AT, wT]);
  assert.equal(tf.memory().numTensors, before, "leaked tensors");
});

Deno.test("Hutchinson: exact for diagonal Jacobians (Rademacher), unbiased otherwise", () => {
  const before = tf.memory().numTensors;
  const c = tf.tensor1d([1, -2, 0.5]);
  const diag: VelocityField = (x) => tf.mul(c, tf.sin(x));
  const x = tf.tensor2d([[0.1, 0.2, 0.3], [1, -1, 2]]);
  const p = drawProbes([2, 3], 3, "rademacher", 7);
  const h = hutchinsonDivergence(diag, x, 0, p);
  const e = exactDivergence(diag, x, 0);
  const hd = h.div.arraySync(), ed = e.div.arraySync();
  for (let b = 0; b < 2; b++) assert.ok(Math.abs(hd[b] - ed[b]) < 1e-5);
  tf.dispose([h.v, h.div, e.v, e.div, p, c, x]);

  // Non-diagonal linear field: the mean of k probe estimates is within 4 sd of tr(A).
  const AT = tf.tidy(() => tf.tensor2d(A3).transpose());
  const lin: VelocityField = (xx) => tf.matMul(xx as tf.Tensor2D, AT);
  const x1 = tf.tensor2d([[0.5, -0.5, 1]]);
  const k = 4000;
  let rad = 0, gauss = 0;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const sym = (A3[i][j] + A3[j][i]) / 2;
      gauss += 2 * sym * sym; // Var(e^T A e), e ~ N(0, I)
      if (i < j) rad += (A3[i][j] + A3[j][i]) ** 2; // Var(e^T A e), e Rademacher
    }
  }
  for (const [noise, variance] of [["rademacher", rad], ["gaussian", gauss]] as const) {
    const probes = drawProbes([1, 3], k, noise, 11);
    const r = hutchinsonDivergence(lin, x1, 0, probes, { maxRows: 1000 });
    const est = r.div.arraySync()[0];
    const sd = Math.sqrt(variance / k);
    assert.ok(Math.abs(est - TR3) < 4 * sd, `${noise}: ${est} vs ${TR3} (sd ${sd})`);
    assert.ok(Math.abs(est - TR3) > 1e-6, `${noise}: suspiciously exact`);
    tf.dispose([r.v, r.div, probes]);
  }
  tf.dispose([AT, x1]);
  assert.equal(tf.memory().numTensors, before, "leaked tensors");
});

Deno.test("drawProbes: seeded, per-example streams, right distribution", () => {
  const a = drawProbes([5, 2, 3], 4, "rademacher", 3);
  assert.deepEqual(a.shape, [4, 5, 2, 3]);
  const av = a.dataSync();
  assert.ok(av.every((v) => v === 1 || v === -1));
  assert.deepEqual(drawProbes([5, 2, 3], 4, "rademacher", 3).dataSync(), av);
  assert.notDeepEqual(drawProbes([5, 2, 3], 4, "rademacher", 4).dataSync(), av);
  // Examples 3..4 of the batch get the same noise when drawn as their own batch (offset 3).
  const tail = drawProbes([2, 2, 3], 4, "rademacher", 3, 3);
  assert.deepEqual(tail.dataSync(), tf.tidy(() => tf.slice(a, [0, 3], [4, 2]).dataSync()));
  const g = Array.from(drawProbes([100, 50], 2, "gaussian", 1).dataSync());
  const mean = g.reduce((s, v) => s + v, 0) / g.length;
  const vr = g.reduce((s, v) => s + (v - mean) ** 2, 0) / g.length;
  assert.ok(Math.abs(mean) < 0.05 && Math.abs(vr - 1) < 0.05, `mean ${mean} var ${vr}`);
  assert.throws(() => drawProbes([1, 2], 1, "uniform" as never, 0), /rademacher, gaussian/);
  tf.dispose([a, tail]);
});

// Affine flow x_t = A_t z + t m with A_t = (1 - t) I + t L and z ~ N(0, std^2 I), so
// x_1 ~ N(m, std^2 L L^T) and v(x, t) = (L - I) A_t^{-1} (x - t m) + m.
const L = [[3, 0.8], [-0.5, 1.5]];
const M = [0.5, -1];
const STD = 0.8;

function inv2(a: number[][]): number[][] {
  const det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
  return [[a[1][1] / det, -a[0][1] / det], [-a[1][0] / det, a[0][0] / det]];
}

const affineField: VelocityField = (x, t) => {
  const At = [[1 - t + t * L[0][0], t * L[0][1]], [t * L[1][0], 1 - t + t * L[1][1]]];
  const Ai = inv2(At);
  // K = (L - I) A_t^{-1}; rows act as v = (x - t m) K^T + m.
  const Lm = [[L[0][0] - 1, L[0][1]], [L[1][0], L[1][1] - 1]];
  const K = [0, 1].map((i) => [0, 1].map((j) => Lm[i][0] * Ai[0][j] + Lm[i][1] * Ai[1][j]));
  return tf.tidy(() => {
    const m = tf.tensor1d(M);
    const KT = tf.tensor2d([[K[0][0], K[1][0]], [K[0][1], K[1][1]]]);
    return tf.add(tf.matMul(tf.sub(x, tf.mul(m, t)) as tf.Tensor2D, KT), m);
  });
};

function affineLogp(x: number[]): number {
  const Li = inv2(L);
  const d = [x[0] - M[0], x[1] - M[1]];
  const z = [Li[0][0] * d[0] + Li[0][1] * d[1], Li[1][0] * d[0] + Li[1][1] * d[1]];
  const det = Math.abs(L[0][0] * L[1][1] - L[0][1] * L[1][0]) * STD * STD;
  return -Math.log(2 * Math.PI) - Math.log(det) - (z[0] ** 2 + z[1] ** 2) / (2 * STD * STD);
}

function affineData(n: number, seed: number): number[][] {
  const z = normals(rng(seed), 2 * n);
  return Array.from({ length: n }, (_, i) => {
    const a = STD * z[2 * i], b = STD * z[2 * i + 1];
    return [L[0][0] * a + L[0][1] * b + M[0], L[1][0] * a + L[1][1] * b + M[1]];
  });
}

Deno.test("NLL (exact divergence, dopri5) matches the Gaussian log-density within 1e-3 nats", async () => {
  const before = tf.memory().numTensors;
  const xs = affineData(64, 1);
  const x1 = tf.tensor2d(xs);
  const base = { solver: dopri5, sourceStd: STD, divergence: "exact" as const, seed: 0 };
  const r = await logLikelihood(affineField, x1, base);
  let worst = 0;
  xs.forEach((x, i) => (worst = Math.max(worst, Math.abs(r.logp[i] - affineLogp(x)))));
  assert.ok(worst < 1e-3, `max |logp error| = ${worst}`);
  assert.ok(r.nfe > 10 && Number.isInteger(r.nfe), `nfe ${r.nfe}`);
  // Splitting into batches changes nothing beyond solver tolerance.
  const rb = await logLikelihood(affineField, x1, { ...base, evalBatch: 10 });
  xs.forEach((x, i) => assert.ok(Math.abs(rb.logp[i] - affineLogp(x)) < 1e-3));
  assert.ok(!Number.isInteger(rb.nfe) || rb.nfe > 0);
  // The summary is the mean NLL with its standard error.
  const s = summarizeNll(r.logp, { dims: 2 });
  const want = xs.reduce((acc, x) => acc - affineLogp(x), 0) / xs.length;
  assert.ok(Math.abs(s.nats - want) < 1e-3 && s.n === 64 && s.stderr > 0 && s.bpd === undefined);
  x1.dispose();
  assert.equal(tf.memory().numTensors, before, "leaked tensors");
});

Deno.test("NLL with Hutchinson probes is unbiased: within 3 standard errors", async () => {
  const xs = affineData(300, 2);
  const x1 = tf.tensor2d(xs);
  for (const noise of ["rademacher", "gaussian"] as const) {
    const opts = {
      solver: dopri5,
      sourceStd: STD,
      divergence: "hutchinson" as const,
      probes: 2,
      noise,
      seed: 5,
    };
    const r = await logLikelihood(affineField, x1, opts);
    const diff = xs.map((x, i) => r.logp[i] - affineLogp(x));
    const mean = diff.reduce((a, b) => a + b) / diff.length;
    const sd = Math.sqrt(diff.reduce((a, b) => a + (b - mean) ** 2, 0) / (diff.length - 1));
    const se = sd / Math.sqrt(diff.length);
    assert.ok(se > 1e-3, `${noise}: Hutchinson noise should be visible (se ${se})`);
    assert.ok(Math.abs(mean) < 3 * se, `${noise}: mean error ${mean}, se ${se}`);
    const again = await logLikelihood(affineField, x1, opts);
    assert.deepEqual(again.logp, r.logp, "same seed must give the same estimate");
  }
  x1.dispose();
});

Deno.test("NLL on image-shaped data with fixed-step rk4; NFE excludes VJP passes", async () => {
  // Per-pixel affine flow to N(m, (std s)^2): v = (s - 1)(x - t m)/(1 - t + t s) + m.
  const s = [0.5, 2, 1.3, 0.9], m = [0.2, -0.4, 1, 0];
  const n = 40, std = 1.5;
  const z = normals(rng(9), n * 4);
  const xs = Array.from(z, (v, i) => std * s[i % 4] * v + m[i % 4]);
  const x1 = tf.tensor4d(xs, [n, 2, 2, 1]);
  const sT = tf.tensor4d(s, [1, 2, 2, 1]), mT = tf.tensor4d(m, [1, 2, 2, 1]);
  const diagField: VelocityField = (x, t) =>
    tf.tidy(() =>
      tf.add(
        tf.div(tf.mul(tf.sub(sT, 1), tf.sub(x, tf.mul(mT, t))), tf.add(tf.mul(sT, t), 1 - t)),
        mT,
      )
    );
  const counted = countNfe(diagField);
  const r = await logLikelihood(counted.f, x1, {
    solver: rk4,
    solveOpts: { steps: 40 },
    sourceStd: std,
    divergence: "exact",
    seed: 0,
    maxRows: n, // one probe per pass: 4 velocity passes per augmented evaluation
  });
  assert.equal(r.nfe, 4 * 40);
  assert.equal(counted.count(), 4 * 4 * 40);
  for (let i = 0; i < n; i++) {
    let want = 0;
    for (let j = 0; j < 4; j++) {
      const sd = std * s[j];
      want += -0.5 * Math.log(2 * Math.PI * sd * sd) - (xs[4 * i + j] - m[j]) ** 2 / (2 * sd * sd);
    }
    assert.ok(Math.abs(r.logp[i] - want) < 1e-3, `example ${i}: ${r.logp[i]} vs ${want}`);
  }
  tf.dispose([x1, sT, mT]);
});

Deno.test("bits/dim: formula, dequantisation and an exact Gaussian model", async () => {
  const D = 12;
  assert.equal(DEQUANT_BITS, 7);
  assert.ok(Math.abs(bitsPerDim(-D * Math.LN2, D) - 8) < 1e-12); // uniform on [-1, 1)^D
  assert.equal(bitsPerDim(0, D), 7);
  assert.throws(() => bitsPerDim(0, 0), /positive integer/);

  // Synthetic 8-bit images [n, 2, 2, 3] around 180 +- 30.
  const n = 300, u = rng(21);
  const ints = Array.from(
    normals(u, n * D),
    (v) => Math.min(255, Math.max(0, Math.round(180 + 30 * v))),
  );
  const x = tf.tensor4d(ints, [n, 2, 2, 3], "int32");
  const y = await dequantize(x, 4);
  const yv = y.dataSync();
  for (let i = 0; i < yv.length; i++) {
    const off = (yv[i] + 1) * 128 - ints[i];
    assert.ok(off >= -1e-4 && off < 1 + 1e-4, `dequantisation noise ${off} at ${i}`);
  }
  assert.deepEqual((await dequantize(x, 4)).dataSync(), yv);
  await assert.rejects(() => dequantize(tf.tensor1d([0.5, -1]), 0), /0\.\.255/);

  // Identity flow (v = 0) with source N(0, std^2 I): p(y) is exactly that Gaussian.
  const std = 0.5;
  const zero: VelocityField = (xx) => tf.zerosLike(xx);
  const r = await logLikelihood(zero, y, {
    solver: euler,
    solveOpts: { steps: 1 },
    sourceStd: std,
    divergence: "exact",
    seed: 0,
  });
  const logN = (v: number) => -0.5 * Math.log(2 * Math.PI * std * std) - v * v / (2 * std * std);
  for (let i = 0; i < n; i++) {
    let want = 0;
    for (let j = 0; j < D; j++) want += logN(yv[i * D + j]);
    assert.ok(Math.abs(r.logp[i] - want) < 1e-3, `logp ${i}: ${r.logp[i]} vs ${want}`);
  }
  const s = summarizeNll(r.logp, { dims: D, bitsPerDim: true });
  // Closed form: E_u[-log N(y; 0, std^2)] with y uniform on [a, a + 1/128], a = x/128 - 1.
  let analytic = 0;
  for (const xi of ints) {
    const a = xi / 128 - 1, b = a + 1 / 128;
    const ey2 = (b ** 3 - a ** 3) / (3 * (b - a));
    analytic += 0.5 * Math.log(2 * Math.PI * std * std) + ey2 / (2 * std * std);
  }
  const bpdWant = analytic / n / (D * Math.LN2) + 7;
  assert.ok(Math.abs(s.bpd! - bpdWant) < 2e-3, `bpd ${s.bpd} vs closed form ${bpdWant}`);
  assert.ok(Math.abs(s.nats - s.bpd! * D * Math.LN2) < 1e-9);
  assert.ok(s.stderr > 0 && s.n === n);
  tf.dispose([x, y]);
});

Deno.test("logLikelihood validates its options", async () => {
  const x = tf.ones([2, 2]);
  const base = { solver: dopri5, sourceStd: 1, divergence: "exact" as const, seed: 0 };
  await assert.rejects(() => logLikelihood(affineField, x, { ...base, sourceStd: 0 }), /sourceStd/);
  await assert.rejects(
    () => logLikelihood(affineField, x, { ...base, divergence: "trace" as never }),
    /exact, hutchinson/,
  );
  await assert.rejects(() => logLikelihood(affineField, x, { ...base, evalBatch: 0 }), /evalBatch/);
  assert.throws(() => summarizeNll([], { dims: 2 }), /no log-densities/);
  assert.ok(Number.isNaN(summarizeNll([1], { dims: 2 }).stderr));
  x.dispose();
});

Deno.test("exact divergence and NLL also work on the wasm backend", async () => {
  await selectBackend("wasm");
  try {
    const f: VelocityField = (x, t) => tf.tidy(() => tf.add(tf.tanh(x), t));
    const xs = [[0.1, 0.5, -1], [2, 0, 0.3]];
    const x = tf.tensor2d(xs);
    const r = exactDivergence(f, x, 0.5);
    const d = r.div.arraySync();
    xs.forEach((row, b) => {
      const want = row.reduce((s, v) => s + 1 - Math.tanh(v) ** 2, 0);
      assert.ok(Math.abs(d[b] - want) < 1e-5, `wasm row ${b}: ${d[b]} vs ${want}`);
    });
    tf.dispose([r.v, r.div, x]);
    const x1 = tf.tensor2d(affineData(16, 3));
    const l = await logLikelihood(affineField, x1, {
      solver: dopri5,
      sourceStd: STD,
      divergence: "exact",
      seed: 0,
    });
    affineData(16, 3).forEach((p, i) => assert.ok(Math.abs(l.logp[i] - affineLogp(p)) < 1e-3));
    x1.dispose();
  } finally {
    await tf.setBackend("cpu");
  }
});
