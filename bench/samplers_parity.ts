// fmbench's affine-path samplers against their reference implementations on the same toy MLP and
// the same noise: records the references' answers (bench/samplers_reference.py) and compares.
//
//   deno run -A bench/samplers_parity.ts --refs DIR   # run the references, write the fixture
//   deno run -A bench/samplers_parity.ts              # compare with the recorded fixture
//
// DIR holds the references unpacked from their public repositories (fetched, never copied into
// fmbench): dpm_solver_pytorch.py (LuChengTHU/dpm-solver), uni_pc.py (wl-zhao/UniPC),
// generate.py + dnnlib/ + torch_utils/ (NVlabs/edm), solvers.py + solver_utils.py
// (zju-pi/diff-sampler, diff-solvers-main/). The fixture, tests/fixtures/samplers-parity.json, is
// what tests/samplers_parity_test.ts checks (NFE equal, final states within 1e-5).
import { parseArgs } from "node:util";
import { normals, rng } from "../core/rng.ts";
import { tf } from "../core/tf.ts";
import mlp from "../plugins/models/mlp.ts";
import { churnNoise } from "../plugins/solvers/_edm.ts";
import { type Layer, maxAbsDiff, mlpField, type ParityCase, solveCase } from "./samplers-parity.ts";

/** The snapshots of the reference repositories the fixture was recorded with. */
const REFERENCES = {
  "LuChengTHU/dpm-solver": "52bc3fbcd5de56d60917b826b15d2b69460fc2fa",
  "wl-zhao/UniPC": "cf9de85bf2ed68137e6fba5f165f451677b174c4",
  "NVlabs/edm": "008a4e5316c8e3bfe61a62f874bddba254295afb",
  "zju-pi/diff-sampler": "68d5ce427f261962b89ce3b0ee8f6b29f0577328",
};
const FIXTURE = new URL("../tests/fixtures/samplers-parity.json", import.meta.url);
const PRESET = "tiny", MODEL_SEED = 11, POINTS = 8, SEED = 5;
const DPM = "LuChengTHU/dpm-solver dpm_solver_pytorch.py";
const UNIPC = "wl-zhao/UniPC uni_pc.py";
const EDM = "NVlabs/edm generate.py edm_sampler";
const DS = "zju-pi/diff-sampler diff-solvers-main/solvers.py";
/** The whole path: the "logsnr" grid's window opened past the VP path's levels [1e-3, 152]. */
const WHOLE = { sigmaMin: 0, sigmaMax: 1e4 };
const EDM_CHURN = { churn: 40, sMin: 0.05, sMax: 50, sNoise: 1.003 };

/** The cases: each sampler on the paths and grids its reference runs. */
function cases(): ParityCase[] {
  const out: ParityCase[] = [];
  const add = (c: Omit<ParityCase, "id">) =>
    out.push({ id: `${c.solver} ${c.path} ${JSON.stringify(c.setting)}`, ...c });
  for (const steps of [3, 6, 10]) {
    add({
      solver: "dpm-solver-pp",
      path: "vp-diffusion",
      setting: { steps },
      reference: DPM,
      steps,
      grid: "uniform",
    });
  }
  for (const steps of [4, 10]) {
    add({
      solver: "dpm-solver-pp",
      path: "vp-diffusion",
      setting: { steps, grid: "logsnr", ...WHOLE },
      reference: DPM,
      steps,
      grid: "logsnr",
    });
    add({
      solver: "dpm-solver-pp",
      path: "cond-ot",
      setting: { steps },
      reference: DPM,
      steps,
      grid: "uniform",
    });
  }
  add({
    solver: "dpm-solver-pp",
    path: "linear",
    setting: { steps: 4 },
    reference: DPM,
    steps: 4,
    grid: "uniform",
  });
  for (const steps of [4, 8]) {
    add({
      solver: "unipc",
      path: "vp-diffusion",
      setting: { steps },
      reference: UNIPC,
      steps,
      grid: "uniform",
      order: 2,
    });
  }
  add({
    solver: "unipc",
    path: "vp-diffusion",
    setting: { steps: 6, grid: "logsnr", order: 3, ...WHOLE },
    reference: UNIPC,
    steps: 6,
    grid: "logsnr",
    order: 3,
  });
  for (const steps of [4, 8]) {
    add({ solver: "ipndm", path: "linear", setting: { steps }, reference: `${DS} ipndm`, steps });
  }
  add({
    solver: "ipndm",
    path: "vp-diffusion",
    setting: { steps: 5 },
    reference: `${DS} ipndm`,
    steps: 5,
  });
  add({
    solver: "edm-heun",
    path: "vp-diffusion",
    setting: { steps: 4 },
    reference: `${DS} heun`,
    steps: 4,
  });
  for (const steps of [4, 6]) {
    add({ solver: "edm-heun", path: "linear", setting: { steps }, reference: EDM, steps });
  }
  add({
    solver: "edm-stochastic",
    path: "linear",
    setting: { steps: 6 },
    seed: SEED,
    reference: EDM,
    steps: 6,
    churn: EDM_CHURN,
    noise: Array.from({ length: 6 }, (_, i) => [...churnNoise(SEED, i, [POINTS, 2])]),
  });
  return out;
}

async function inputs() {
  const model = mlp.create({ shape: [2], preset: PRESET, seed: MODEL_SEED });
  const vars = model.variables();
  const weights: Layer[] = [];
  for (let i = 0; i < vars.length; i += 2) {
    weights.push({
      w: await vars[i].array() as number[][],
      b: await vars[i + 1].array() as number[],
    });
  }
  model.dispose();
  const z = normals(rng(MODEL_SEED), POINTS * 2);
  const x0 = Array.from({ length: POINTS }, (_, i) => [z[2 * i], z[2 * i + 1]]);
  return {
    source: "bench/samplers_parity.ts + bench/samplers_reference.py",
    references: REFERENCES,
    preset: PRESET,
    weights,
    x0,
    cases: cases(),
  };
}

const { values } = parseArgs({ options: { refs: { type: "string" } } });
await tf.setBackend("cpu");
if (values.refs) {
  const dir = await Deno.makeTempDir();
  const inPath = `${dir}/in.json`, outPath = `${dir}/out.json`;
  await Deno.writeTextFile(inPath, JSON.stringify(await inputs()));
  const script = new URL("./samplers_reference.py", import.meta.url).pathname;
  const run = await new Deno.Command("/usr/bin/python3", {
    args: [script, inPath, outPath],
    env: { PYTHONPATH: values.refs },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!run.success) Deno.exit(1);
  const out = JSON.parse(await Deno.readTextFile(outPath));
  await Deno.writeTextFile(FIXTURE, JSON.stringify(out, null, 2) + "\n");
  await Deno.remove(dir, { recursive: true });
}
const fixture = JSON.parse(await Deno.readTextFile(FIXTURE)) as {
  weights: Layer[];
  x0: number[][];
  preset: string;
  cases: ParityCase[];
};
const { f, dispose } = mlpField(fixture.weights, fixture.preset);
const x0 = tf.tensor2d(fixture.x0);
console.log("case".padEnd(86), "NFE ours/ref", "max |diff|");
let worst = 0;
for (const c of fixture.cases) {
  const ours = await solveCase(c, f, x0);
  const diff = maxAbsDiff(ours.x, c.x1!);
  worst = Math.max(worst, diff);
  console.log(c.id.padEnd(86), `${ours.nfe}/${c.nfe}`.padEnd(12), diff.toExponential(2));
}
console.log(`largest difference ${worst.toExponential(2)} (tolerance 1e-5)`);
x0.dispose();
dispose();
