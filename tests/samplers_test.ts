// The affine-path samplers' grids, refusals, stochastic churn and harness wiring (their order of
// convergence: samplers_order_test.ts; their parity with the references: samplers_parity_test.ts).
import assert from "node:assert/strict";
import { dataFromVelocity, noiseFromVelocity } from "../core/affine.ts";
import { SolverError } from "../core/solve/errors.ts";
import { samplingGrid } from "../core/solve/noise-levels.ts";
import { countNfe } from "../core/solve/nfe.ts";
import { tf } from "../core/tf.ts";
import type { Path, Schedule, SolveOptions, Solver } from "../core/types.ts";
import { solveInBatches, solveOptions } from "../harness/evaluate.ts";
import condOt from "../plugins/paths/cond-ot.ts";
import linear from "../plugins/paths/linear.ts";
import ve from "../plugins/paths/ve-diffusion.ts";
import vp from "../plugins/paths/vp-diffusion.ts";
import dpm from "../plugins/solvers/dpm-solver-pp.ts";
import edmHeun from "../plugins/solvers/edm-heun.ts";
import edmStochastic from "../plugins/solvers/edm-stochastic.ts";
import euler from "../plugins/solvers/euler.ts";
import ipndm from "../plugins/solvers/ipndm.ts";
import unipc from "../plugins/solvers/unipc.ts";
import { gaussianFlow } from "../bench/gaussian-flow.ts";

await tf.setBackend("cpu");

const SAMPLERS: Solver[] = [dpm, unipc, ipndm, edmHeun, edmStochastic];
const close = (a: number, b: number, tol: number) =>
  Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

Deno.test("karras grid: EDM's rho = 7 levels from 80 to 0.002, then the path's end (0 on linear)", () => {
  const n = 5;
  const { points, startScale } = samplingGrid("t", {
    schedule: linear.schedule!,
    sourceStd: 1,
    t0: 0,
    t1: 1,
    steps: n,
    kind: "karras",
    rho: 7,
    sigmaMin: 0.002,
    sigmaMax: 80,
  });
  assert.equal(points.length, n + 1);
  const a = Math.pow(80, 1 / 7), b = Math.pow(0.002, 1 / 7);
  for (let i = 0; i < n; i++) {
    const want = Math.pow(a + (i / (n - 1)) * (b - a), 7); // edm_sampler's t_steps
    assert.ok(close(points[i].level, want, 1e-12), `level ${i}: ${points[i].level} vs ${want}`);
  }
  assert.equal(points[n].t, 1);
  assert.equal(points[n].level, 0);
  // Clipped at sigma~ = 80: t = 1/81 on the linear path, the noise scaled by sigma(1/81) = 80/81.
  assert.ok(close(points[0].t, 1 / 81, 1e-12));
  assert.ok(close(startScale, 80 / 81, 1e-12));
});

Deno.test("logsnr grid is uniform in log-SNR, uniform grid in t; both end exactly at t0 and t1", () => {
  const base = { schedule: vp.schedule!, sourceStd: 1, t0: 0, t1: 1 - 1e-5, steps: 6, rho: 7 };
  const log = samplingGrid("t", { ...base, kind: "logsnr", sigmaMin: 0, sigmaMax: 1e9 }).points;
  const dl = log[1].lambda - log[0].lambda;
  for (let i = 1; i < log.length; i++) {
    assert.ok(close(log[i].lambda - log[i - 1].lambda, dl, 1e-9), `step ${i}`);
  }
  assert.equal(log[0].t, 0);
  assert.equal(log[6].t, 1 - 1e-5);
  const uni = samplingGrid("t", { ...base, kind: "uniform", sigmaMin: 0, sigmaMax: Infinity });
  uni.points.forEach((p, i) => assert.ok(close(p.t, (i / 6) * (1 - 1e-5), 1e-12)));
  assert.equal(uni.startScale, 1);
});

Deno.test("a window clipped at the end spaces steps - 1 steps to sigmaMin, then one step to t1", () => {
  const { points } = samplingGrid("t", {
    schedule: condOt.schedule!,
    sourceStd: 1,
    t0: 0,
    t1: 1,
    steps: 4,
    kind: "karras",
    rho: 7,
    sigmaMin: 0.002,
    sigmaMax: 80,
  });
  assert.equal(points.length, 5);
  assert.ok(close(points[0].level, 80, 1e-9) && close(points[3].level, 0.002, 1e-9));
  assert.equal(points[4].t, 1); // cond-ot's own end level, 1e-4
  assert.ok(close(points[4].level, 1e-4, 1e-9));
});

