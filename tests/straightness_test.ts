// Straightness: zero for constant fields, hand-computed values for a rotating field (the Euler
// discretisation in closed form, and the continuous integral), a time-dependent straight path,
// the array-level quadrature rules, tensor hygiene and validation.
import assert from "node:assert/strict";
import { flowStraightness, straightness } from "../harness/metrics/straightness.ts";
import { normals, rng } from "../core/rng.ts";
import { type Tensor, tf } from "../core/tf.ts";
import type { VelocityField } from "../core/types.ts";

await tf.setBackend("cpu");

const close = (a: number, b: number, rel: number, msg = "") =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-12), `${msg}: ${a} vs ${b}`);

/** v(x) = omega J x with J the 90-degree rotation: circles at angular speed omega. */
const rotation = (omega: number): VelocityField => (x: Tensor) =>
  tf.tidy(() => {
    const [a, b] = tf.split(x, 2, 1);
    return tf.mul(tf.concat([tf.neg(b), a], 1), omega);
  });

function meanSquaredNorm(x: Float32Array, n: number): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s / n;
}

Deno.test("straightness: exactly 0 for a constant field (Euler, any step count)", async () => {
  const x0 = tf.tensor2d(normals(rng(1), 64), [32, 2]);
  const c = tf.tensor1d([0.3, -1.7]);
  const f: VelocityField = (x) => tf.tidy(() => tf.add(tf.zerosLike(x), c));
  for (const steps of [1, 7, 50]) assert.equal(await flowStraightness({ field: f, x0, steps }), 0);
  // Also for images-shaped batches.
  const img = tf.randomNormal([4, 3, 3, 2], 0, 1, "float32", 2);
  const g: VelocityField = (x) => tf.onesLike(x);
  assert.equal(await flowStraightness({ field: g, x0: img, steps: 10 }), 0);
  tf.dispose([x0, c, img]);
});

Deno.test("straightness: rotating field, Euler value equals its closed form", async () => {
  // Euler on v = omega J x: x_k = (I + h omega J)^k x0, so |x_k|^2 = r^k |x0|^2 with
  // r = 1 + h^2 omega^2 and x_k is x0 turned by k theta, theta = atan(h omega). With D = x_K - x0:
  // S = (1/K) sum_k |v_k|^2 - |D|^2 = |x0|^2 [omega^2 (1/K) sum_k r^k - (r^K + 1 - 2 r^(K/2) cos K theta)].
  const n = 16;
  const init = normals(rng(3), n * 2);
  const x0 = tf.tensor2d(init, [n, 2]);
  const m2 = meanSquaredNorm(init, n);
  for (const [omega, K] of [[Math.PI / 2, 10], [1, 40], [3, 100]]) {
    const h = 1 / K, r = 1 + h * h * omega * omega, theta = Math.atan(h * omega);
    let avg = 0;
    for (let k = 0; k < K; k++) avg += r ** k / K;
    const d2 = r ** K + 1 - 2 * r ** (K / 2) * Math.cos(K * theta);
    const hand = m2 * (omega * omega * avg - d2);
    const got = await flowStraightness({ field: rotation(omega), x0, steps: K });
    close(got, hand, 2e-4, `omega ${omega}, K ${K}`);
    assert.ok(got > 0);
  }
  tf.dispose(x0);
});

Deno.test("straightness: rotating field converges to the continuous integral", async () => {
  // Exact flow: X_t = R(omega t) x0, X_1 - X_0 = (R(omega) - I) x0, v = omega J R(omega t) x0:
  // int_0^1 |D - v|^2 dt = |D|^2 - 2 D.D + omega^2 |x0|^2 = (omega^2 - 2 (1 - cos omega)) |x0|^2.
  const omega = Math.PI / 2, n = 8;
  const init = normals(rng(4), n * 2);
  const exact = (omega * omega - 2 * (1 - Math.cos(omega))) * meanSquaredNorm(init, n);
  // Array level, sampled on the exact trajectory: the trapezoid rule is second order. (So is the
  // left rule here, by accident: this integrand takes equal values at t = 0 and t = 1.)
  const sampled = (K: number) => {
    const times = Array.from({ length: K + 1 }, (_, k) => k / K);
    const states = times.map((t) => {
      const c = Math.cos(omega * t), s = Math.sin(omega * t);
      return Float32Array.from({ length: n * 2 }, (_, q) => {
        const i = q >> 1;
        const a = init[2 * i], b = init[2 * i + 1];
        return q % 2 === 0 ? c * a - s * b : s * a + c * b;
      });
    });
    const vel = states.map((x) =>
      Float32Array.from({ length: n * 2 }, (_, q) => omega * (q % 2 === 0 ? -x[q + 1] : x[q - 1]))
    );
    return {
      trap: Math.abs(straightness(states, vel, times, n) - exact),
      left: Math.abs(straightness(states, vel.slice(0, K), times, n) - exact),
    };
  };
  const a = sampled(50), b = sampled(100);
  assert.ok(b.trap < 5e-4 * exact, `trapezoid error ${b.trap}`);
  close(a.trap / b.trap, 4, 0.05, "trapezoid error ratio when halving h");
  assert.ok(b.left < 5e-3 * exact, `left-rule error ${b.left}`);
  // Tensor level: Euler with many steps approaches it at first order.
  const x0 = tf.tensor2d(init, [n, 2]);
  const e1 = Math.abs(await flowStraightness({ field: rotation(omega), x0, steps: 200 }) - exact);
  const e2 = Math.abs(await flowStraightness({ field: rotation(omega), x0, steps: 400 }) - exact);
  assert.ok(e1 < 0.02 * exact, `error ${e1}`);
  close(e1 / e2, 2, 0.15, "Euler error ratio when halving h");
  tf.dispose(x0);
});

