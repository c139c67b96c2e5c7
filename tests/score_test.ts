// Score Matching and ScoreFlow: g(t)^2 from the schedule, probability-flow velocity of the optimal
// score for Gaussian data, the two losses differing only in their weighting, and the t sampler.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import type { Model, Path } from "../core/types.ts";
import type { Tensor, Tensor1D } from "../core/tf.ts";
import {
  diffusionSquared,
  scoreFromVelocity,
  velocityFromEpsilon,
  velocityFromScore,
} from "../core/affine.ts";
import { importanceTimeSampler } from "../core/time-importance.ts";
import vp, { BETA_MAX, BETA_MIN } from "../plugins/paths/vp-diffusion.ts";
import condOt from "../plugins/paths/cond-ot.ts";
import cosine from "../plugins/paths/cosine.ts";
import ve from "../plugins/paths/ve-diffusion.ts";
import dsm from "../plugins/losses/dsm.ts";
import scoreflow from "../plugins/losses/scoreflow.ts";
import { epsFactor, scoreLoss, scoreTerms } from "../plugins/losses/_score.ts";
import { gaussianMarginalVelocity } from "./gaussian.ts";

await tf.setBackend("cpu");

const beta = (s: number) => BETA_MIN + s * (BETA_MAX - BETA_MIN);
const T = (s: number) => BETA_MIN * s + 0.5 * (BETA_MAX - BETA_MIN) * s * s;

Deno.test("g(t)^2 of the VP path is beta(1 - t); for any path it matches its definition by finite differences", () => {
  const s = vp.schedule!;
  for (const t of [0, 0.1, 0.5, 0.9, 0.999]) {
    const g2 = diffusionSquared(s, t, 1);
    assert.ok(Math.abs(g2 - beta(1 - t)) < 1e-9 * beta(1 - t), `t=${t}: ${g2} vs ${beta(1 - t)}`);
  }
  // g^2 = -d/dt (sigma std)^2 + 2 (alpha'/alpha) (sigma std)^2, with derivatives taken numerically
  // from alpha and sigma only (not from the path's dAlpha/dSigma).
  for (const p of [vp, condOt, cosine, ve]) {
    const sc = p.schedule!, std = p.sourceStd;
    for (const t of [0.2, 0.45, 0.7]) {
      const h = 1e-6;
      const v = (u: number) => (sc.sigma(u) * std) ** 2;
      const la = (u: number) => Math.log(sc.alpha(u));
      const want = -(v(t + h) - v(t - h)) / (2 * h) +
        2 * ((la(t + h) - la(t - h)) / (2 * h)) * v(t);
      const got = diffusionSquared(sc, t, std);
      assert.ok(Math.abs(got - want) < 1e-5 * Math.max(1, Math.abs(want)), `${p.name} t=${t}`);
    }
  }
});

/**
 * A stand-in network whose output is a fixed function of (x, t), one example per row. The
 * shipped losses read the output as the score times sigma_t std ("scaled"); `raw` reads it as is.
 */
function fixedModel(f: (x: number, t: number) => number): Model {
  return {
    apply: (x: Tensor, t: Tensor1D) => {
      const xs = x.dataSync() as Float32Array, ts = t.dataSync() as Float32Array;
      const d = x.size / x.shape[0];
      return tf.tensor(Float32Array.from(xs, (v, i) => f(v, ts[Math.floor(i / d)])), x.shape);
    },
    variables: () => [],
    paramCount: () => 0,
    dispose: () => {},
  };
}

