// The toy2d suite: 2-D data sets, the MLP, every solver at 1..100 NFE, metrics on the raw samples
// (exact W2, precision/recall, density/coverage) and NLL.
import { rng, subSeed } from "../../core/rng.ts";
import { vectorSource } from "../data/source.ts";
import { TOY2D_SHAPES } from "../data/toy2d-density.ts";
import { toy2dEntropy } from "../data/toy2d-entropy.ts";
import { SINKHORN_BLUR, sinkhornW2, sinkhornW2Floor } from "../metrics/sinkhorn-w2.ts";
import { loadToy2d, TOY2D } from "../data/toy2d.ts";
import { w2 } from "../metrics/w2.ts";
import type { TrainConfig } from "../train.ts";
import type { EvalConfig, SolverSetting, SuiteDef } from "./types.ts";

/**
 * The data sets a toy2d run uses unless --datasets names others.
 * @example
 * toy2dSuite.defaultDatasets === TOY2D_DATASETS; // true: ["moons", "8gaussians", "checkerboard"]
 */
export const TOY2D_DATASETS = ["moons", "8gaussians", "checkerboard"];

/**
 * The toy2d suite's training settings (the --steps, --batch, --lr, ... defaults).
 * @example
 * TOY2D_TRAIN.steps; // 1000
 */
export const TOY2D_TRAIN: Omit<TrainConfig, "seed"> = {
  steps: 1000,
  batch: 256,
  lr: 2e-3,
  warmup: 0,
  clip: 0,
  ema: 0,
  minutes: 0,
  logEvery: 25,
};

/**
 * The toy2d `converged` budget's training: 20,000 steps with the learning rate decayed linearly to
 * a hundredth at the last step. Measured (README, toy2d section): the reference methods (FM w/ OT,
 * OT-CFM, 1-RF) and FM w/ Diffusion end within 2 standard errors of the optimum on moons and
 * 8gaussians; checkerboard still improves (gap 0.25-0.39 nats; 0.16 at 100,000 steps).
 * @example
 * TOY2D_CONVERGED_TRAIN.steps; // 20000
 */
export const TOY2D_CONVERGED_TRAIN: Omit<TrainConfig, "seed"> = {
  ...TOY2D_TRAIN,
  steps: 20000,
  decay: { kind: "polynomial", power: 1, endLr: 2e-5 },
  logEvery: 100,
};

/**
 * The toy2d learning curve's probe: at steps 20, 50, 100, 200, ... and the last, the exact NLL of
 * 150 held-out points and W2 of 150 samples from one fixed noise batch (against 150 held-out
 * points), both by dopri5 at rtol = atol = 1e-3. Sized to cost under a tenth of the default
 * budget's time (measured on moons: README, toy2d section).
 * @example
 * TOY2D_CURVE.n; // 150
 */
export const TOY2D_CURVE = { from: 20, n: 150, rtol: 1e-3, atol: 1e-3 };

/**
 * The toy2d suite's evaluation settings: samples per solver setting, NLL, straightness.
 * @example
 * TOY2D_EVAL.nll.estimators; // ["exact", "hutchinson"]
 */
export const TOY2D_EVAL: EvalConfig = {
  samples: 500,
  nll: {
    n: 500,
    estimators: ["exact", "hutchinson"],
    probes: 2,
    noise: "rademacher",
    rtol: 1e-5,
    atol: 1e-5,
  },
  straightnessSteps: 100,
  trajectories: 12,
  reflowPairs: 5000,
  curve: TOY2D_CURVE,
};

/** The toy2d suite's data settings: points drawn for training and held out. */
export type Toy2dData = { nTrain: number; nTest: number };

/**
 * Points drawn per data set for training and held out for evaluation.
 * @example
 * loadToy2d("moons", TOY2D_DATA.nTrain, TOY2D_DATA.nTest, 0); // 20000 and 2000 points
 */
export const TOY2D_DATA: Toy2dData = { nTrain: 20000, nTest: 2000 };

/**
 * Default settings per solver: NFE from 1 (or the solver's minimum) up to about 100.
 * @example
 * SOLVER_SETTINGS["rk4"].map((s) => s.steps); // [1, 2, 4, 8, 25]
 */
