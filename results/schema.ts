// The versioned results.json schema: a run manifest, the plugin inventory and one record per
// trained (dataset, method, model) with its evaluations. Every report figure traces to this file.

import type { GridKind } from "../core/solve/time-grid.ts";

/**
 * The schema tag every results.json carries in its `schema` field; a file with another tag is
 * refused.
 * @example
 * results.schema === RESULTS_SCHEMA; // true for a file this version reads ("fmbench/results@1")
 */
export const RESULTS_SCHEMA = "fmbench/results@1";

/**
 * One solver setting: a fixed-step solver's step count (and time grid, "uniform" by default),
 * or an adaptive solver's tolerances. The members of the other kind are absent.
 * @example
 * const settings: SolverSetting[] = [{ steps: 8 }, { steps: 8, grid: "edm" }, { rtol: 1e-5, atol: 1e-5 }];
 */
export type SolverSetting =
  | { steps: number; grid?: GridKind; rtol?: undefined; atol?: undefined }
  | { rtol: number; atol: number; steps?: undefined; grid?: undefined };

export interface RunManifest {
  commit: string;
  dirty: boolean;
  versions: { fmbench: string; deno: string; v8: string; typescript: string; tfjs: string };
  backend: string;
  device: string;
  /** webgpu: the adapter (vendor, architecture, device, description, software fallback or not). */
  adapter?: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallback: boolean;
  };
  /** CPU backends (wasm, cpu): the threads the backend really computes on. */
  threads?: number;
  backendNotes: string[];
  os: string;
  seed: number;
  /** The full resolved suite configuration (what configHash hashes). */
  config: Record<string, unknown>;
  configHash: string;
  startedAt: string;
  finishedAt?: string;
  wallSeconds?: number;
  /** Command line that produced the run. */
  argv: string[];
}

export interface PluginEntry {
  kind: string;
  name: string;
  family?: string;
  description: string;
  file: string;
}

export interface PluginFailure {
  kind: string;
  file: string;
  reason: string;
}

export interface MethodEntry {
  label: string;
  path: string;
  coupling: string;
  loss: string;
  /** For reflow: the label of the method whose model makes the pairs. */
  teacher?: string;
  family: string;
}

/**
 * How the feature-based metrics (FID, KID) of an evaluation were made: what a reader needs to
 * compare them with other numbers. Optional: absent on W2 evaluations and in older files.
 * @example
 * const p: FeatureMetricProtocol = {
 *   network: "pytorch-fid InceptionV3 pool3 (2048-d)",
 *   weights: { file: "pt_inception-2015-12-05-6726825d.pth", sha256: "6726825d...", published: true },
 *   reference: { dataset: "cifar10", split: "train", n: 50000, kidFeatures: 10000 },
 *   generated: 5000,
 *   preprocessing: "[-1, 1] -> [0, 1], clipped, rounded to 8 bits; bilinear resize to 299x299",
 *   kid: { subsets: 100, subsetSize: 1000, kernel: "(x.y/d + 1)^3", estimator: "unbiased MMD^2" },
 * };
 */
export interface FeatureMetricProtocol {
  /** The feature network. */
  network: string;
  /** The weights file: its name, the SHA-256 of its bytes, of its tensors, and whether it is
   * the published file (its SHA-256 is pytorch-fid's). */
  weights: { file: string; sha256: string; contentSha256?: string; published?: boolean };
  /** The real images: data set, split, how many make the FID statistics, how many KID uses. */
  reference: { dataset: string; split: string; n: number; kidFeatures?: number };
  /** Generated samples per evaluation (made by the record's solver and setting, at its NFE). */
  generated: number;
  /** How samples become network inputs. */
  preprocessing: string;
  /** KID's settings, when KID was computed. */
  kid?: { subsets: number; subsetSize: number; kernel: string; estimator: string };
}

/** One solver setting's sampling evaluation of a trained model. */
export interface EvalRecord {
  solver: string;
  /** e.g. { steps: 8 } or { rtol: 1e-5, atol: 1e-5 } or { steps: 8, grid: "edm" } */
  setting: SolverSetting;
  status: "ok" | "failed";
  error?: string;
  /** Velocity evaluations per sample path, counted by the harness. */
  nfe: number;
  /** e.g. { w2: 0.12 } (toy2d) or { fid: 35.1, kid: 0.031, kid_std: 0.002 } (images); a value that could not be computed is absent, with a reason in notes. */
  metrics: Record<string, number>;
  notes?: Record<string, string>;
  /** How FID/KID were computed (images only). */
  protocol?: FeatureMetricProtocol;
  seconds: number;
  /**
   * Fixed-step solvers: the mean squared distance per dimension between these samples and the
   * reference solution from the same noise (the adaptive solver at its tightest tolerance), or
   * the reason it could not be computed.
   */
  sampleError?: {
    /** Absent when the reference solve failed; `note` says why. */
    mse?: number;
    reference: { solver: string; setting: SolverSetting };
    note?: string;
  };
}

/** The evaluation whose samples a run keeps for the report: solver, setting and its NFE. */
export interface SampleSource {
  solver: string;
  setting: SolverSetting;
  nfe: number;
}

