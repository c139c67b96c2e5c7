// Tests for the ODE solvers: convergence orders, dopri5 tolerance, NFE counts, guards, hygiene.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import type { Solver, VelocityField } from "../core/types.ts";
import { countNfe } from "../core/solve/nfe.ts";
import { SolverError } from "../core/solve/errors.ts";
import { timeGrid } from "../core/solve/time-grid.ts";
import euler from "../plugins/solvers/euler.ts";
import midpoint from "../plugins/solvers/midpoint.ts";
import heun from "../plugins/solvers/heun.ts";
import rk4 from "../plugins/solvers/rk4.ts";
import dopri5 from "../plugins/solvers/dopri5.ts";

await tf.setBackend("cpu");

// dx/dt = A x with A = [[lam, -w], [w, lam]]: rotation at rate w with decay lam.
const LAM = -0.5, W = 2, T = 1.5;
const X0 = [[1, 0], [0.3, -0.8], [-0.6, 0.5]];
const AT = tf.keep(tf.tensor2d([[LAM, W], [-W, LAM]]));
const linear: VelocityField = (x) => tf.matMul(x as tf.Tensor2D, AT);

function exact(t: number, x0 = X0): number[][] {
  const e = Math.exp(LAM * t), c = Math.cos(W * t), s = Math.sin(W * t);
  return x0.map(([a, b]) => [e * (c * a - s * b), e * (s * a + c * b)]);
}

function maxErr(a: number[][], b: number[][]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a[i].length; j++) m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
  }
  return m;
}

async function solveErr(
  s: Solver,
  opts: Record<string, number>,
  t0 = 0,
  t1 = T,
): Promise<{ err: number; nfe: number; stats?: { accepted?: number; rejected?: number } }> {
  const start = t0 === 0 ? X0 : exact(t0);
  const x0 = tf.tensor2d(start);
  const c = countNfe(linear);
  const r = await s.integrate(c.f, x0, { t0, t1, ...opts });
  assert.ok(!x0.isDisposed, `${s.name} disposed the caller's x0`);
  const got = (await r.x.array()) as number[][];
  r.x.dispose();
  x0.dispose();
  return { err: maxErr(got, t1 === 0 ? X0 : exact(t1)), nfe: c.count(), stats: r.stats };
}

/** Least-squares slope of log(err) against log(h). */
function slope(hs: number[], errs: number[]): number {
  const x = hs.map(Math.log), y = errs.map(Math.log);
  const mx = x.reduce((a, b) => a + b) / x.length, my = y.reduce((a, b) => a + b) / y.length;
  let num = 0, den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  return num / den;
}

// Step counts keep every error far above the float32 round-off floor (~1e-7 here).
const ORDER_CASES: Array<[Solver, number[]]> = [
  [euler, [32, 64, 128, 256]],
  [midpoint, [16, 32, 64, 128]],
  [heun, [16, 32, 64, 128]],
  [rk4, [6, 12, 24]],
];

Deno.test("fixed-step solvers converge at their order on a linear ODE", async () => {
  const rows: string[] = [];
  for (const [s, stepList] of ORDER_CASES) {
    const errs: number[] = [];
    for (const n of stepList) errs.push((await solveErr(s, { steps: n })).err);
    const p = slope(stepList.map((n) => T / n), errs);
    rows.push(
      `${s.name.padEnd(9)} order ${s.order}  slope ${p.toFixed(3)}  steps ${stepList.join(",")}` +
        `  errors ${errs.map((e) => e.toExponential(2)).join(", ")}`,
    );
    assert.ok(Math.abs(p - s.order) < 0.2, `${s.name}: slope ${p} vs order ${s.order}`);
  }
  console.log("measured convergence order (slope of log error vs log step):\n" + rows.join("\n"));
});

