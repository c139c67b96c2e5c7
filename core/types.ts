// The plugin contracts (paths, couplings, losses, models, solvers, time samplers, metrics) and the
// values they share.
import type { GridKind, NoiseGridKind } from "./solve/time-grid.ts";
import type { Scalar, Tensor, Tensor1D } from "./tf.ts";

/** What solvers integrate: dx/dt = f(x, t). Returns a new tensor the caller owns. */
export type VelocityField = (x: Tensor, t: number) => Tensor;

/** An affine path x_t = alpha(t) x1 + sigma(t) x0, with time derivatives. */
export interface Schedule {
  alpha(t: number): number;
  sigma(t: number): number;
  dAlpha(t: number): number;
  dSigma(t: number): number;
}

/** The sample of a path at times t for paired source x0 and data x1. */
export interface PathSample {
  xt: Tensor;
  ut: Tensor;
}

/** A probability path from the source (t = 0) to the data (t = 1). */
export interface Path {
  name: string;
  family: "diffusion" | "ot" | "rectified" | string;
  description: string;
  /** Standard deviation of the isotropic Gaussian source N(0, std^2 I). */
  sourceStd: number;
  /** Present for affine paths: everything else can be derived from it. */
  schedule?: Schedule;
  /**
   * Times used for training, sampling and likelihood; [0, 1] unless the path is singular at an
   * end (the VP path stops at 1 - 1e-5, as in Lipman et al.).
   */
  tRange: [number, number];
  /** x_t and the conditional velocity u_t(x_t | x0, x1) at per-example times t. */
  sample(x0: Tensor, x1: Tensor, t: Tensor1D): PathSample;
}

/** Everything a coupling may use besides the two batches. */
export interface CouplingContext {
  /** Seed for this batch (deterministic per step). */
  seed: number;
  /** Present for couplings that need an earlier method's model (reflow). */
  teacher?: Teacher;
}

/** An earlier trained method that a coupling (reflow) may draw pairs from. */
export interface Teacher {
  method: string;
  /** Pairs (x0, Phi(x0)) generated once per run and cached; index into them per batch. */
  pairs(n: number, seed: number): Promise<[Tensor, Tensor]>;
}

/** How source and data samples are paired in a batch. */
export interface Coupling {
  name: string;
  description: string;
  /** If set, this coupling needs a teacher method (its label given by the suite). */
  needsTeacher?: boolean;
  pair(x0: Tensor, x1: Tensor, ctx: CouplingContext): Promise<[Tensor, Tensor]>;
}

/** A trainable network: inputs x of the data shape (with batch) and per-example times. */
export interface Model {
  apply(x: Tensor, t: Tensor1D, training?: boolean): Tensor;
  /** Trainable variables in a stable order. */
  variables(): import("./tf.ts").tf.Variable[];
  paramCount(): number;
  dispose(): void;
  /**
   * Present on models whose parameters mirror a published implementation's state dict (e.g.
   * adm-unet: TorchCFM's UNetModelWrapper): sets every variable from `tensors`, keyed by that
   * implementation's names and in its layout. Throws, assigning nothing, on any missing,
   * unexpected or mis-shaped key.
   */
  loadStateDict?(tensors: Map<string, StateDictTensor>): void;
}

/** A tensor of a foreign state dict: its shape and row-major float32 values (e.g. PyTorch's). */
export interface StateDictTensor {
  shape: number[];
  data: Float32Array;
}

export interface ModelSpec {
  /** Shape of one data point, e.g. [2] or [32, 32, 3]. */
  shape: number[];
  preset: string;
  seed: number;
}

export interface ModelPlugin {
  name: string;
  description: string;
  /** Data kinds the model accepts. */
  accepts: Array<"vector" | "image">;
  presets: Record<string, Record<string, unknown>>;
  defaultPreset: string;
  /** Whether training needs convolution gradients (routes backend choice). */
  usesConvolution: boolean;
  /**
   * Never a suite's default model: used only when named (--models adm-unet:torchcfm). For
   * published architectures whose size or recipe a default run should not inherit.
   */
  onlyWhenNamed?: boolean;
  create(spec: ModelSpec): Model;
}

/** The batch a loss sees: paired samples and times. */
export interface LossBatch {
  x0: Tensor;
  x1: Tensor;
  t: Tensor1D;
}

/** What the network predicts, how to train it, and how its output becomes a velocity. */
export interface Loss {
  name: string;
  description: string;
  predicts: "velocity" | "epsilon" | string;
  loss(model: Model, path: Path, batch: LossBatch): Scalar;
  velocity(model: Model, path: Path): VelocityField;
}