Deno.test("Gaussian data: the optimal score's probability-flow velocity is the closed-form marginal velocity", () => {
  const m = 1.5, s = 0.5;
  for (const p of [vp, cosine, condOt, ve]) {
    const sc = p.schedule!, std = p.sourceStd;
    const u = gaussianMarginalVelocity(sc, m, s, std);
    // grad log p_t for x_t ~ N(alpha m, alpha^2 s^2 + sigma^2 std^2).
    const optimal = (x: number, t: number) =>
      -(x - sc.alpha(t) * m) / (sc.alpha(t) ** 2 * s * s + (sc.sigma(t) * std) ** 2);
    const scaled = fixedModel((x, t) => optimal(x, t) * sc.sigma(t) * std);
    const rawLoss = scoreLoss({
      name: "raw",
      description: "",
      weighting: "sigma2",
      importance: false,
      output: "raw",
    });
    for (
      const [loss, model] of [[dsm, scaled], [scoreflow, scaled], [
        rawLoss,
        fixedModel(optimal),
      ]] as const
    ) {
      const vf = loss.velocity(model, p);
      for (const t of [0.1, 0.4, 0.75, 0.95]) {
        const xs = [-1, 0.3, 2.2];
        const x = tf.tensor2d(xs, [3, 1]);
        const v = vf(x, t);
        const got = v.dataSync();
        xs.forEach((xi, i) => {
          const want = u(xi, t);
          assert.ok(
            Math.abs(got[i] - want) < 1e-4 * Math.max(1, Math.abs(want)),
            `${p.name}/${loss.name} t=${t} x=${xi}: ${got[i]} vs ${want}`,
          );
        });
        // scoreFromVelocity inverts velocityFromScore.
        const back = scoreFromVelocity(sc, x, v, t, std).dataSync();
        xs.forEach((xi, i) => assert.ok(Math.abs(back[i] - optimal(xi, t)) < 1e-3));
        tf.dispose([x, v]);
      }
    }
  }
});

Deno.test("velocityFromScore agrees with velocityFromEpsilon under x0_hat = -sigma std^2 score", () => {
  for (const p of [vp, cosine, ve]) {
    const sc = p.schedule!, std = p.sourceStd;
    for (const t of [0.3, 0.8]) {
      const x = tf.tensor2d([[0.4, -1.1]]), score = tf.tensor2d([[0.9, 0.2]]);
      const a = velocityFromScore(sc, x, score, t, std);
      const x0Hat = tf.mul(score, -sc.sigma(t) * std * std);
      const b = velocityFromEpsilon(sc, x, x0Hat, t);
      const d = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
      assert.ok(d < 1e-4, `${p.name} t=${t}: ${d}`);
      tf.dispose([x, score, a, x0Hat, b]);
    }
  }
});

/** The loss of one batch whose rows all have time t. */
function lossAt(
  loss: { loss: (m: Model, p: Path, b: { x0: Tensor; x1: Tensor; t: Tensor1D }) => tf.Scalar },
  model: Model,
  t: number,
  x0v: number[][],
  x1v: number[][],
): number {
  return tf.tidy(() => {
    const x0 = tf.tensor2d(x0v), x1 = tf.tensor2d(x1v);
    const tt = tf.fill([x0v.length], t) as Tensor1D;
    return loss.loss(model, vp, { x0, x1, t: tt }).dataSync()[0];
  });
}

const scoreflow_spec = { weighting: "g2" as const, importance: true };

Deno.test("Score Matching and ScoreFlow differ only by their weighting lambda(t)", () => {
  const model = fixedModel((x, t) => Math.sin(3 * x) + t);
  const x0v = [[0.3, -1.2], [1.1, 0.4], [-0.7, 0.9]], x1v = [[1, 2], [-0.5, 0.25], [0.8, -1.6]];
  const g2Uniform = scoreLoss({ name: "g2", description: "", weighting: "g2", importance: false });
  for (const t of [0.05, 0.5, 0.9, 0.999]) {
    const a = lossAt(dsm, model, t, x0v, x1v);
    const b = lossAt(g2Uniform, model, t, x0v, x1v);
    // lambda_g2 / lambda_sigma2 = g^2 / sigma^2 (std = 1).
    const ratio = beta(1 - t) / (1 - Math.exp(-T(1 - t)));
    assert.ok(Math.abs(b / a / ratio - 1) < 1e-4, `t=${t}: ${b / a} vs ${ratio}`);
  }
  // ScoreFlow = the g^2-weighted loss at the importance-warped time, times the importance weight.
  for (const t of [0.01, 0.3, 0.7, 0.97]) {
    const { times, factors } = scoreTerms(scoreflow_spec, vp, tf.tensor1d([t]));
    const warpedWeight = factors[0] / epsFactor("g2", vp.schedule!, times[0], 1);
    const a = lossAt(scoreflow, model, t, x0v, x1v);
    const b = lossAt(g2Uniform, model, times[0], x0v, x1v);
    assert.ok(Math.abs(a / (warpedWeight * b) - 1) < 1e-3, `t=${t}: ${a} vs ${warpedWeight * b}`);
  }
});