export const SOLVER_SETTINGS: Record<string, SolverSetting[]> = {
  euler: [
    ...[1, 2, 4, 8, 16, 32, 100].map((steps): SolverSetting => ({ steps })),
    { steps: 8, grid: "edm" },
  ],
  midpoint: [1, 2, 4, 8, 16, 50].map((steps) => ({ steps })),
  heun: [1, 2, 4, 8, 16, 50].map((steps) => ({ steps })),
  rk4: [1, 2, 4, 8, 25].map((steps) => ({ steps })),
  dopri5: [{ rtol: 1e-5, atol: 1e-5 }, { rtol: 1e-3, atol: 1e-3 }],
  // torchdiffeq's controller at the headline tolerance: its NFE beside the classic count.
  "dopri5-torchdiffeq": [{ rtol: 1e-5, atol: 1e-5 }],
  // The diffusion samplers, where they matter: 2 to 10 NFE. DPM-Solver++ on both of its grids
  // (logsnr with EDM's noise window 0.002..80, which paths starting at alpha = 0 need).
  "dpm-solver-pp": [
    ...[2, 4, 6, 10].map((steps): SolverSetting => ({ steps })),
    ...[4, 10].map((steps): SolverSetting => ({ steps, grid: "logsnr" })),
  ],
  unipc: [2, 4, 6, 10].map((steps) => ({ steps })),
  ipndm: [2, 4, 6, 10].map((steps) => ({ steps })),
  // NFE 2 steps (- 1 where the path's noise vanishes at t = 1): 3 to 10.
  "edm-heun": [2, 3, 5].map((steps) => ({ steps })),
  "edm-stochastic": [3, 5].map((steps) => ({ steps })),
};

/**
 * Solvers fmbench ships outside the default sweep (so the default figures and run time stay as
 * they were): a run has them when it names them (`--solvers euler,bosh3`), with `defaultSettings`.
 * @example
 * OPT_IN_SOLVERS.includes("bosh3"); // true
 */
export const OPT_IN_SOLVERS: readonly string[] = ["bosh3"];

/**
 * Settings for a solver the suite has no defaults for (a user plugin).
 * @example
 * defaultSettings(true); // [{ rtol: 1e-5, atol: 1e-5 }]
 * defaultSettings(false).length; // 6: steps 1, 2, 4, 8, 16, 32
 */
export function defaultSettings(adaptive: boolean): SolverSetting[] {
  return adaptive ? [{ rtol: 1e-5, atol: 1e-5 }] : [1, 2, 4, 8, 16, 32].map((steps) => ({ steps }));
}

/**
 * Pairs of independent held-out draws behind W2's noise (its standard deviation at the
 * evaluation's size, references[dataset].w2_std).
 * @example
 * W2_NOISE_PAIRS; // 16
 */
export const W2_NOISE_PAIRS = 16;

/**
 * n fresh points of a toy data set, independent of its training and test splits and of other
 * labels' draws: the held-out points of the high-resolution W2.
 * @example
 * heldOutDraw("moons", { n: 5000, seed: 0, label: "compare" }); // Float32Array of 10000 values
 */
export function heldOutDraw(
  name: string,
  draw: { n: number; seed: number; label: string },
): Float32Array {
  return TOY2D[name](draw.n, rng(subSeed(draw.seed, `toy2d-held-out-${name}-${draw.label}`)));
}

/**
 * The toy2d suite: metrics on the raw samples against held-out points (exact W2, precision/recall,
 * density/coverage) and exact or Hutchinson NLL in nats.
 * @example
 * toy2dSuite.datasets; // ["moons", "8gaussians", "checkerboard", "circles"]
 */