Deno.test("straightness: straight path at varying speed is not straight in Liu's sense", () => {
  // X_t = X_0 + t^2 c, v = 2 t c: int_0^1 |c - 2 t c|^2 dt = |c|^2 / 3.
  const n = 3, c = [1, 2], K = 64;
  const times = Array.from({ length: K + 1 }, (_, k) => k / K);
  const base = normals(rng(5), n * 2);
  const states = times.map((t) => base.map((v, q) => v + t * t * c[q % 2]));
  const vel = times.map((t) => Float32Array.from({ length: n * 2 }, (_, q) => 2 * t * c[q % 2]));
  close(straightness(states, vel, times, n), 5 / 3, 1e-3);
});

Deno.test("straightness: array level matches the Euler helper on the same trajectory", async () => {
  const n = 5, K = 12, omega = 2;
  const init = normals(rng(6), n * 2);
  const states: Float32Array[] = [Float32Array.from(init)], vel: Float32Array[] = [];
  for (let k = 0; k < K; k++) {
    const x = states[k];
    const v = Float32Array.from(x, (_, q) => omega * (q % 2 === 0 ? -x[q + 1] : x[q - 1]));
    vel.push(v);
    states.push(Float32Array.from(x, (val, q) => val + v[q] / K));
  }
  const times = Array.from({ length: K + 1 }, (_, k) => k / K);
  const x0 = tf.tensor2d(init, [n, 2]);
  close(
    straightness(states, vel, times, n),
    await flowStraightness({ field: rotation(omega), x0, steps: K }),
    1e-4,
  );
  // A single Euler step is straight (up to the float32 rounding of the stored state).
  assert.ok(straightness(states.slice(0, 2), vel.slice(0, 1), [0, 1 / K], n) < 1e-10);
  // The trapezoid rule is symmetric: running the recorded trajectory backwards in time
  // (t from 1 to 0) gives the same value.
  const xK = states[K];
  const all = [
    ...vel,
    Float32Array.from(xK, (_, q) => omega * (q % 2 === 0 ? -xK[q + 1] : xK[q - 1])),
  ];
  const fwd = straightness(states, all, times, n);
  const rev = straightness([...states].reverse(), [...all].reverse(), [...times].reverse(), n);
  close(rev, fwd, 1e-12, "reversed");
  tf.dispose(x0);
});

Deno.test("straightness: no tensor leaks and inputs untouched", async () => {
  const x0 = tf.randomNormal([10, 2], 0, 1, "float32", 7);
  const before = tf.memory().numTensors;
  await flowStraightness({ field: rotation(1), x0, steps: 5 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(x0.isDisposed, false);
  const rank1 = tf.tensor1d([1, 2, 3]); // one scalar coordinate per example
  const s = await flowStraightness({ field: (x, t) => tf.mul(x, t), x0: rank1, steps: 4 });
  assert.ok(s > 0);
  assert.equal(tf.memory().numTensors, before + 1);
  tf.dispose([x0, rank1]);
});

Deno.test("straightness: rejects bad inputs with clear messages", async () => {
  const a = new Float32Array(4);
  assert.throws(() => straightness([a], [], [0], 2), /at least 2 times/);
  assert.throws(() => straightness([a, a], [a, a, a], [0, 1], 2), /K = 1 \(left rule\)/);
  assert.throws(() => straightness([a, a, a], [a, a], [0, 0.5, 0.5], 2), /strictly monotone/);
  assert.throws(() => straightness([a, new Float32Array(3)], [a], [0, 1], 2), /states\[1\]/);
  const x = tf.zeros([2, 2]);
  await assert.rejects(
    () => flowStraightness({ field: (y) => y.clone(), x0: x, steps: 0 }),
    /steps must be/,
  );
  x.dispose();
});
