// The plugin SDK: everything a path, coupling, loss, model, solver, time sampler or metric plugin
// imports, and nothing else.
/**
 * fmbench's plugin SDK. Built-in plugins under `plugins/` and plugins in an outside folder
 * (`--plugins DIR`) import only this module (or the repository's `mod.ts`, which re-exports it).
 *
 * @example An affine path needs only its schedule:
 * ```ts
 * import { definePath } from "./mod.ts";
 * export default definePath({
 *   name: "square-ot", family: "ot", description: "x_t = t^2 x1 + (1 - t^2) x0",
 *   schedule: { alpha: (t) => t * t, sigma: (t) => 1 - t * t, dAlpha: (t) => 2 * t, dSigma: (t) => -2 * t },
 * });
 * ```
 * @module
 */
export type * from "./types.ts";
export {
  defineCoupling,
  defineLoss,
  defineMetric,
  defineModel,
  definePath,
  defineSolver,
  defineTimeSampler,
  FEATURE_NAMES,
  type PathInput,
  PluginShapeError,
} from "./define.ts";
export {
  affineSample,
  ALPHA_FLOOR,
  coeff,
  dataFromVelocity,
  diffusionSquared,
  epsilonFromVelocity,
  epsilonGain,
  noiseFromVelocity,
  scoreFromEpsilon,
  scoreFromVelocity,
  velocityDeterminant,
  velocityFromEpsilon,
  velocityFromScore,
} from "./affine.ts";
export {
  importanceTimeSampler,
  type TimeSampler,
  type TimeSamplerOptions,
} from "./time-importance.ts";
export {
  describeParams,
  paramBounds,
  paramProblem,
  type RangedTimes,
  restrictToRange,
  uniformTimes,
} from "./time-distribution.ts";
export { erfc, logit, normalCdf, normalDensity, normalQuantile, sigmoid } from "./normal.ts";
export { normals, rng, subSeed } from "./rng.ts";
export { type Scalar, type Tensor, type Tensor1D, tf } from "./tf.ts";
export {
  groupNorm,
  groupNormComposite,
  type GroupNormOptions,
  hasFusedGroupNorm,
} from "./ops/group-norm.ts";
export { hasFusedSilu, silu, siluComposite } from "./ops/silu.ts";
export { SolverError } from "./solve/errors.ts";
export {
  assertFinite,
  combine,
  fixedStepSolver,
  type FixedStepSolverInput,
  integrateFixed,
  resolveGrid,
  rkStages,
  rkStep,
  type Tableau,
} from "./solve/fixed-step.ts";
export {
  type AdaptiveOptions,
  adaptiveSolver,
  type AdaptiveSolverInput,
  type StepEvent,
} from "./solve/adaptive-rk.ts";
export type { EmbeddedTableau } from "./solve/embedded-step.ts";
export type { StartInput } from "./solve/start-step.ts";
export type { StepController, StepRule } from "./solve/controllers/controller.ts";
export { hairer, type HairerOptions } from "./solve/controllers/hairer.ts";
export {
  torchdiffeq,
  torchdiffeqNextStep,
  type TorchdiffeqOptions,
  type TorchdiffeqRule,
} from "./solve/controllers/torchdiffeq.ts";
export {
  EDM_RHO,
  GRID_KINDS,
  type GridKind,
  isGridKind,
  isNoiseGridKind,
  NOISE_GRID_KINDS,
  type NoiseGridKind,
  timeGrid,
} from "./solve/time-grid.ts";
export {
  EDM_SIGMA,
  type GridPoint,
  gridPoint,
  type SamplingGrid,
  samplingGrid,
  type SamplingGridOptions,
  timeAtLevel,
} from "./solve/noise-levels.ts";
export {
  affineSampler,
  type AffineSamplerInput,
  commonParams,
  linearCombination,
  type SamplerContext,
  samplerContext,
  type SamplerParam,
} from "./solve/affine-sampler.ts";
export { type CountedField, countNfe } from "./solve/nfe.ts";
export {
  type Assignment,
  type AssignmentOptions,
  type AssignmentWithDuals,
  solveAssignment,
  solveAssignmentWithDuals,
} from "./ot/assignment.ts";
export { samplePairs, sinkhorn, type SinkhornOptions, type SinkhornResult } from "./ot/sinkhorn.ts";
export { sqdist, sqdistTensor } from "./ot/sqdist.ts";