export const toy2dSuite: SuiteDef<Toy2dData> = {
  name: "toy2d",
  description: "2-D toy data (moons, 8gaussians, checkerboard, circles); exact W2 and NLL",
  datasets: Object.keys(TOY2D),
  defaultDatasets: TOY2D_DATASETS,
  budgets: {
    default: "a quick look: MLP 3x256, 1000 steps at batch 256 (not converged), 500 samples per " +
      "solver setting, 1 seed",
    converged: "models that have learned their data: MLP 3x256, 20,000 steps at batch 256, lr " +
      "2e-3 decayed linearly to 2e-5, 500 samples per solver setting, 1 seed",
  },
  defaults: (budget) => ({
    train: budget === "converged" ? TOY2D_CONVERGED_TRAIN : TOY2D_TRAIN,
    eval: TOY2D_EVAL,
    data: TOY2D_DATA,
    solvers: SOLVER_SETTINGS,
    adaptiveSolver: "dopri5",
    seeds: 1,
  }),
  kind: "vector",
  load({ dataset, config: cfg, seed }) {
    const s = loadToy2d(dataset, cfg.data.nTrain, cfg.data.nTest, seed);
    return Promise.resolve(vectorSource(dataset, s.train, s.test, 2));
  },
  features: {
    raw: "the raw 2-D samples: each evaluation's generated points against as many held-out " +
      "test points (min(samples, test set)); the reference floor: two disjoint held-out halves",
  },
  async featureSource({ data, config: cfg }) {
    const d = data.shape.reduce((a, b) => a * b, 1);
    const n = Math.min(cfg.eval.samples, data.nTest);
    const ref = data.testSet(n);
    const refData = await ref.data() as Float32Array;
    ref.dispose();
    return {
      reference: { raw: { data: refData, dim: d, n } },
      unavailable: {},
      async extract(samples) {
        const got = await samples.data() as Float32Array;
        return { features: { raw: { data: got, dim: d, n: samples.shape[0] } }, failed: {} };
      },
      dispose() {},
    };
  },
  async referencePair(data, cfg) {
    const d = data.shape.reduce((a, b) => a * b, 1);
    const n = Math.min(cfg.eval.samples, Math.floor(data.nTest / 2));
    const all = data.testSet(2 * n);
    const v = await all.data() as Float32Array;
    all.dispose();
    return {
      generated: { raw: { data: v.subarray(0, n * d), dim: d, n } },
      reference: { raw: { data: v.subarray(n * d, 2 * n * d), dim: d, n } },
    };
  },
  referenceFigures({ data, config: cfg, seed }) {
    const out: Record<string, number> = {};
    // W2's noise: its spread between independent held-out draws of the evaluation's size (the
    // uncertainty of every W2 in the table; a delta-method error of the matched costs
    // underestimates it about 6x, bench/w2-calibration.ts).
    if (TOY2D[data.name]) {
      const n = cfg.eval.samples, pairs = W2_NOISE_PAIRS;
      const ws = Array.from({ length: pairs }, (_, k) =>
        w2(
          heldOutDraw(data.name, { n, seed, label: `w2-noise-a${k}` }),
          heldOutDraw(data.name, { n, seed, label: `w2-noise-b${k}` }),
          n,
          2,
        ));
      const mean = ws.reduce((a, b) => a + b, 0) / pairs;
      out.w2_std = Math.sqrt(ws.reduce((a, b) => a + (b - mean) ** 2, 0) / (pairs - 1));
      out.w2_noise_pairs = pairs;
    }
    // The best possible NLL: the data set's true entropy (nats), with its error bound.
    if (TOY2D_SHAPES[data.name]) {
      const e = toy2dEntropy(data.name);
      out.entropy = e.nats;
      out.entropy_stderr = e.stderr;
    }
    // The floor band of the high-resolution W2: pairs of independent held-out draws.
    const hr = cfg.eval.highRes;
    if (hr && hr.samples > 0 && hr.floorPairs >= 2) {
      const floor = sinkhornW2Floor(
        (n, k) => heldOutDraw(data.name, { n, seed, label: `floor-${k}` }),
        { n: hr.samples, pairs: hr.floorPairs },
      );
      out.sinkhorn_w2 = floor.mean;
      out.sinkhorn_w2_std = floor.sd;
      out.sinkhorn_w2_n = hr.samples;
      out.sinkhorn_w2_pairs = hr.floorPairs;
      out.sinkhorn_w2_blur = SINKHORN_BLUR;
    }
    return out;
  },
  highRes({ data, samples, seed }) {
    const n = samples.length / 2;
    return sinkhornW2(samples, heldOutDraw(data.name, { n, seed, label: "compare" }));
  },
  headline: { quality: "w2", nll: "nats" },
};
