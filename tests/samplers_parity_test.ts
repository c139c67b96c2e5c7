// The affine-path samplers against their reference implementations on one toy MLP and noise,
// recorded once (bench/samplers_parity.ts + bench/samplers_reference.py ->
// tests/fixtures/samplers-parity.json): identical NFE, final states within 1e-5.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import {
  type Layer,
  maxAbsDiff,
  mlpField,
  type ParityCase,
  solveCase,
} from "../bench/samplers-parity.ts";

await tf.setBackend("cpu");

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/samplers-parity.json", import.meta.url)),
) as { weights: Layer[]; x0: number[][]; preset: string; cases: ParityCase[] };

const TOL = 1e-5;

Deno.test("the fixture covers every new sampler, each reference, and the paths' end cases", () => {
  const solvers = new Set(fixture.cases.map((c) => c.solver));
  for (const s of ["dpm-solver-pp", "unipc", "ipndm", "edm-heun", "edm-stochastic"]) {
    assert.ok(solvers.has(s), s);
  }
  const refs = new Set(fixture.cases.map((c) => c.reference.split(" ")[0]));
  assert.deepEqual(
    [...refs].sort(),
    ["LuChengTHU/dpm-solver", "NVlabs/edm", "wl-zhao/UniPC", "zju-pi/diff-sampler"],
  );
  // alpha(0) = 0 (cond-ot, linear), sigma(1) = 0 (linear), both grids of DPM-Solver, churn noise.
  assert.ok(fixture.cases.some((c) => c.solver === "dpm-solver-pp" && c.path === "cond-ot"));
  assert.ok(fixture.cases.some((c) => c.grid === "logsnr"));
  assert.ok(fixture.cases.some((c) => c.noise && c.noise.length === c.steps));
  for (const c of fixture.cases) assert.ok(c.nfe! > 0 && c.x1!.length === fixture.x0.length, c.id);
});

Deno.test("each sampler matches its reference: the same NFE, final states within 1e-5", async () => {
  const { f, dispose } = mlpField(fixture.weights, fixture.preset);
  const x0 = tf.tensor2d(fixture.x0);
  try {
    for (const c of fixture.cases) {
      const before = tf.memory().numTensors;
      const ours = await solveCase(c, f, x0);
      assert.equal(ours.nfe, c.nfe, `${c.id}: NFE (reference ${c.reference})`);
      const diff = maxAbsDiff(ours.x, c.x1!);
      assert.ok(diff <= TOL, `${c.id}: max |diff| ${diff} > ${TOL} against ${c.reference}`);
      assert.equal(tf.memory().numTensors, before, `${c.id}: no tensors leaked`);
    }
  } finally {
    x0.dispose();
    dispose();
  }
});

Deno.test("parity is not vacuous: another seed's churn noise or another grid misses the reference", async () => {
  const { f, dispose } = mlpField(fixture.weights, fixture.preset);
  const x0 = tf.tensor2d(fixture.x0);
  try {
    const sto = fixture.cases.find((c) => c.solver === "edm-stochastic")!;
    const other = await solveCase({ ...sto, seed: (sto.seed ?? 0) + 1 }, f, x0);
    assert.ok(maxAbsDiff(other.x, sto.x1!) > 1e-3, "a different seed draws different churn");
    const dpm = fixture.cases.find((c) => c.solver === "dpm-solver-pp" && c.grid === "logsnr")!;
    const uniform = await solveCase({ ...dpm, setting: { steps: dpm.steps } }, f, x0);
    assert.ok(maxAbsDiff(uniform.x, dpm.x1!) > 1e-3, "the uniform grid is not the logsnr one");
  } finally {
    x0.dispose();
    dispose();
  }
});
