// The toy2d suite's defaults: 2-D data sets, the MLP, every solver at 1..100 NFE, exact metrics.
import type { EvalConfig, SolverSetting } from "./types.ts";
import type { TrainConfig } from "../train.ts";

export const TOY2D_DATASETS = ["moons", "8gaussians", "checkerboard"];

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
};

export const TOY2D_DATA = { nTrain: 20000, nTest: 2000 };

/** Default settings per solver: NFE from 1 (or the solver's minimum) up to about 100. */
export const SOLVER_SETTINGS: Record<string, SolverSetting[]> = {
  euler: [
    ...[1, 2, 4, 8, 16, 32, 100].map((steps): SolverSetting => ({ steps })),
    { steps: 8, grid: "edm" },
  ],
  midpoint: [1, 2, 4, 8, 16, 50].map((steps) => ({ steps })),
  heun: [1, 2, 4, 8, 16, 50].map((steps) => ({ steps })),
  rk4: [1, 2, 4, 8, 25].map((steps) => ({ steps })),
  dopri5: [{ rtol: 1e-5, atol: 1e-5 }, { rtol: 1e-3, atol: 1e-3 }],
};

/** Settings for a solver the suite has no defaults for (a user plugin). */
export function defaultSettings(adaptive: boolean): SolverSetting[] {
  return adaptive ? [{ rtol: 1e-5, atol: 1e-5 }] : [1, 2, 4, 8, 16, 32].map((steps) => ({ steps }));
}
