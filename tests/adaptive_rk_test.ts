// The adaptive Runge-Kutta solver: Hairer's controller against SciPy (dopri5 ~ RK45, bosh3 ~ RK23),
// bosh3's order and tolerance, one scalar read per trial step, and the tableau checks.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import type { Solver, VelocityField } from "../core/types.ts";
import { countNfe } from "../core/solve/nfe.ts";
import { adaptiveSolver, type StepEvent } from "../core/solve/adaptive-rk.ts";
import { hairer } from "../core/solve/controllers/hairer.ts";
import { torchdiffeq } from "../core/solve/controllers/torchdiffeq.ts";
import bosh3, { BOSH3 } from "../plugins/solvers/bosh3.ts";
import dopri5 from "../plugins/solvers/dopri5.ts";
import { REFERENCE_FIELDS } from "./helpers/reference-fields.ts";
import { countReads } from "../probes/reads.ts";

await tf.setBackend("cpu");

interface ScipyCase {
  solver: string;
  method: string;
  field: string;
  y0: number[][];
  t0: number;
  t1: number;
  rtol: number;
  atol: number;
  nfe: number;
  /** t0 and the end of every accepted step. */
  t: number[];
  y1: number[][];
}

const scipy = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/scipy-rk-steps.json", import.meta.url)),
) as { cases: ScipyCase[] };

Deno.test("Hairer's controller: dopri5 and bosh3 take SciPy's RK45 and RK23 steps and NFE", async () => {
  const solvers: Record<string, Solver> = { dopri5, bosh3 };
  assert.deepEqual(new Set(scipy.cases.map((c) => c.solver)), new Set(["dopri5", "bosh3"]));
  for (const c of scipy.cases) {
    const name = `${c.solver} (${c.method}) ${c.field} ${c.t0}->${c.t1} tol ${c.rtol}`;
    const counted = countNfe(REFERENCE_FIELDS[c.field]);
    const steps: StepEvent[] = [];
    const y0 = tf.tensor2d(c.y0);
    const r = await solvers[c.solver].integrate(counted.f, y0, {
      t0: c.t0,
      t1: c.t1,
      rtol: c.rtol,
      atol: c.atol,
      onStep: (e: StepEvent) => steps.push(e),
    } as never);
    assert.equal(counted.count(), c.nfe, `${name}: NFE`);
    // Accepted step ends within 2% of the span: SciPy's state is float64, ours float32.
    const ends = steps.filter((s) => s.accepted).map((s) => s.t + s.h);
    assert.equal(ends.length, c.t.length - 1, `${name}: accepted steps`);
    const span = Math.abs(c.t1 - c.t0);
    ends.forEach((t, i) =>
      assert.ok(Math.abs(t - c.t[i + 1]) < 2e-2 * span, `${name} step ${i}: ${t} vs ${c.t[i + 1]}`)
    );
    const y1 = (await r.x.array()) as number[][];
    c.y1.forEach((row, i) =>
      row.forEach((v, j) =>
        assert.ok(Math.abs(y1[i][j] - v) < 2e-5, `${name}: y1[${i}][${j}] ${y1[i][j]} vs ${v}`)
      )
    );
    tf.dispose([y0, r.x]);
  }
});

// dx/dt = A x with A = [[lam, -w], [w, lam]] (as in solvers_test.ts), exact solution known.
const LAM = -0.5, W = 2, T = 1.5;
const X0 = [[1, 0], [0.3, -0.8], [-0.6, 0.5]];
const AT = tf.keep(tf.tensor2d([[LAM, W], [-W, LAM]]));
const linear: VelocityField = (x) => tf.matMul(x as tf.Tensor2D, AT);

function exact(t: number): number[][] {
  const e = Math.exp(LAM * t), c = Math.cos(W * t), s = Math.sin(W * t);
  return X0.map(([a, b]) => [e * (c * a - s * b), e * (s * a + c * b)]);
}

/** Max error at t1 and NFE of a solve of the linear ODE from t0 (both in [0, T]). */
async function solveLinear(s: Solver, opts: Record<string, number>, t0 = 0, t1 = T) {
  const x0 = tf.tensor2d(t0 === 0 ? X0 : exact(t0));
  const c = countNfe(linear);
  const r = await s.integrate(c.f, x0, { t0, t1, ...opts });
  const got = (await r.x.array()) as number[][];
  const want = t1 === 0 ? X0 : exact(t1);
  let err = 0;
  got.forEach((row, i) => row.forEach((v, j) => err = Math.max(err, Math.abs(v - want[i][j]))));
  tf.dispose([x0, r.x]);
  return { err, nfe: c.count(), trials: r.stats!.accepted! + r.stats!.rejected!, stats: r.stats! };
}

/** Least-squares slope of log(y) against log(x). */
function slope(xs: number[], ys: number[]): number {
  const x = xs.map(Math.log), y = ys.map(Math.log);
  const mx = x.reduce((a, b) => a + b) / x.length, my = y.reduce((a, b) => a + b) / y.length;
  let num = 0, den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  return num / den;
}