export interface NllRecord {
  /** Mean negative log-likelihood in nats per data point (toy2d) or per image. */
  nats: number;
  /** bits/dim for 8-bit images (dequantised); absent for continuous data. */
  bpd?: number;
  /** Standard error of the mean of the reported unit (bpd for images, nats otherwise). */
  stderr: number;
  n: number;
  estimator: "exact" | "hutchinson";
  probes?: number;
  noise?: "rademacher" | "gaussian";
  solver: string;
  setting: SolverSetting;
  /** Velocity evaluations per trajectory (divergence VJPs not included). */
  nfe: number;
  seconds: number;
  /**
   * bits/dim only: uniform dequantisation samples K per image behind `bpd`, combined as
   * log (1/K) sum_k p(x + u_k) (importance-weighted). Absent in older files: K = 1.
   */
  dequantSamples?: number;
  /** bits/dim with K > 1: the mean single-sample (K = 1) bits/dim over the same draws (>= bpd). */
  bpdSingleSample?: number;
}

export interface TrainRecord {
  steps: number;
  batch: number;
  /** Training seconds, summed over every session when training resumed from a checkpoint. */
  seconds: number;
  /** Steps at which training resumed from a checkpoint after an interruption (absent: none). */
  resumedFrom?: number[];
  /** [step, loss] pairs, thinned. */
  lossCurve: Array<[number, number]>;
  finalLoss: number;
}

export interface RunRecord {
  id: string;
  /** Hash of everything that determines this run; a resumed run is reused only if it matches. */
  configHash?: string;
  dataset: string;
  method: string;
  model: string;
  preset: string;
  /** The run's seed (absent in files written before seeds: the manifest's seed). */
  seed?: number;
  paramCount: number;
  /**
   * "ok": complete. "partial": interrupted; what is present is final (train once trained, the
   * solver settings and NLL estimators evaluated so far) and a resumed run adds only the rest.
   * "failed": see error.
   */
  status: "ok" | "failed" | "partial";
  error?: string;
  /** fmbench sessions that worked on this record when it took more than one (resumes + 1). */
  sessions?: number;
  train?: TrainRecord;
  evals: EvalRecord[];
  nll: NllRecord[];
  /**
   * Liu et al.'s straightness (lower is straighter), measured along uniform explicit-Euler
   * trajectories of `eval.straightnessSteps` steps (the run's config) from seeded source noise.
   */
  straightness?: number;
  /** Where derived inputs came from, e.g. reflow pairs: teacher, solver, seed, count, file. */
  provenance?: Record<string, unknown>;
  /**
   * Small sample of generated data: 2-D points, or data-URI PNG grids for images, and which
   * evaluation made them (`from`; absent in files written before it was recorded).
   */
  samples?: {
    points?: number[][];
    trajectories?: number[][][];
    image?: string;
    from?: SampleSource;
  };
  /** A finer score of more samples of the headline setting (see HighResRecord); toy2d only. */
  highRes?: HighResRecord;
}

export interface ResultsFile {
  schema: typeof RESULTS_SCHEMA;
  suite: string;
  shard?: { index: number; count: number };
  manifest: RunManifest;
  plugins: { loaded: PluginEntry[]; failures: PluginFailure[] };
  methods: MethodEntry[];
  /** Column conventions for the report: which metric is quality, which solver is "adaptive". */
  headline: { quality: "w2" | "fid"; nll: "nats" | "bpd"; adaptiveSolver: string };
  runs: RunRecord[];
  /**
   * Per data set, the quality metric between two disjoint held-out samples of the evaluation
   * size: what a perfect model would score (the finite-sample floor of W2), e.g. { w2: 0.21 }.
   */
  references?: Record<string, Record<string, number>>;
  /** The budget the run used; `smoke` marks a budget whose numbers are not meaningful. */
  budget?: { name: string; description: string; smoke: boolean };
}

// ---- High-resolution sample score (toy2d, issue 27): new optional fields, nothing else changed.

/**
 * A finer score of one run's model: `n` samples (more than the per-setting `eval.samples`) drawn
 * with the headline setting (the adaptive solver at its tightest tolerance), scored by the suite.
 * toy2d: the debiased Sinkhorn W2 against `n` fresh held-out points, metrics `sinkhorn_w2`
 * (distance units), `sinkhorn_w2_se` (standard error, both draws), `sinkhorn_w2_se_model` (the
 * samples' draw alone), `sinkhorn_divergence` (S_eps, squared units), `blur`, `converged` (1/0).
 * Its floor band is in `references[dataset]`: `sinkhorn_w2` (mean) and `sinkhorn_w2_sd`.
 * @example
 * const h: HighResRecord = {
 *   n: 5000, solver: "dopri5", setting: { rtol: 1e-5, atol: 1e-5 }, nfe: 86, status: "ok",
 *   metrics: { sinkhorn_w2: 0.2254, sinkhorn_w2_se: 0.0156, sinkhorn_w2_se_model: 0.011 },
 *   seconds: 7.9,
 * };
 */
export interface HighResRecord {
  n: number;
  solver: string;
  setting: SolverSetting;
  /** Velocity evaluations per sample path. */
  nfe: number;
  status: "ok" | "failed";
  error?: string;
  metrics: Record<string, number>;
  /** Sampling and scoring seconds. */
  seconds: number;
}
