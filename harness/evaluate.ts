// Evaluate one trained model: sample with every solver setting (NFE counted by the harness),
// score the samples, measure NLL and straightness, and keep a few points for the report.
import {
  countNfe,
  type Path,
  type SolveOptions,
  type Solver,
  subSeed,
  type Tensor,
  tf,
  type VelocityField,
} from "../core/mod.ts";
import type {
  EvalRecord,
  FeatureMetricProtocol,
  NllRecord,
  SampleSource,
} from "../results/schema.ts";
import type { DataSource } from "./data/source.ts";
import { firstLine } from "./error-message.ts";
import { dequantize } from "./metrics/bits-per-dim.ts";
import { logLikelihood, summarizeNll } from "./metrics/nll.ts";
import { sourceNoise } from "./source-noise.ts";
import type { EvalConfig, SolverSetting } from "./suites/types.ts";

/** Scores generated samples against held-out data, e.g. { w2 } or { fid }. */
export type QualityFn = (samples: Tensor) => Promise<Record<string, number>>;

/** A suite's scorer; `notes` say why a metric is n/a (e.g. FID without Inception weights). */
export interface Quality {
  fn: QualityFn;
  notes?: Record<string, string>;
  /** How the metrics are computed (FID/KID), copied into every evaluation record. */
  protocol?: FeatureMetricProtocol;
  dispose(): void;
}

export interface SamplingPlan {
  solver: Solver;
  settings: SolverSetting[];
}

/**
 * Solve options for a suite setting on a path's time range (backward: from data to source).
 * @example
 * solveOptions(path, { steps: 8, grid: "edm" }); // { t0: 0, t1: 1, steps: 8, gridKind: "edm", ... }
 */
export function solveOptions(path: Path, s: SolverSetting, backward = false): SolveOptions {
  const [a, b] = path.tRange;
  return {
    t0: backward ? b : a,
    t1: backward ? a : b,
    steps: s.steps,
    gridKind: s.grid,
    rtol: s.rtol,
    atol: s.atol,
  };
}

/**
 * Solve from x0 in batches of `batch` examples (all at once when absent) and concatenate the
 * results. Returns the mean number of field evaluations per batch (the NFE of one trajectory
 * batch; for fixed-step solvers the same for every batch).
 * @example
 * const { x, nfe } = await solveInBatches(euler, vf, x0, { t0: 0, t1: 1, steps: 8 }, 256);
 */
export async function solveInBatches(
  solver: Solver,
  vf: VelocityField,
  x0: Tensor,
  opts: SolveOptions,
  batch?: number,
): Promise<{ x: Tensor; nfe: number }> {
  const n = x0.shape[0];
  const bs = batch && batch < n ? batch : n;
  const parts: Tensor[] = [];
  let nfe = 0, count = 0;
  try {
    for (let start = 0; start < n; start += bs) {
      const m = Math.min(bs, n - start);
      const xi = bs === n ? x0 : x0.slice(start, m);
      const counted = countNfe(vf);
      try {
        parts.push((await solver.integrate(counted.f, xi, opts)).x);
      } finally {
        if (xi !== x0) xi.dispose();
      }
      nfe += counted.count();
      count++;
    }
    const x = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    return { x, nfe: nfe / count };
  } finally {
    if (parts.length > 1) tf.dispose(parts);
  }
}

/**
 * Sample with each solver setting (in batches of `opts.batch`) and score the result. A failing
 * setting is recorded with its reason and the others go on. `keep` receives the samples of the
 * first adaptive setting that succeeds, and which solver, setting and NFE made them (the report
 * labels the grid with it). NFE is per trajectory batch (the mean over batches).
 */
export async function evaluateSampling(
  vf: VelocityField,
  path: Path,
  shape: number[],
  plans: SamplingPlan[],
  n: number,
  seed: number,
  quality: Quality,
  keep?: (samples: Tensor, from: SampleSource) => Promise<void>,
  opts: { batch?: number } = {},
): Promise<EvalRecord[]> {
  const x0 = sourceNoise(path, shape, n, subSeed(seed, "sample"));
  const out: EvalRecord[] = [];
  let kept = false;
  try {
    for (const { solver, settings } of plans) {
      for (const setting of settings) {
        const counted = countNfe(vf);
        const start = performance.now();
        try {
          const { x, nfe } = await solveInBatches(
            solver,
            counted.f,
            x0,
            solveOptions(path, setting),
            opts.batch,
          );
          try {
            const metrics = await quality.fn(x);
            if (keep && solver.adaptive && !kept) {
              await keep(x, { solver: solver.name, setting, nfe });
              kept = true;
            }
            out.push({
              solver: solver.name,
              setting,
              status: "ok",
              nfe,
              metrics,
              notes: quality.notes,
              ...(quality.protocol ? { protocol: quality.protocol } : {}),
              seconds: (performance.now() - start) / 1000,
            });
          } finally {
            x.dispose();
          }
        } catch (e) {
          out.push({
            solver: solver.name,
            setting,
            status: "failed",
            error: firstLine(e),
            nfe: counted.count(), // every evaluation until the failure
            metrics: {},
            seconds: (performance.now() - start) / 1000,
          });
        }
      }
    }
  } finally {
    x0.dispose();
  }
  return out;
}

/**
 * Test-set NLL with each configured divergence estimator, using the adaptive solver, in batches
 * of `batch` examples (all at once when absent).
 */
export async function evaluateNll(
  vf: VelocityField,
  path: Path,
  data: DataSource,
  solver: Solver,
  cfg: EvalConfig["nll"],
  seed: number,
  bitsPerDim: boolean,
  batch?: number,
): Promise<NllRecord[]> {
  const out: NllRecord[] = [];
  const n = Math.min(cfg.n, data.nTest);
  let x1: Tensor;
  if (bitsPerDim) {
    // 8-bit data: likelihood of uniformly dequantised y = (x + u) / 128 - 1 (see bits-per-dim.ts).
    if (!data.rawTest) throw new Error(`${data.name}: bits/dim needs the raw 8-bit test data`);
    const raw = data.rawTest(n);
    x1 = await dequantize(raw, subSeed(seed, "dequantize"));
    raw.dispose();
  } else {
    x1 = data.testSet(n);
  }
  const dims = data.shape.reduce((a, b) => a * b, 1);
  const setting = { rtol: cfg.rtol, atol: cfg.atol };
  try {
    for (const estimator of cfg.estimators) {
      const start = performance.now();
      const { logp, nfe } = await logLikelihood(vf, x1, {
        solver,
        solveOpts: solveOptions(path, setting, true),
        sourceStd: path.sourceStd,
        divergence: estimator,
        probes: cfg.probes,
        noise: cfg.noise,
        seed: subSeed(seed, `nll-${estimator}`),
        batchSize: batch,
      });
      const s = summarizeNll(logp, { dims, bitsPerDim });
      out.push({
        ...s,
        estimator,
        probes: estimator === "hutchinson" ? cfg.probes : undefined,
        noise: estimator === "hutchinson" ? cfg.noise : undefined,
        solver: solver.name,
        setting,
        nfe,
        seconds: (performance.now() - start) / 1000,
      });
    }
  } finally {
    x1.dispose();
  }
  return out;
}