export interface SolveOptions {
  t0: number;
  t1: number;
  /** Fixed-step solvers: number of steps (ignored when grid is given). */
  steps?: number;
  /** Fixed-step solvers: explicit increasing or decreasing time grid from t0 to t1. */
  grid?: number[];
  /**
   * Fixed-step solvers: the kind of grid built from `steps` ("uniform" default, "edm"); the
   * affine-path samplers take "uniform", "logsnr" or "karras" (core/solve/noise-levels.ts).
   */
  gridKind?: GridKind | NoiseGridKind;
  /** Fixed-step solvers: exponent of the "edm" grid (default 7). */
  rho?: number;
  rtol?: number;
  atol?: number;
  /** Adaptive solvers: abort after this many accepted+rejected steps. */
  maxSteps?: number;
  /**
   * The path's affine schedule, for samplers that turn the velocity into a data or noise
   * prediction (absent for a path without one: such samplers refuse it).
   */
  schedule?: Schedule;
  /** Standard deviation of the path's source N(0, std^2 I) (default 1). */
  sourceStd?: number;
  /** Seed of a stochastic sampler's noise (the harness derives one per solve). */
  seed?: number;
  /** A setting's solver-specific numbers beyond steps/grid/rtol/atol, e.g. { churn: 40 }. */
  params?: Readonly<Record<string, number>>;
}

export interface SolveResult {
  x: Tensor;
  /** Steps taken (accepted, rejected); informational, NFE is counted by the harness. */
  stats?: { accepted?: number; rejected?: number };
}

/** An ODE solver for dx/dt = f(x, t) on tensors of any shape. */
export interface Solver {
  name: string;
  description: string;
  order: number;
  adaptive: boolean;
  /** Velocity evaluations per step for fixed-step solvers (euler 1, midpoint 2, rk4 4). */
  evalsPerStep?: number;
  integrate(f: VelocityField, x0: Tensor, opts: SolveOptions): Promise<SolveResult>;
}

/**
 * A distribution of the training time t on (0, 1) (fmbench's time: source at 0, data at 1),
 * given by its increasing quantile function, its CDF and its density. The trainer restricts it to
 * the path's time range and draws t = quantile(u) from one uniform u per example.
 */
export interface TimeDistribution {
  /** The time for a probability u in [0, 1]: increasing, the inverse of cdf. */
  quantile(u: number): number;
  /** P(T <= t). */
  cdf(t: number): number;
  /** The density of T at t. */
  density(t: number): number;
  /** The times T can take (default [0, 1]). */
  support?: [number, number];
}

/** A named number a time sampler takes: its default, its bounds and what it means. */
export interface TimeSamplerParam {
  default: number;
  /** Smallest accepted value (inclusive). */
  min?: number;
  /** Largest accepted value (inclusive). */
  max?: number;
  /** Exclusive lower bound (e.g. a scale must be > 0). */
  above?: number;
  /** Exclusive upper bound. */
  below?: number;
  description: string;
}

/**
 * How training draws t (uniform unless a method names another): a distribution with named
 * parameters, bound to the method's path. Any density other than the uniform one reweights the
 * training objective by that density relative to uniform t.
 */
export interface TimeSamplerPlugin {
  name: string;
  description: string;
  /** Named parameters with defaults (a method may set them: logit-normal:scale=0.5). */
  params: Record<string, TimeSamplerParam>;
  /**
   * The distribution for this path and these parameters (every parameter present, checked
   * against its bounds). Throws with the reason where the path cannot be used (e.g. EDM's noise
   * levels need the path's schedule).
   */
  prepare(input: { path: Path; params: Readonly<Record<string, number>> }): TimeDistribution;
}

/**
 * The features a metric can read: the raw samples (2-D data, no network) or a feature network's
 * output (Inception-v3 pool3 2048-d, its 1008-way logits, DINOv2 ViT-L/14's class token 1024-d).
 * A suite says which it can give (toy2d: raw; cifar10: the three networks).
 */
export type FeatureName = "raw" | "inception-pool3" | "inception-logits" | "dinov2-cls";

/** Float64 mean and unbiased (N - 1) covariance of feature rows (row-major dim x dim). */
export interface FeatureMoments {
  dim: number;
  n: number;
  mu: Float64Array;
  sigma: Float64Array;
}

/**
 * One set of features: `n` row-major float32 rows of `dim` values. A network's features also
 * carry the float64 moments of every row streamed through it (for the reference side these may
 * describe more images than the rows kept: e.g. FID's 50,000 against KID's first 10,000).
 */