Deno.test("the data and noise predictions from a velocity are exact, at alpha = 0 too", async () => {
  // x_t = alpha x1 + sigma x0 and v = alpha' x1 + sigma' x0 for known x1, x0.
  const x1 = tf.tensor2d([[0.7, -1.2]]), x0 = tf.tensor2d([[-0.3, 2.0]]);
  for (
    const [s, t] of [[condOt.schedule!, 0], [condOt.schedule!, 0.4], [linear.schedule!, 1]] as const
  ) {
    const xt = tf.add(tf.mul(x1, s.alpha(t)), tf.mul(x0, s.sigma(t)));
    const v = tf.add(tf.mul(x1, s.dAlpha(t)), tf.mul(x0, s.dSigma(t)));
    const d = await dataFromVelocity(s, xt, v, t).data();
    const e = await noiseFromVelocity(s, xt, v, t).data();
    [0.7, -1.2].forEach((w, i) => assert.ok(close(d[i], w, 1e-6), `x1 at t=${t}`));
    [-0.3, 2.0].forEach((w, i) => assert.ok(close(e[i], w, 1e-6), `x0 at t=${t}`));
  }
});

/** Solve and expect a SolverError matching `re`, with no velocity evaluation made. */
async function refuses(solver: Solver, opts: SolveOptions, re: RegExp) {
  const flow = gaussianFlow(linear.schedule!, { m: 1, s: 0.5, std: 1 });
  const counted = countNfe(flow.f);
  const x0 = tf.tensor2d([[0.1], [0.2]]);
  await assert.rejects(
    () => solver.integrate(counted.f, x0, opts),
    (e) => e instanceof SolverError && re.test(e.message),
  );
  assert.equal(counted.count(), 0, `${solver.name} refused before evaluating`);
  x0.dispose();
}

