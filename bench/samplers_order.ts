// The affine-path samplers' error against the exact solution, for 4 to 128 steps, on the exact
// probability-flow field of Gaussian data on each built-in path: the full tables behind
// tests/samplers_order_test.ts (which asserts the measured orders on a few of these rows).
//
//   deno run -A bench/samplers_order.ts
//
// Columns: max |error| at t1 over four starting points, and in parentheses the order measured
// between that step count and the previous one (log2 of the error ratio).
import { tf } from "../core/tf.ts";
import type { Path, SolveOptions, Solver } from "../core/types.ts";
import condOt from "../plugins/paths/cond-ot.ts";
import cosine from "../plugins/paths/cosine.ts";
import linear from "../plugins/paths/linear.ts";
import ve from "../plugins/paths/ve-diffusion.ts";
import vp from "../plugins/paths/vp-diffusion.ts";
import dpm from "../plugins/solvers/dpm-solver-pp.ts";
import edmHeun from "../plugins/solvers/edm-heun.ts";
import ipndm from "../plugins/solvers/ipndm.ts";
import unipc from "../plugins/solvers/unipc.ts";
import { endError } from "./gaussian-flow.ts";

await tf.setBackend("cpu");
const STEPS = [4, 8, 16, 32, 64, 128];
const WHOLE = { sigmaMin: 0, sigmaMax: 1e9 };

async function row(path: Path, solver: Solver, extra: Partial<SolveOptions>): Promise<string> {
  const cells: string[] = [];
  let prev = NaN;
  for (const n of STEPS) {
    try {
      const { error: err } = await endError({ path, solver, steps: n, extra });
      const order = Number.isNaN(prev) ? "" : ` (${Math.log2(prev / err).toFixed(2)})`;
      cells.push(`${err.toExponential(2)}${order}`.padEnd(17));
      prev = err;
    } catch (e) {
      cells.push(`refused: ${(e as Error).message.slice(0, 90)}`);
      break;
    }
  }
  return cells.join(" ");
}

/**
 * The rows of one path. "whole" opens the noise-level window to the path's own range where that
 * is finite (ve, vp); on paths starting at alpha = 0 (cond-ot, linear, cosine) the logsnr and
 * karras grids need a finite start, and use EDM's window [0.002, 80], whose start at sigma~ = 80
 * neglects alpha x1 there: their error levels off near 1e-2 instead of converging.
 */
function rows(path: Path): Array<[string, Solver, Partial<SolveOptions>]> {
  const finite = path.schedule!.alpha(path.tRange[0]) > 0;
  const w = finite ? WHOLE : {}, tag = finite ? "whole" : "EDM window";
  return [
    ["dpm-solver-pp uniform", dpm, {}],
    [`dpm-solver-pp logsnr ${tag}`, dpm, { gridKind: "logsnr", params: w }],
    ["unipc order 1", unipc, { params: { order: 1 } }],
    ["unipc order 2", unipc, {}],
    [`unipc order 3 logsnr ${tag}`, unipc, { gridKind: "logsnr", params: { ...w, order: 3 } }],
    [`ipndm karras ${tag}`, ipndm, { params: w }],
    [`ipndm maxOrder 2 ${tag}`, ipndm, { params: { ...w, maxOrder: 2 } }],
    [`edm-heun karras ${tag}`, edmHeun, { params: w }],
  ];
}
console.log(
  `${"path / sampler".padEnd(44)} ${STEPS.map((n) => `${n} steps`.padEnd(17)).join(" ")}`,
);
for (const path of [ve, vp, condOt, linear, cosine] as Path[]) {
  for (const [label, solver, extra] of rows(path)) {
    console.log(`${`${path.name} / ${label}`.padEnd(44)} ${await row(path, solver, extra)}`);
  }
}