Deno.test("the optimal score has zero residual: both losses vanish when x_t carries no noise error", () => {
  // With the model returning the conditional score of the batch's own x0, the residual is 0.
  const x0v = [[0.3], [-1.2]], x1v = [[1], [2]];
  for (const loss of [dsm, scoreflow]) {
    for (const t of [0.2, 0.8]) {
      const { times } = scoreTerms(
        { weighting: loss === dsm ? "sigma2" : "g2", importance: loss !== dsm },
        vp,
        tf.tensor1d([t, t]),
      );
      const sg = vp.schedule!.sigma(times[0]), al = vp.schedule!.alpha(times[0]);
      // x_t = al x1 + sg x0  =>  x0 = (x_t - al x1) / sg; rows are told apart by x1 = 1 or 2.
      const model = fixedModel((x) => {
        const x1 = Math.abs(x - al * 1 - sg * 0.3) < 1e-4 ? 1 : 2;
        return -((x - al * x1) / sg); // the score -x0 / sigma, times sigma (scaled output)
      });
      const v = lossAt(loss, model, t, x0v, x1v);
      assert.ok(v < 1e-6, `${loss.name} t=${t}: ${v}`);
    }
  }
});

Deno.test("importance time sampler: exact ends, monotone, unbiased, and flat weighted density", () => {
  const s = vp.schedule!;
  const density = (t: number) => diffusionSquared(s, t, 1) / s.sigma(t) ** 2;
  const range = vp.tRange;
  const sampler = importanceTimeSampler(density, range);
  assert.equal(sampler.warp(0).t, range[0]);
  assert.ok(Math.abs(sampler.warp(1).t - range[1]) < 1e-12);
  // The mass matches the closed form: int beta / (1 - e^-T) ds = [log(e^T - 1)].
  const z = Math.log(Math.expm1(T(1))) - Math.log(Math.expm1(T(1 - range[1])));
  assert.ok(Math.abs(sampler.mass / z - 1) < 1e-3, `mass ${sampler.mass} vs ${z}`);
  // Stratified draws: E_q[weight f] equals the uniform mean of f, for smooth and singular f.
  const M = 20000, len = range[1] - range[0];
  for (
    const [name, f, exact] of [
      ["t^2", (t: number) => t * t, (range[1] ** 3 - range[0] ** 3) / 3 / len],
      ["g^2/sigma^2", density, z / len],
    ] as const
  ) {
    let est = 0, prev = -Infinity;
    for (let k = 0; k < M; k++) {
      const { t, weight } = sampler.warp((k + 0.5) / M);
      assert.ok(t >= prev, "warp is monotone");
      prev = t;
      est += weight * f(t);
    }
    est /= M;
    assert.ok(Math.abs(est / exact - 1) < 2e-3, `${name}: ${est} vs ${exact}`);
  }
  // For f = the density itself, weight * f is nearly constant: the variance collapses.
  const vals = [0.001, 0.2, 0.5, 0.8, 0.999].map((u) => {
    const { t, weight } = sampler.warp(u);
    return weight * density(t);
  });
  for (const v of vals) assert.ok(Math.abs(v / (z / len) - 1) < 0.05, `${v} vs ${z / len}`);
  assert.throws(() => importanceTimeSampler(() => NaN, [0, 1]), /finite and >= 0/);
  assert.throws(() => importanceTimeSampler(() => 1, [1, 0]), /t0 < t1/);
});
