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
import { stableJson } from "../results/io.ts";
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
import { isCancelled, stoppable, type StopRequest, throwIfStopped } from "./stop.ts";
import type { EvalConfig, SolverSetting } from "./suites/types.ts";
import { phase } from "./trace.ts";

/**
 * Scores generated samples against held-out data, e.g. { w2 } or { fid }; a long scorer checks
 * `stop` between its batches (throwIfStopped).
 */
export type QualityFn = (samples: Tensor, stop?: StopRequest) => Promise<Record<string, number>>;

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

/** What evaluateSampling and evaluateNll resume from and report to. */
export interface ResumableOptions<R> {
  /** Records already made (by an interrupted session): their settings are not evaluated again. */
  done?: R[];
  /** Called with all records so far after each new one, e.g. to persist them at once. */
  onRecord?: (records: R[]) => Promise<void>;
  /** Checked at every velocity evaluation; a stop throws Cancelled and records nothing. */
  stop?: StopRequest;
  /** The run's id in phase markers (harness/trace.ts). */
  traceId?: string;
}

/**
 * Whether two evaluations are of the same solver setting.
 * @example
 * sameSetting({ solver: "euler", setting: { steps: 8 } }, { solver: "euler", setting: { steps: 8 } }); // true
 */
export function sameSetting(
  a: { solver: string; setting: SolverSetting },
  b: { solver: string; setting: SolverSetting },
): boolean {
  return a.solver === b.solver && stableJson(a.setting) === stableJson(b.setting);
}

/** A setting as the phase markers and logs write it: "steps=8", "steps=8 grid=edm", "rtol=0.001". */
function settingText(s: SolverSetting): string {
  return Object.entries(s).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`)
    .join(" ");
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
 * Sample with each solver setting (in plan order) and score the result. A failing setting is
 * recorded with its reason and the others go on; settings in `done` are kept, not re-run (every
 * setting samples from the same seeded source noise, so the records equal an uninterrupted run's).
 * `keep` receives the samples of the first adaptive setting that succeeds, and which solver,
 * setting and NFE made them (the report labels the grid with it). Solves run in batches of
 * `opts.batch` examples (all at once when absent); NFE is then the mean per batch.
 * @example
 * const evals = await evaluateSampling(vf, path, [2], plans, 500, seed, quality, { onRecord: save });
 */
export async function evaluateSampling(
  vf: VelocityField,
  path: Path,
  shape: number[],
  plans: SamplingPlan[],
  n: number,
  seed: number,
  quality: Quality,
  opts: ResumableOptions<EvalRecord> & {
    keep?: (samples: Tensor, from: SampleSource) => Promise<void>;
    batch?: number;
  } = {},
): Promise<EvalRecord[]> {
  const { keep, stop } = opts;
  const done = opts.done ?? [];
  const out: EvalRecord[] = [];
  const adaptive = new Set(plans.filter((p) => p.solver.adaptive).map((p) => p.solver.name));
  let kept = done.some((e) => e.status === "ok" && adaptive.has(e.solver));
  let x0: Tensor | undefined; // made on first use: a fully recorded run needs no samples
  try {
    for (const { solver, settings } of plans) {
      for (const setting of settings) {
        const prior = done.find((d) => sameSetting(d, { solver: solver.name, setting }));
        if (prior) {
          out.push(prior);
          continue;
        }
        throwIfStopped(stop);
        await phase("eval", `${opts.traceId ?? "-"} ${solver.name} ${settingText(setting)}`);
        const counted = countNfe(stoppable(vf, stop));
        const start = performance.now();
        let record: EvalRecord;
        try {
          x0 ??= sourceNoise(path, shape, n, subSeed(seed, "sample"));
          const { x, nfe } = await solveInBatches(
            solver,
            counted.f,
            x0,
            solveOptions(path, setting),
            opts.batch,
          );
          try {
            const metrics = await quality.fn(x, stop);
            if (keep && solver.adaptive && !kept) {
              await keep(x, { solver: solver.name, setting, nfe });
              kept = true;
            }
            record = {
              solver: solver.name,
              setting,
              status: "ok",
              nfe,
              metrics,
              notes: quality.notes,
              ...(quality.protocol ? { protocol: quality.protocol } : {}),
              seconds: (performance.now() - start) / 1000,
            };
          } finally {
            x.dispose();
          }
        } catch (e) {
          // A stop is not a failure of the setting: nothing is recorded and the caller saves.
          if (isCancelled(e) || stop?.aborted) throw e;
          record = {
            solver: solver.name,
            setting,
            status: "failed",
            error: firstLine(e),
            nfe: counted.count(),
            metrics: {},
            seconds: (performance.now() - start) / 1000,
          };
        }
        out.push(record);
        await opts.onRecord?.([...out]);
      }
    }
  } finally {
    x0?.dispose();
  }
  return out;
}

/**
 * Test-set NLL with each configured divergence estimator, using the adaptive solver, in batches
 * of `opts.batch` examples (all at once when absent); estimators in `done` are kept, not re-run
 * (each has its own seeded probes).
 * @example
 * const nll = await evaluateNll(vf, path, data, dopri5, cfg.eval.nll, seed, false, { onRecord: save });
 */
export async function evaluateNll(
  vf: VelocityField,
  path: Path,
  data: DataSource,
  solver: Solver,
  cfg: EvalConfig["nll"],
  seed: number,
  bitsPerDim: boolean,
  opts: ResumableOptions<NllRecord> & { batch?: number } = {},
): Promise<NllRecord[]> {
  const done = opts.done ?? [];
  const recorded = (est: string) => done.find((d) => d.estimator === est);
  if (cfg.estimators.every((e) => recorded(e))) return cfg.estimators.map((e) => recorded(e)!);
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
      const prior = recorded(estimator);
      if (prior) {
        out.push(prior);
        continue;
      }
      throwIfStopped(opts.stop);
      await phase("nll", `${opts.traceId ?? "-"} ${estimator}`);
      const start = performance.now();
      const { logp, nfe } = await logLikelihood(vf, x1, {
        stop: opts.stop,
        solver,
        solveOpts: solveOptions(path, setting, true),
        sourceStd: path.sourceStd,
        divergence: estimator,
        probes: cfg.probes,
        noise: cfg.noise,
        seed: subSeed(seed, `nll-${estimator}`),
        batchSize: opts.batch,
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
      await opts.onRecord?.([...out]);
    }
  } finally {
    x1.dispose();
  }
  return out;
}