Deno.test("bosh3 converges at order 3 with a fixed step", async () => {
  // A fixed step through the adaptive loop itself: firstStep = T/n, a tolerance no step fails
  // and factor bounds [1, 1]. Errors stay far above float32 round-off (~1e-7 here).
  const fixed = { rtol: 1e3, atol: 1e3, minFactor: 1, maxFactor: 1 };
  const ns = [6, 12, 24, 48], errs: number[] = [];
  for (const n of ns) {
    const r = await solveLinear(bosh3, { ...fixed, firstStep: T / n });
    assert.deepEqual(r.stats, { accepted: n, rejected: 0 });
    assert.equal(r.nfe, 1 + 3 * n, `n=${n}: NFE`);
    errs.push(r.err);
  }
  const p = slope(ns.map((n) => T / n), errs);
  console.log(`bosh3: slope ${p.toFixed(3)}, errors ${errs.map((e) => e.toExponential(2))}`);
  assert.ok(Math.abs(p - 3) < 0.2, `slope ${p} vs order 3`);
});

Deno.test("bosh3 meets its tolerance both ways; steps grow as tol^(-1/3), the error as tol", async () => {
  const tols = [1e-3, 1e-4, 1e-5, 1e-6];
  const errs: number[] = [], trials: number[] = [];
  for (const tol of tols) {
    const fwd = await solveLinear(bosh3, { rtol: tol, atol: tol });
    const bwd = await solveLinear(bosh3, { rtol: tol, atol: tol }, T, 0);
    // Backward the decay is growth (by e^0.75 over the span), and so is the error's.
    assert.ok(fwd.err < 10 * tol, `forward tol ${tol}: error ${fwd.err}`);
    assert.ok(bwd.err < 20 * tol, `backward tol ${tol}: error ${bwd.err}`);
    for (const r of [fwd, bwd]) {
      // f at x0, one for the first step's selection, then 3 per (accepted or rejected) step.
      assert.equal(r.nfe, 2 + 3 * r.trials);
    }
    errs.push(fwd.err);
    trials.push(fwd.trials);
  }
  // Local error ~ h^3 per step of the 2nd-order estimate: h ~ tol^(1/3), so steps ~ tol^(-1/3).
  const pSteps = slope(tols, trials), pErr = slope(tols, errs);
  console.log(
    `bosh3: steps ${trials}, errors ${errs.map((e) => e.toExponential(2))}; ` +
      `slopes ${pSteps.toFixed(3)} (steps) ${pErr.toFixed(3)} (error) vs log tol`,
  );
  assert.ok(Math.abs(pSteps + 1 / 3) < 0.06, `steps slope ${pSteps}`);
  assert.ok(Math.abs(pErr - 1) < 0.1, `error slope ${pErr}`);
});

Deno.test("bosh3 reads one scalar per trial step, never the state", async () => {
  const vf: VelocityField = (x, t) =>
    tf.tidy(() => tf.add(tf.mul(tf.sin(tf.mul(x, 3)), 1 + t), tf.reverse(x, 1)));
  const x0 = tf.randomNormal([256, 2], 0, 1, "float32", 3);
  const counter = countReads();
  const r = await bosh3.integrate(vf, x0, { t0: 0, t1: 1, rtol: 1e-5, atol: 1e-5 });
  counter.stop();
  const trials = r.stats!.accepted! + r.stats!.rejected!;
  assert.ok(trials > 5, `${trials} trial steps`);
  // The first step's two reads (d0 and d1 together, then d2), then one scalar per trial.
  assert.deepEqual(counter.reads, [
    { size: 2, sync: false },
    { size: 1, sync: false },
    ...Array(trials).fill({ size: 1, sync: false }),
  ]);
  tf.dispose([x0, r.x]);
});

Deno.test("adaptiveSolver checks its tableau against the FSAL scheme and the controller", () => {
  const make = (tableau: typeof BOSH3, controller = hairer) =>
    adaptiveSolver({ name: "mine", description: "test", tableau, controller });
  assert.throws(() => make({ ...BOSH3, e: BOSH3.e.slice(1) }), /^Error: mine: .*e needs 4 weights/);
  assert.throws(() => make({ ...BOSH3, c: [0.1, 0.5, 0.75] }), /mine: .*c\[0\] must be 0/);
  assert.throws(() => make({ ...BOSH3, b: [1] }), /mine: .*b needs 3 weights/);
  assert.throws(() => make({ ...BOSH3, a: [[], [0.5], [0.75]] }), /mine: .*a\[j\] needs j entries/);
  const { mid: _, ...noMid } = BOSH3;
  assert.throws(
    () =>
      adaptiveSolver({ name: "mine", description: "t", tableau: noMid, controller: torchdiffeq }),
    /mine: .*steps past the end time, so it needs dense-output weights \(mid\)/,
  );
  assert.equal(make(noMid).order, 3);
});