export interface MetricFeatures {
  data: Float32Array;
  dim: number;
  n: number;
  moments?: FeatureMoments;
}

/** A KID estimate: mean and population std of the unbiased MMD^2 over random subsets. */
export interface KidEstimate {
  mean: number;
  std: number;
  subsets: number;
  subsetSize: number;
}

/**
 * The statistics a metric plugin computes with, supplied by the engine (float64 where it
 * matters, blocked products on the tfjs backend), so a plugin needs nothing outside core/mod.ts.
 */
export interface MetricStats {
  /** Float64 mean and covariance of rows (what `moments` holds for network features). */
  moments(x: MetricFeatures): FeatureMoments;
  /**
   * Fréchet distance |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^1/2) in float64 (pytorch-fid's
   * definition; the square root by a pivoted Cholesky of S_a, whose factor is reused when `a` is
   * the cached reference).
   */
  frechet(a: FeatureMoments, b: FeatureMoments): number;
  /** KID: unbiased MMD^2 with the kernel (x.y/d + 1)^3 over `subsets` random subsets. */
  kid(
    generated: MetricFeatures,
    reference: MetricFeatures,
    opts: { subsets: number; subsetSize: number; seed: number },
  ): Promise<KidEstimate>;
  /** Improved precision and recall (Kynkäänniemi et al. 2019): k-NN balls, distance <= radius. */
  precisionRecall(
    generated: MetricFeatures,
    reference: MetricFeatures,
    opts: { k: number },
  ): Promise<{ precision: number; recall: number }>;
  /** Density and coverage (Naeem et al. 2020): k-NN balls, distance < radius. */
  densityCoverage(
    generated: MetricFeatures,
    reference: MetricFeatures,
    opts: { k: number },
  ): Promise<{ density: number; coverage: number }>;
  /** Inception Score of logit rows: softmax, seeded shuffle, `splits` chunks, exp(mean KL). */
  inceptionScore(logits: MetricFeatures, opts: { splits: number }): { mean: number; std: number };
  /** Exact 2-Wasserstein distance between the first min(n_a, n_b) rows of each (uniform weights). */
  w2(a: MetricFeatures, b: MetricFeatures): number;
}

/** What a metric's compute() gets: one feature set of the generated and of the real data. */
export interface MetricContext {
  /** Which of the metric's `features` the suite gave (the first of them it offers). */
  feature: FeatureName;
  /** Features of the generated samples. */
  generated: MetricFeatures;
  /** Features of the real data they are compared with (absent when `reference` is false). */
  reference?: MetricFeatures;
  /** The run's seed, for metrics that draw (KID's subsets). */
  seed: number;
  stats: MetricStats;
}

/** One figure a metric reports: its direction, its column title and what it is. */
export interface MetricValue {
  /** Which way is better. */
  direction: "lower" | "higher";
  /** Column title, e.g. "Precision". */
  title: string;
  description: string;
  /** The name of a companion figure that is this one's spread (e.g. "kid_std"), shown as ±. */
  spread?: string;
}

/**
 * A sample-quality metric: the features it reads, the figures it reports (each with its
 * direction), the fields of its protocol, and how it computes them. Figures are keyed by name in
 * each evaluation's `metrics` ("fid", "precision", ...); a throw or a non-finite figure makes
 * that figure n/a with the reason, never the run.
 */
export interface MetricPlugin {
  name: string;
  description: string;
  /**
   * The feature sets it can work on, in order of preference: it gets the first one the suite
   * offers (precision/recall: Inception pool3 on images, the raw samples on 2-D data). Each
   * network runs once per sample set, however many metrics read it.
   */
  features: FeatureName[];
  /** The figures it reports, by name (what compute returns, plus any spreads they name). */
  values: Record<string, MetricValue>;
  /** How it is computed, for the report (k, splits, rule, reference implementation...). */
  protocol: Record<string, string | number | boolean>;
  /** False when it needs no reference features (the Inception Score); default true. */
  reference?: boolean;
  /** Never a default metric: computed only when --metrics names it (costly networks). */
  onlyWhenNamed?: boolean;
  compute(ctx: MetricContext): Promise<Record<string, number>> | Record<string, number>;
}

export type PluginKind =
  | "paths"
  | "couplings"
  | "losses"
  | "models"
  | "solvers"
  | "time-samplers"
  | "metrics";
export type AnyPlugin =
  | Path
  | Coupling
  | Loss
  | ModelPlugin
  | Solver
  | TimeSamplerPlugin
  | MetricPlugin;
