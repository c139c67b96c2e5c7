// The epsilon-to-velocity conversion near both ends of the time range: exact for a perfect
// epsilon, with a bounded gain on the VP path (DDPM-style), and refused where it is unbounded.
import assert from "node:assert/strict";
import { epsilonGain, velocityFromEpsilon } from "../core/affine.ts";
import { normals, rng } from "../core/rng.ts";
import { tf } from "../core/tf.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { BETA_MAX } from "../plugins/paths/vp-diffusion.ts";

await tf.setBackend("cpu");
const reg = await discoverPlugins();
const vp = reg.paths.get("vp-diffusion")!;
const eps = reg.losses.get("eps")!;

function maxAbs(a: Float32Array | number[], b: Float32Array | number[]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test("eps: with the true noise, the converted velocity is the path's velocity at both ends (VP)", () => {
  const s = vp.schedule!;
  const n = 2000;
  const x0 = tf.tensor2d(normals(rng(1), 2 * n), [n, 2]);
  const x1 = tf.tensor2d(normals(rng(2), 2 * n).map((z) => 2 * z), [n, 2]);
  const [ta, tb] = vp.tRange;
  // float32 times, as path.sample reads them (near t = 1 the VP schedule is steep enough that
  // 0.99999 and its float32 neighbour differ in sigma' by 5e-4).
  for (const t of [ta, 1e-3, 0.5, 0.999, tb].map(Math.fround)) {
    const { xt, ut } = vp.sample(x0, x1, tf.fill([n], t) as tf.Tensor1D);
    const v = velocityFromEpsilon(s, xt, x0, t);
    const want = ut.dataSync() as Float32Array, got = v.dataSync() as Float32Array;
    // Float32 rounding only: the residual x_t - sigma x0 is O(1), then scaled by alpha'/alpha.
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    assert.ok(maxAbs(got, want) < 2e-5 * scale * (s.dAlpha(t) / s.alpha(t) + 1), `t=${t}`);
    tf.dispose([xt, ut, v]);
  }
  tf.dispose([x0, x1]);
});

Deno.test("eps: the gain from an epsilon error to the velocity is bounded on the VP path", () => {
  const s = vp.schedule!;
  const [ta, tb] = vp.tRange;
  // Noise end: alpha(0) = exp(-(0.1 + 9.95) / 2) = 6.57e-3 is not 0, and the gain is
  // beta(1) / 2 (sigma ~ 1): the probability-flow ODE's own 0.5 beta_max.
  assert.ok(Math.abs(s.alpha(ta) - Math.exp(-0.5 * (0.1 + 0.5 * (BETA_MAX - 0.1)))) < 1e-12);
  assert.ok(Math.abs(epsilonGain(s, ta) - BETA_MAX / 2) < 0.06, `gain ${epsilonGain(s, ta)}`);
  // Data end: the gain is |sigma'| (alpha ~ 1), the same coefficient of x0 as in the path's own
  // conditional velocity that the cfm loss (FM w/ Diffusion) regresses on: ~50 at 1 - 1e-5.
  assert.ok(Math.abs(epsilonGain(s, tb) - Math.abs(s.dSigma(tb))) < 0.1);
  assert.ok(epsilonGain(s, tb) > 45 && epsilonGain(s, tb) < 55);
  // In between it is at most the larger end.
  for (let t = ta; t <= tb; t += 0.01) assert.ok(epsilonGain(s, t) <= 50.1, `t=${t}`);
  // An error of 1 in epsilon moves the velocity by exactly the gain.
  const x = tf.tensor2d([[0.3, -0.7]]), e = tf.tensor2d([[0.1, 0.2]]);
  const v0 = velocityFromEpsilon(s, x, e, ta).dataSync();
  const v1 = velocityFromEpsilon(s, x, tf.add(e, 1), ta).dataSync();
  assert.ok(Math.abs(Math.abs(v1[0] - v0[0]) - epsilonGain(s, ta)) < 1e-3);
});

Deno.test("eps: a path that starts at alpha = 0 is refused with the reason, not sampled with gain 1e4", () => {
  const model = reg.models.get("mlp")!.create({ shape: [2], preset: "tiny", seed: 0 });
  for (const name of ["cond-ot", "linear", "cosine"]) {
    const path = reg.paths.get(name)!;
    assert.equal(epsilonGain(path.schedule!, 0), Infinity);
    assert.throws(
      () => eps.velocity(model, path),
      new RegExp(`loss "eps" cannot sample path "${name}": alpha\\(0\\) = 0, .*divides by ~0`),
    );
  }
  assert.doesNotThrow(() => eps.velocity(model, vp));
  model.dispose();
});