Deno.test("samplers refuse what they cannot sample, with the reason, before any evaluation", async () => {
  const lin = { t0: 0, t1: 1, steps: 4, schedule: linear.schedule!, sourceStd: 1 };
  for (const s of SAMPLERS) {
    await refuses(s, { t0: 0, t1: 1, steps: 4 }, /needs the path's affine schedule.*none/);
    await refuses(s, { ...lin, t0: 1, t1: 0 }, /samples forward only/);
    await refuses(
      s,
      { ...lin, params: { bogus: 1 } },
      /unknown setting "bogus"; valid: .*sigmaMax/,
    );
    await refuses(
      s,
      { ...lin, gridKind: "edm" },
      /unknown grid "edm"; valid: uniform, logsnr, karras/,
    );
  }
  // log-SNR is -inf at cond-ot's t = 0 (alpha = 0) and +inf at linear's t = 1 (sigma = 0).
  const ot = { ...lin, schedule: condOt.schedule!, gridKind: "logsnr" as const };
  await refuses(dpm, { ...ot, params: { sigmaMax: Infinity } }, /alpha\(0\) = 0.*set sigmaMax/);
  await refuses(dpm, { ...lin, gridKind: "logsnr", params: { sigmaMin: 0 } }, /set sigmaMin/);
  // EDM and iPNDM step in sigma/alpha: infinite at alpha = 0 without a sigmaMax.
  await refuses(ipndm, { ...lin, gridKind: "uniform" }, /infinite at t=0.*set sigmaMax/);
  await refuses(edmHeun, { ...lin, params: { sigmaMax: Infinity } }, /set sigmaMax/);
  await refuses(unipc, { ...lin, params: { order: 4 } }, /order must be an integer >= 1 <= 3/);
  await refuses(edmStochastic, { ...lin, params: { churn: -1 } }, /churn must be a number >= 0/);
  // A schedule whose signal-to-noise ratio stalls at t = 0.5: no data prediction there.
  const stall: Schedule = {
    alpha: () => 1,
    sigma: (t) => 0.5 - 0.5 * Math.pow(2 * t - 1, 3),
    dAlpha: () => 0,
    dSigma: (t) => -3 * Math.pow(2 * t - 1, 2),
  };
  await refuses(dpm, { ...lin, steps: 2, schedule: stall }, /undefined at t=0.5/);
  // A path whose noise level does not fall.
  const flat: Schedule = { alpha: () => 1, sigma: () => 1, dAlpha: () => 0, dSigma: () => 0 };
  await refuses(dpm, { ...lin, schedule: flat }, /must fall from t0 to t1/);
  // The Runge-Kutta solvers name the grids that are not theirs.
  await assert.rejects(
    () =>
      euler.integrate((x) => x, tf.zeros([1, 1]), { t0: 0, t1: 1, steps: 2, gridKind: "logsnr" }),
    /"logsnr" is a grid of the affine-path samplers/,
  );
});

Deno.test("edm-stochastic: churn 0 is edm-heun; a seed reproduces a run; churn keeps the marginals", async () => {
  const flow = gaussianFlow(ve.schedule!, { m: 1.5, s: 0.5, std: 10 });
  const n = 2000;
  const x0 = tf.mul(tf.randomNormal([n, 1], 0, 1, "float32", 3), 10);
  const base = { t0: 0, t1: 1, steps: 24, schedule: ve.schedule!, sourceStd: 10 };
  const run = async (s: Solver, o: Partial<SolveOptions>) => {
    const counted = countNfe(flow.f);
    const { x } = await s.integrate(counted.f, x0, { ...base, ...o });
    const v = await x.data() as Float32Array;
    x.dispose();
    return { v, nfe: counted.count() };
  };
  const heun = await run(edmHeun, {});
  const noChurn = await run(edmStochastic, { params: { churn: 0 }, seed: 1 });
  assert.deepEqual(noChurn.v, heun.v);
  assert.equal(noChurn.nfe, heun.nfe);
  const a = await run(edmStochastic, { seed: 7 }), b = await run(edmStochastic, { seed: 7 });
  const c = await run(edmStochastic, { seed: 8 });
  assert.deepEqual(a.v, b.v, "same seed, same samples");
  assert.ok(a.v.some((v, i) => Math.abs(v - c.v[i]) > 1e-3), "another seed, other samples");
  assert.ok(a.v.some((v, i) => Math.abs(v - heun.v[i]) > 1e-2), "churn changes the paths");
  assert.equal(a.nfe, 2 * 24, "churn adds no evaluation");
  // The stochastic sampler targets the same marginals: N(1.5, 0.5^2) at the end (2,000 samples:
  // standard errors 0.011 for the mean and 0.008 for the std).
  const mean = a.v.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(a.v.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  assert.ok(Math.abs(mean - 1.5) < 0.05 && Math.abs(sd - 0.5) < 0.04, `mean ${mean}, std ${sd}`);
  x0.dispose();
});

Deno.test("the harness hands samplers the path's schedule, source std, the setting's numbers, a seed", async () => {
  const o = solveOptions(ve as Path, { steps: 4, grid: "logsnr", sigmaMax: 80, order: 3, rho: 5 });
  assert.equal(o.schedule, ve.schedule);
  assert.equal(o.sourceStd, 10);
  assert.equal(o.gridKind, "logsnr");
  assert.equal(o.rho, 5);
  assert.deepEqual(o.params, { sigmaMax: 80, order: 3 });
  const plain = solveOptions(ve as Path, { rtol: 1e-5, atol: 1e-5 });
  assert.equal(plain.params, undefined);
  // Batches of a stochastic solve: the first batch keeps the seed, the others get their own.
  const flow = gaussianFlow(linear.schedule!, { m: 1, s: 0.5, std: 1 });
  const x0 = tf.randomNormal([8, 1], 0, 1, "float32", 1);
  const opts = { ...solveOptions(linear as Path, { steps: 4 }), seed: 3 };
  const whole = await solveInBatches({ solver: edmStochastic, field: flow.f, x0, solve: opts });
  const split = await solveInBatches({
    solver: edmStochastic,
    field: flow.f,
    x0,
    solve: opts,
    evalBatch: 4,
  });
  const w = await whole.x.data(), s = await split.x.data();
  assert.equal(split.nfe, whole.nfe);
  for (let i = 0; i < 4; i++) assert.equal(s[i], w[i], "batch 0 draws the seed's noise");
  assert.ok([4, 5, 6, 7].some((i) => s[i] !== w[i]), "batch 1 draws its own");
  tf.dispose([x0, whole.x, split.x]);
});

Deno.test("a one-file sampler plugin: DDIM through affineSampler (the README's example)", async () => {
  const { affineSampler, linearCombination } = await import("../core/mod.ts");
  // DDIM = first-order DPM-Solver++: x_t = (sigma_t / sigma_s) x + alpha_t (1 - sigma~_t/sigma~_s) D.
  const ddim = affineSampler({
    name: "ddim",
    description: "DDIM (first-order DPM-Solver++) on any affine path",
    order: 1,
    defaultGrid: "uniform",
    sample(ctx, x0) {
      let x = ctx.start(x0);
      for (let i = 0; i + 1 < ctx.grid.length; i++) {
        const p = ctx.grid[i], q = ctx.grid[i + 1];
        const d = ctx.denoise(x, p);
        const next = linearCombination([[q.sigma / p.sigma, x], [
          q.alpha - (q.sigma / p.sigma) * p.alpha,
          d,
        ]]);
        tf.dispose([x, d]);
        x = next;
      }
      return x;
    },
  });
  const flow = gaussianFlow(ve.schedule!, { m: 1.5, s: 0.5, std: 10 });
  const x0 = tf.tensor2d([[-10], [4], [20]]);
  const opts = { t0: 0, t1: 1, schedule: ve.schedule!, sourceStd: 10 };
  const solve = async (s: Solver, steps: number) => {
    const { x } = await s.integrate(flow.f, x0, { ...opts, steps });
    const v = await x.data();
    x.dispose();
    return [...v];
  };
  const [a, b] = [await solve(ddim, 1), await solve(dpm, 1)];
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-6, "one step: DDIM is DPM-Solver++"));
  const exact = flow.exact([-10, 4, 20], 0, 1);
  const err = async (s: Solver, n: number) =>
    Math.max(...(await solve(s, n)).map((v, i) => Math.abs(v - exact[i])));
  assert.ok(await err(ddim, 64) < (await err(ddim, 16)) / 3, "DDIM converges (order 1)");
  assert.ok(await err(dpm, 64) < (await err(ddim, 64)) / 4, "2M beats DDIM at 64 steps");
  x0.dispose();
});
