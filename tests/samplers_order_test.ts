// The affine-path samplers' order of convergence, measured on an analytic field: the exact flow
// of Gaussian data on the path (tests/helpers/gaussian-flow.ts). bench/samplers_order.ts prints
// the full tables.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import type { Path, SolveOptions, Solver } from "../core/types.ts";
import condOt from "../plugins/paths/cond-ot.ts";
import ve from "../plugins/paths/ve-diffusion.ts";
import vp from "../plugins/paths/vp-diffusion.ts";
import dpm from "../plugins/solvers/dpm-solver-pp.ts";
import edmHeun from "../plugins/solvers/edm-heun.ts";
import ipndm from "../plugins/solvers/ipndm.ts";
import unipc from "../plugins/solvers/unipc.ts";
import { convergenceSlope, endError } from "../bench/gaussian-flow.ts";

await tf.setBackend("cpu");

/** The path's whole range of noise levels (no clipping), for grids that need finite ends. */
const WHOLE = { sigmaMin: 0, sigmaMax: 1e9 };

/**
 * Max error at t1 over a few starting points, per step count; NFE checked against `nfe(steps)`.
 */
async function errors(
  path: Path,
  solver: Solver,
  extra: Partial<SolveOptions>,
  steps: number[],
  nfe: (n: number) => number,
): Promise<number[]> {
  const out: number[] = [];
  for (const n of steps) {
    const { error, nfe: count } = await endError({ path, solver, steps: n, extra });
    assert.equal(count, nfe(n), `${solver.name}: NFE at ${n} steps`);
    out.push(error);
  }
  return out;
}

interface OrderCase {
  solver: Solver;
  path: Path;
  extra: Partial<SolveOptions>;
  steps: number[];
  order: number;
  nfe: (n: number) => number;
  why: string;
}

const ONE = (n: number) => n;
const CASES: OrderCase[] = [
  {
    solver: dpm,
    path: ve,
    extra: {},
    steps: [16, 32, 64],
    order: 2,
    nfe: ONE,
    why: "DPM-Solver++(2M), time-uniform",
  },
  {
    solver: dpm,
    path: ve,
    extra: { gridKind: "logsnr", params: WHOLE },
    steps: [16, 32, 64],
    order: 2,
    nfe: ONE,
    why: "DPM-Solver++(2M), uniform log-SNR",
  },
  {
    solver: dpm,
    path: condOt,
    extra: {},
    steps: [32, 64, 128],
    order: 2,
    nfe: ONE,
    why: "from alpha(0) = 0: the DDIM first step from pure noise keeps the order",
  },
  {
    solver: dpm,
    path: vp,
    extra: { gridKind: "logsnr", params: WHOLE },
    steps: [32, 64, 128],
    order: 2,
    nfe: ONE,
    why: "DPM-Solver++(2M) on the VP path",
  },
  {
    solver: unipc,
    path: ve,
    extra: { params: { order: 1 } },
    steps: [16, 32, 64],
    order: 2,
    nfe: ONE,
    why: "UniPC-1: the corrector raises DDIM's order by one",
  },
  {
    solver: unipc,
    path: ve,
    extra: {},
    steps: [16, 32, 64],
    order: 3,
    nfe: ONE,
    why: "UniPC-2 (bh2): order 3 with the corrector; the first-order final step " +
      "(lower_order_final) costs little where the data prediction no longer moves",
  },
  {
    solver: unipc,
    path: condOt,
    extra: {},
    steps: [32, 64, 128],
    order: 2,
    nfe: ONE,
    why: "UniPC-2 where the final first-order step (lower_order_final) dominates: order 2",
  },
  {
    solver: ipndm,
    path: ve,
    extra: { params: WHOLE },
    steps: [16, 32, 64],
    order: 2,
    nfe: ONE,
    why: "iPNDM: Adams-Bashforth 4 after an Euler first step, whose local error sets order 2",
  },
  {
    solver: edmHeun,
    path: ve,
    extra: { params: WHOLE },
    steps: [16, 32, 64],
    order: 2,
    nfe: (n) => 2 * n,
    why: "EDM's Heun on the rho = 7 grid; the path's end level is 0.01 > 0, so every step is Heun",
  },
  {
    solver: edmHeun,
    path: vp,
    extra: { params: WHOLE },
    steps: [16, 32, 64],
    order: 2,
    nfe: (n) => 2 * n,
    why: "EDM's Heun on the VP path",
  },
];

for (const c of CASES) {
  const name = `${c.solver.name} on ${c.path.name} ${JSON.stringify(c.extra)}`;
  Deno.test(`order of convergence: ${name} is ${c.order} (${c.why})`, async () => {
    const errs = await errors(c.path, c.solver, c.extra, c.steps, c.nfe);
    const slope = convergenceSlope(c.steps, errs);
    assert.ok(
      Math.abs(slope - c.order) <= 0.3,
      `${name}: measured order ${slope.toFixed(2)}, expected ${c.order} +- 0.3; errors ${
        errs.map((e) => e.toExponential(2)).join(", ")
      }`,
    );
    assert.ok(errs[errs.length - 1] < 1e-2, `${name}: error ${errs[errs.length - 1]}`);
  });
}