Deno.test("dopri5 meets its tolerance forward and backward in time", async () => {
  for (const tol of [1e-3, 1e-5]) {
    const fwd = await solveErr(dopri5, { rtol: tol, atol: tol });
    assert.ok(fwd.err < 10 * tol, `forward tol ${tol}: error ${fwd.err}`);
    const bwd = await solveErr(dopri5, { rtol: tol, atol: tol }, T, 0);
    assert.ok(bwd.err < 10 * tol, `backward tol ${tol}: error ${bwd.err}`);
    // NFE: f at x0, one for Hairer's initial step, then 6 per (accepted or rejected) step.
    for (const r of [fwd, bwd]) {
      assert.equal(r.nfe, 2 + 6 * (r.stats!.accepted! + r.stats!.rejected!));
    }
  }
  const loose = await solveErr(dopri5, { rtol: 1e-3, atol: 1e-3 });
  const tight = await solveErr(dopri5, { rtol: 1e-6, atol: 1e-6 });
  assert.ok(tight.nfe > loose.nfe && tight.err < loose.err);
});

Deno.test("dopri5 rejects steps and counts them in NFE", async () => {
  // A sharp pulse forces rejections when a big step is tried across it.
  const pulse: VelocityField = (x, t) =>
    tf.mul(tf.onesLike(x), 50 * Math.exp(-((t - 0.7) ** 2) / 1e-3));
  const c = countNfe(pulse);
  const x0 = tf.zeros([2, 3]);
  const r = await dopri5.integrate(c.f, x0, { t0: 0, t1: 1, firstStep: 0.5 } as never);
  const got = (await r.x.data())[0];
  r.x.dispose();
  x0.dispose();
  const want = 50 * Math.sqrt(Math.PI * 1e-3); // the integral of the pulse over the real line
  assert.ok(Math.abs(got - want) < 1e-3, `${got} vs ${want}`);
  assert.ok(r.stats!.rejected! > 0, "expected rejected steps");
  // firstStep given: no extra initial-step evaluation.
  assert.equal(c.count(), 1 + 6 * (r.stats!.accepted! + r.stats!.rejected!));
});

Deno.test("fixed-step NFE counts are exact: euler N, midpoint/heun 2N, rk4 4N", async () => {
  const per: Record<string, number> = { euler: 1, midpoint: 2, heun: 2, rk4: 4 };
  for (const s of [euler, midpoint, heun, rk4]) {
    assert.equal(s.evalsPerStep, per[s.name]);
    for (const n of [1, 5, 12]) {
      assert.equal((await solveErr(s, { steps: n })).nfe, per[s.name] * n, `${s.name} N=${n}`);
    }
    const x0 = tf.tensor2d(X0);
    const c = countNfe(linear);
    const g = timeGrid("edm", 7, 0, 1);
    const r = await s.integrate(c.f, x0, { t0: 0, t1: 1, grid: g });
    assert.equal(c.count(), 7 * per[s.name]);
    r.x.dispose();
    x0.dispose();
  }
});

Deno.test("fixed-step solvers evaluate f on the grid times (gridKind edm)", async () => {
  const seen: number[] = [];
  const f: VelocityField = (x, t) => {
    seen.push(t);
    return tf.zerosLike(x);
  };
  const x0 = tf.zeros([1, 2]);
  const r = await euler.integrate(f, x0, { t0: 0, t1: 1, steps: 5, gridKind: "edm" } as never);
  r.x.dispose();
  x0.dispose();
  assert.deepEqual(seen, timeGrid("edm", 5, 0, 1).slice(0, 5));
});

Deno.test("all solvers handle image-shaped batches, both directions, without leaks", async () => {
  // dx/dt = -x + sin(t) elementwise (per-element offsets keep elements different).
  const decay: VelocityField = (x, t) => tf.tidy(() => tf.add(tf.neg(x), Math.sin(t)));
  const vals = Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => Math.cos(i));
  const exactAt = (x0: number, t: number) => {
    // x(t) = (x0 + 1/2) e^{-t} + (sin t - cos t)/2
    return (x0 + 0.5) * Math.exp(-t) + (Math.sin(t) - Math.cos(t)) / 2;
  };
  for (const s of [euler, midpoint, heun, rk4, dopri5]) {
    const before = tf.memory().numTensors;
    const x0 = tf.tensor4d(vals, [2, 4, 4, 3]);
    const opts = s.adaptive ? { rtol: 1e-6, atol: 1e-6 } : { steps: 200 };
    const fwd = await s.integrate(decay, x0, { t0: 0, t1: 1, ...opts });
    assert.deepEqual(fwd.x.shape, [2, 4, 4, 3]);
    const got = await fwd.x.data();
    const tol = s.order === 1 ? 5e-3 : 1e-4;
    for (let i = 0; i < vals.length; i++) {
      assert.ok(Math.abs(got[i] - exactAt(vals[i], 1)) < tol, `${s.name} element ${i}`);
    }
    const back = await s.integrate(decay, fwd.x, { t0: 1, t1: 0, ...opts });
    assert.ok(!fwd.x.isDisposed);
    const home = await back.x.data();
    for (let i = 0; i < vals.length; i++) {
      assert.ok(Math.abs(home[i] - vals[i]) < 2 * tol, `${s.name} backward element ${i}`);
    }
    fwd.x.dispose();
    back.x.dispose();
    x0.dispose();
    assert.equal(tf.memory().numTensors, before, `${s.name} leaked tensors`);
  }
});

