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
import { dequantizedLogLikelihood } from "./metrics/dequant-nll.ts";
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

/** The reference for sampling errors: the given adaptive solver's tightest-tolerance setting. */
function referenceOf(
  jobs: Array<{ solver: Solver; setting: SolverSetting }>,
  solver: string | undefined,
): number {
  const tol = (s: SolverSetting, k: "rtol" | "atol") => s[k] ?? Infinity;
  let best = -1;
  jobs.forEach((j, i) => {
    if (j.solver.name !== solver || !j.solver.adaptive) return;
    const b = best >= 0 ? jobs[best].setting : undefined;
    if (
      !b || tol(j.setting, "rtol") < tol(b, "rtol") ||
      (tol(j.setting, "rtol") === tol(b, "rtol") && tol(j.setting, "atol") < tol(b, "atol"))
    ) best = i;
  });
  return best;
}

/** Mean squared distance per dimension between two sample batches of the same shape. */
async function meanSquaredDistance(a: Tensor, b: Tensor): Promise<number> {
  const m = tf.tidy(() => tf.mean(tf.squaredDifference(a, b)));
  const v = (await m.data())[0];
  m.dispose();
  return v;
}

/**
 * Sample with each solver setting and score the result. A failing setting is recorded with its
 * reason and the others go on. `keep` receives the samples of the first adaptive setting that
 * succeeds, and which solver, setting and NFE made them (the report labels the grid with it).
 * With `referenceSolver`, that adaptive solver's tightest setting runs first and every
 * fixed-step setting also gets its sampling error: the mean squared distance per dimension
 * between its samples and the reference's, from the same noise (Lipman et al.'s Fig. 7),
 * reusing the samples already drawn. Records come back in plan order.
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
  referenceSolver?: string,
): Promise<EvalRecord[]> {
  const x0 = sourceNoise(path, shape, n, subSeed(seed, "sample"));
  const jobs = plans.flatMap(({ solver, settings }) =>
    settings.map((setting) => ({ solver, setting }))
  );
  const refIdx = referenceOf(jobs, referenceSolver);
  const all = jobs.map((_, i) => i);
  const order = refIdx >= 0 ? [refIdx, ...all.filter((i) => i !== refIdx)] : all;
  const out: EvalRecord[] = new Array(jobs.length);
  let ref: Tensor | undefined;
  let refNote: string | undefined;
  let kept = false;
  try {
    for (const i of order) {
      const { solver, setting } = jobs[i];
      const counted = countNfe(vf);
      const start = performance.now();
      try {
        const { x } = await solver.integrate(counted.f, x0, solveOptions(path, setting));
        let keepX = false;
        try {
          const metrics = await quality.fn(x);
          if (keep && solver.adaptive && !kept) {
            await keep(x, { solver: solver.name, setting, nfe: counted.count() });
            kept = true;
          }
          const record: EvalRecord = {
            solver: solver.name,
            setting,
            status: "ok",
            nfe: counted.count(),
            metrics,
            notes: quality.notes,
            ...(quality.protocol ? { protocol: quality.protocol } : {}),
            seconds: (performance.now() - start) / 1000,
          };
          if (i === refIdx) {
            ref = x;
            keepX = true;
          } else if (!solver.adaptive && refIdx >= 0) {
            const reference = { solver: jobs[refIdx].solver.name, setting: jobs[refIdx].setting };
            record.sampleError = ref
              ? { mse: await meanSquaredDistance(x, ref), reference }
              : { reference, note: refNote ?? "no reference solution" };
          }
          out[i] = record;
        } finally {
          if (!keepX) x.dispose();
        }
      } catch (e) {
        if (i === refIdx) refNote = `the reference solve failed: ${firstLine(e)}`;
        out[i] = {
          solver: solver.name,
          setting,
          status: "failed",
          error: firstLine(e),
          nfe: counted.count(),
          metrics: {},
          seconds: (performance.now() - start) / 1000,
        };
      }
    }
  } finally {
    x0.dispose();
    ref?.dispose();
  }
  return out;
}

/** Test-set NLL with each configured divergence estimator, using the adaptive solver. */
export async function evaluateNll(
  vf: VelocityField,
  path: Path,
  data: DataSource,
  solver: Solver,
  cfg: EvalConfig["nll"],
  seed: number,
  bitsPerDim: boolean,
): Promise<NllRecord[]> {
  const out: NllRecord[] = [];
  const n = Math.min(cfg.n, data.nTest);
  const k = bitsPerDim ? cfg.dequant ?? 1 : 1;
  let x: Tensor;
  if (bitsPerDim) {
    // 8-bit data: likelihood of uniformly dequantised y = (x + u) / 128 - 1 (see bits-per-dim.ts),
    // K draws of u per image combined by log-mean-exp (dequant-nll.ts).
    if (!data.rawTest) throw new Error(`${data.name}: bits/dim needs the raw 8-bit test data`);
    x = data.rawTest(n);
  } else {
    x = data.testSet(n);
  }
  const dims = data.shape.reduce((a, b) => a * b, 1);
  const setting = { rtol: cfg.rtol, atol: cfg.atol };
  try {
    for (const estimator of cfg.estimators) {
      const start = performance.now();
      const opts = {
        solver,
        solveOpts: solveOptions(path, setting, true),
        sourceStd: path.sourceStd,
        divergence: estimator,
        probes: cfg.probes,
        noise: cfg.noise,
        seed: subSeed(seed, `nll-${estimator}`),
      };
      let record: Omit<NllRecord, "estimator" | "solver" | "setting" | "seconds">;
      if (bitsPerDim) {
        const r = await dequantizedLogLikelihood(vf, x, k, opts, subSeed(seed, "dequantize"));
        const single = summarizeNll(r.samples, { dims, bitsPerDim });
        record = {
          ...summarizeNll(r.logp, { dims, bitsPerDim }),
          // Mean over the integration batches (one per image-draw block), rounded: a count.
          nfe: Math.round(r.nfe),
          dequantSamples: k,
          ...(k > 1 ? { bpdSingleSample: single.bpd } : {}),
        };
      } else {
        const { logp, nfe } = await logLikelihood(vf, x, opts);
        record = { ...summarizeNll(logp, { dims, bitsPerDim }), nfe };
      }
      out.push({
        ...record,
        estimator,
        probes: estimator === "hutchinson" ? cfg.probes : undefined,
        noise: estimator === "hutchinson" ? cfg.noise : undefined,
        solver: solver.name,
        setting,
        seconds: (performance.now() - start) / 1000,
      });
    }
  } finally {
    x.dispose();
  }
  return out;
}