Deno.test("dopri5 maxSteps guard on a stiff field throws a SolverError naming solver, t, h", async () => {
  const stiff: VelocityField = (x) => tf.mul(x, -1e6);
  const before = tf.memory().numTensors;
  const x0 = tf.ones([4, 2]);
  await assert.rejects(
    () => dopri5.integrate(stiff, x0, { t0: 0, t1: 1, maxSteps: 100 }),
    (e: unknown) => {
      assert.ok(e instanceof SolverError, String(e));
      assert.match(e.message, /^dopri5: exceeded maxSteps=100/);
      assert.match(e.message, /t=[0-9.e-]+/);
      assert.match(e.message, /h=[0-9.e-]+/);
      assert.equal(e.solver, "dopri5");
      assert.ok(e.t > 0 && e.t < 1 && e.h > 0 && e.h < 1e-4, `t=${e.t} h=${e.h}`);
      return true;
    },
  );
  x0.dispose();
  assert.equal(tf.memory().numTensors, before, "leaked tensors on the error path");
});

Deno.test("dopri5 throws SolverError on finite-time blow-up and on NaN velocities", async () => {
  // dx/dt = x^2, x(0) = 1 blows up at t = 1.
  const blow: VelocityField = (x) => tf.square(x);
  const x0 = tf.ones([1, 1]);
  await assert.rejects(() => dopri5.integrate(blow, x0, { t0: 0, t1: 2 }), (e: unknown) => {
    assert.ok(e instanceof SolverError, String(e));
    assert.ok(e.t > 0.99 && e.t < 1.01, `blow-up reported at t=${e.t}`);
    assert.match(e.message, /^dopri5: (step size underflow|exceeded maxSteps)/);
    return true;
  });
  const nanAfter: VelocityField = (x, t) => t > 0.5 ? tf.fill(x.shape, NaN) : tf.onesLike(x);
  await assert.rejects(() => dopri5.integrate(nanAfter, x0, { t0: 0, t1: 1 }), (e: unknown) => {
    assert.ok(e instanceof SolverError && /NaN\/Inf/.test(e.message), String(e));
    assert.ok(e.t > 0.4 && e.t <= 0.5, `NaN region reached at t=${e.t}`);
    return true;
  });
  const nan: VelocityField = (x) => tf.fill(x.shape, NaN);
  await assert.rejects(() => dopri5.integrate(nan, x0, { t0: 0, t1: 1 }), /initial state/);
  await assert.rejects(() => rk4.integrate(nan, x0, { t0: 0, t1: 1, steps: 3 }), SolverError);
  x0.dispose();
});

Deno.test("solver option errors are clear", async () => {
  const x0 = tf.ones([1, 2]);
  await assert.rejects(() => euler.integrate(linear, x0, { t0: 0, t1: 1 }), /steps/);
  await assert.rejects(
    () => dopri5.integrate(linear, x0, { t0: 0, t1: 1, rtol: 0, atol: 0 }),
    /rtol and atol/,
  );
  const same = await dopri5.integrate(linear, x0, { t0: 0.3, t1: 0.3 });
  assert.deepEqual(await same.x.data(), await x0.data());
  same.x.dispose();
  x0.dispose();
});
