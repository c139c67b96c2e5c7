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
import type { EvalRecord, NllRecord, SampleSource } from "../results/schema.ts";
import type { DataSource } from "./data/source.ts";
import { firstLine } from "../core/error-message.ts";
import { dequantizedLogLikelihood } from "./metrics/dequant-nll.ts";
import { logLikelihood, summarizeNll } from "./metrics/nll.ts";
import type { ReferenceStore } from "./reference-samples.ts";
import { sourceNoise } from "./source-noise.ts";
import { isCancelled, stoppable, type StopRequest, throwIfStopped } from "./stop.ts";
import type { EvalConfig, SolverSetting } from "./suites/types.ts";
import type { Quality } from "./quality.ts";

export type { Quality, QualityFn } from "./quality.ts";
import { phase } from "../store/trace.ts";

export interface SamplingPlan {
  solver: Solver;
  settings: SolverSetting[];
}

/**
 * Solve options for a suite setting on a path's time range (backward: from data to source), with
 * the path's schedule and source std (for the samplers that convert the velocity into a data
 * prediction) and the setting's solver-specific numbers as `params`.
 * @example
 * solveOptions(path, { steps: 8, grid: "edm" }); // { t0: 0, t1: 1, steps: 8, gridKind: "edm", ... }
 */
export function solveOptions(path: Path, s: SolverSetting, backward = false): SolveOptions {
  const [a, b] = path.tRange;
  const { steps: _s, grid: _g, rtol: _r, atol: _a, rho, ...rest } = s as Record<string, unknown>;
  const params = Object.fromEntries(
    Object.entries(rest).filter(([, v]) => typeof v === "number"),
  ) as Record<string, number>;
  return {
    t0: backward ? b : a,
    t1: backward ? a : b,
    steps: s.steps,
    gridKind: s.grid,
    rtol: s.rtol,
    atol: s.atol,
    ...(typeof rho === "number" ? { rho } : {}),
    ...(Object.keys(params).length ? { params } : {}),
    ...(path.schedule ? { schedule: path.schedule } : {}),
    sourceStd: path.sourceStd,
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
  /** The run's id in phase markers (store/trace.ts). */
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

import { settingText } from "../results/setting-text.ts";

export { settingText };

/** The reference for sampling errors: the given adaptive solver's tightest-tolerance setting. */
function referenceOf(
  solves: Array<{ solver: Solver; setting: SolverSetting }>,
  solver: string | undefined,
): number {
  const tol = (s: SolverSetting, k: "rtol" | "atol") => s[k] ?? Infinity;
  let best = -1;
  solves.forEach((j, i) => {
    if (j.solver.name !== solver || !j.solver.adaptive) return;
    const b = best >= 0 ? solves[best].setting : undefined;
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

/** What {@link solveInBatches} solves. */
export interface BatchedSolve {
  solver: Solver;
  field: VelocityField;
  x0: Tensor;
  /** The solver's options (time range, steps or tolerances). */
  solve: SolveOptions;
  /** Examples per solve (--eval-batch); all at once when absent. */
  evalBatch?: number;
}

/**
 * Solve from x0 in batches of `evalBatch` examples (all at once when absent) and concatenate the
 * results. Returns the mean number of field evaluations per batch (the NFE of one trajectory
 * batch; for fixed-step solvers the same for every batch), and each batch's own count.
 * @example
 * const { x, nfe } = await solveInBatches({ solver: euler, field: vf, x0,
 *   solve: { t0: 0, t1: 1, steps: 8 }, evalBatch: 256 });
 */
export async function solveInBatches(
  o: BatchedSolve,
): Promise<{ x: Tensor; nfe: number; batches: number[] }> {
  const { solver, field: vf, x0, solve: opts } = o;
  const n = x0.shape[0];
  const bs = o.evalBatch && o.evalBatch < n ? o.evalBatch : n;
  // A stochastic sampler's seed: opts.seed for the first batch, one derived from it for the others.
  const seedAt = (start: number) =>
    opts.seed === undefined || start === 0 ? opts.seed : subSeed(opts.seed, `batch ${start}`);
  const parts: Tensor[] = [];
  const batches: number[] = [];
  try {
    for (let start = 0; start < n; start += bs) {
      const m = Math.min(bs, n - start);
      const xi = bs === n ? x0 : x0.slice(start, m);
      const counted = countNfe(vf);
      try {
        const o = opts.seed === undefined ? opts : { ...opts, seed: seedAt(start) };
        parts.push((await solver.integrate(counted.f, xi, o)).x);
      } finally {
        if (xi !== x0) xi.dispose();
      }
      batches.push(counted.count());
    }
    const x = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    return { x, nfe: batches.reduce((a, b) => a + b, 0) / batches.length, batches };
  } finally {
    if (parts.length > 1) tf.dispose(parts);
  }
}

/**
 * Sub-batches the headline adaptive setting's NFE is also counted on, for its uncertainty.
 * @example
 * const quarter = Math.ceil(samples / NFE_DRAWS); // 4 disjoint quarters of the evaluation noise
 */
export const NFE_DRAWS = 4;

/** What {@link evaluateSampling} samples and scores. */
export interface SamplingInput extends ResumableOptions<EvalRecord> {
  /** The trained model's velocity field. */
  field: VelocityField;
  path: Path;
  /** Shape of one example. */
  shape: number[];
  plans: SamplingPlan[];
  /** Samples per setting, all from the same seeded source noise. */
  samples: number;
  seed: number;
  quality: Quality;
  /** Receives the samples of the first adaptive setting that succeeds. */
  keep?: (samples: Tensor, from: SampleSource) => Promise<void>;
  /** The adaptive solver whose tightest setting is the sampling-error reference. */
  referenceSolver?: string;
  /** Keeps the reference samples across sessions (else a resume solves it again). */
  referenceStore?: ReferenceStore;
  /** Examples per solve (--eval-batch); all at once when absent. */
  evalBatch?: number;
}

/**
 * Sample with each solver setting and score the result. A failing setting is recorded with its
 * reason and the others go on; settings in `done` are kept, not re-run (every setting samples
 * from the same seeded source noise, so the records equal an uninterrupted run's). `keep`
 * receives the samples of the first adaptive setting that succeeds, and which solver, setting
 * and NFE made them (the report labels the grid with it).
 *
 * With `referenceSolver`, that adaptive solver's tightest setting runs first and every
 * fixed-step setting also gets its sampling error: the mean squared distance per dimension
 * between its samples and the reference's, from the same noise (Lipman et al.'s Fig. 7),
 * reusing the samples already drawn. After a resume whose reference is already recorded, the
 * reference is solved once more (unscored) if a fixed-step setting still needs it. Records come
 * back (and go to `onRecord`) in plan order. Solves run in batches of `evalBatch` examples (all
 * at once when absent); NFE is then the mean per batch.
 * @example
 * const evals = await evaluateSampling({ field: vf, path, shape: [2], plans, samples: 500, seed,
 *   quality, onRecord: save });
 */
export async function evaluateSampling(opts: SamplingInput): Promise<EvalRecord[]> {
  const { field: vf, path, shape, plans, samples: n, seed, quality, keep, stop } = opts;
  const done = opts.done ?? [];
  const solves = plans.flatMap(({ solver, settings }) =>
    settings.map((setting) => ({ solver, setting }))
  );
  const refIdx = referenceOf(solves, opts.referenceSolver);
  const all = solves.map((_, i) => i);
  const order = refIdx >= 0 ? [refIdx, ...all.filter((i) => i !== refIdx)] : all;
  const records: Array<EvalRecord | undefined> = new Array(solves.length);
  const inPlanOrder = () => records.filter((r): r is EvalRecord => r !== undefined);
  const adaptive = new Set(plans.filter((p) => p.solver.adaptive).map((p) => p.solver.name));
  let kept = done.some((e) => e.status === "ok" && adaptive.has(e.solver));
  let x0: Tensor | undefined; // made on first use: a fully recorded run needs no samples
  let ref: Tensor | undefined;
  let refNote: string | undefined;
  let batchNfe: number | undefined; // the last solve's NFE per batch
  let perBatch: number[] = []; // the last solve's NFE of each batch
  const solve = async (i: number, f: VelocityField, evalBatch = opts.evalBatch) => {
    x0 ??= sourceNoise({ path, shape, count: n, seed: subSeed(seed, "sample") });
    const r = await solveInBatches({
      solver: solves[i].solver,
      field: f,
      x0,
      solve: { ...solveOptions(path, solves[i].setting), seed: subSeed(seed, "solver") },
      evalBatch,
    });
    batchNfe = r.nfe;
    perBatch = r.batches;
    return r.x;
  };
  /**
   * The headline setting's NFE on disjoint sub-batches of the evaluation noise: the batches it
   * was solved in, or (solved at once) NFE_DRAWS quarters solved again only to count.
   */
  const nfeDraws = async (i: number): Promise<EvalRecord["nfeDraws"]> => {
    if (perBatch.length > 1) return { batch: Math.min(opts.evalBatch ?? n, n), nfe: perBatch };
    if (n < 2 * NFE_DRAWS) return undefined;
    const batch = Math.ceil(n / NFE_DRAWS);
    const { batchNfe: keepNfe, perBatch: keepBatches } = { batchNfe, perBatch };
    try {
      (await solve(i, stoppable(vf, stop), batch)).dispose();
      return { batch, nfe: perBatch };
    } finally {
      batchNfe = keepNfe;
      perBatch = keepBatches;
    }
  };
  try {
    for (const i of order) {
      const { solver, setting } = solves[i];
      const prior = done.find((d) => sameSetting(d, { solver: solver.name, setting }));
      if (prior) {
        records[i] = prior;
        continue;
      }
      if (!solver.adaptive && refIdx >= 0 && !ref && !refNote && records[refIdx]) {
        // The reference was recorded by an earlier session: its saved samples, else solve again.
        const recorded = records[refIdx]!;
        if (recorded.status !== "ok") {
          refNote = `the reference solve failed: ${recorded.error ?? "no reason recorded"}`;
        } else {
          ref = await opts.referenceStore?.load([n, ...shape]) ?? undefined;
          if (!ref) {
            throwIfStopped(stop);
            await phase("eval", `${opts.traceId ?? "-"} reference ${solves[refIdx].solver.name}`);
            try {
              ref = await solve(refIdx, stoppable(vf, stop));
              await opts.referenceStore?.save(ref);
            } catch (e) {
              if (isCancelled(e) || stop?.aborted) throw e;
              refNote = `the reference solve failed: ${firstLine(e)}`;
            }
          }
        }
      }
      throwIfStopped(stop);
      await phase("eval", `${opts.traceId ?? "-"} ${solver.name} ${settingText(setting)}`);
      const counted = countNfe(stoppable(vf, stop));
      batchNfe = undefined;
      // Per trajectory batch when the solve finished; every evaluation so far when it failed.
      const nfe = () => batchNfe ?? counted.count();
      const start = performance.now();
      let record: EvalRecord;
      try {
        const x = await solve(i, counted.f);
        let keepX = false;
        try {
          const scores = await quality.fn(x, stop);
          const notes = { ...quality.notes, ...scores.notes };
          if (keep && solver.adaptive && !kept) {
            await keep(x, { solver: solver.name, setting, nfe: nfe() });
            kept = true;
          }
          record = {
            solver: solver.name,
            setting,
            status: "ok",
            nfe: nfe(),
            metrics: scores.metrics,
            notes: Object.keys(notes).length ? notes : undefined,
            ...(quality.protocol ? { protocol: quality.protocol } : {}),
            seconds: (performance.now() - start) / 1000,
          };
          if (i === refIdx) {
            ref = x;
            keepX = true;
            await opts.referenceStore?.save(x);
            try {
              const draws = await nfeDraws(i);
              if (draws) record.nfeDraws = draws;
            } catch (e) {
              // Only the NFE's uncertainty is lost (the report says it has none): the setting
              // itself succeeded.
              if (isCancelled(e) || stop?.aborted) throw e;
            }
          } else if (!solver.adaptive && refIdx >= 0) {
            const reference = {
              solver: solves[refIdx].solver.name,
              setting: solves[refIdx].setting,
            };
            record.sampleError = ref
              ? { mse: await meanSquaredDistance(x, ref), reference }
              : { reference, note: refNote ?? "no reference solution" };
          }
        } finally {
          if (!keepX) x.dispose();
        }
      } catch (e) {
        // A stop is not a failure of the setting: nothing is recorded and the caller saves.
        if (isCancelled(e) || stop?.aborted) throw e;
        if (i === refIdx) refNote = `the reference solve failed: ${firstLine(e)}`;
        record = {
          solver: solver.name,
          setting,
          status: "failed",
          error: firstLine(e),
          nfe: nfe(),
          metrics: {},
          seconds: (performance.now() - start) / 1000,
        };
      }
      records[i] = record;
      await opts.onRecord?.(inPlanOrder());
    }
  } finally {
    x0?.dispose();
    ref?.dispose();
  }
  return inPlanOrder();
}

/** What {@link evaluateNll} measures. */
export interface NllInput extends ResumableOptions<NllRecord> {
  /** The trained model's velocity field. */
  field: VelocityField;
  path: Path;
  data: DataSource;
  /** The adaptive solver of the likelihood ODE. */
  solver: Solver;
  config: EvalConfig["nll"];
  seed: number;
  /** 8-bit images: dequantised likelihood in bits/dim (else nats of continuous data). */
  bitsPerDim: boolean;
  /** Rows per integration (--eval-batch); all at once when absent. */
  evalBatch?: number;
}

/**
 * Test-set NLL with each configured divergence estimator, using the adaptive solver, in batches
 * of `evalBatch` rows (all at once when absent); estimators in `done` are kept, not re-run (each
 * has its own seeded probes).
 * @example
 * const nll = await evaluateNll({ field: vf, path, data, solver: dopri5, config: cfg.eval.nll,
 *   seed, bitsPerDim: false, onRecord: save });
 */
export async function evaluateNll(opts: NllInput): Promise<NllRecord[]> {
  const { field: vf, path, data, solver, config: cfg, seed, bitsPerDim } = opts;
  const done = opts.done ?? [];
  const recorded = (est: string) => done.find((d) => d.estimator === est);
  if (cfg.estimators.every((e) => recorded(e))) return cfg.estimators.map((e) => recorded(e)!);
  const out: NllRecord[] = [];
  const n = Math.min(cfg.n, data.nTest);
  const k = bitsPerDim ? cfg.dequant ?? 1 : 1;
  let x1: Tensor;
  if (bitsPerDim) {
    // 8-bit data: likelihood of uniformly dequantised y = (x + u) / 128 - 1 (see bits-per-dim.ts),
    // K draws of u per image combined by log-mean-exp (dequant-nll.ts); x1 holds the raw images.
    if (!data.rawTest) throw new Error(`${data.name}: bits/dim needs the raw 8-bit test data`);
    x1 = data.rawTest(n);
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
      const nllOpts = {
        stop: opts.stop,
        solver,
        solveOpts: solveOptions(path, setting, true),
        sourceStd: path.sourceStd,
        divergence: estimator,
        probes: cfg.probes,
        noise: cfg.noise,
        seed: subSeed(seed, `nll-${estimator}`),
        evalBatch: opts.evalBatch,
      };
      let s: Omit<NllRecord, "estimator" | "solver" | "setting" | "seconds">;
      if (bitsPerDim) {
        const r = await dequantizedLogLikelihood({
          field: vf,
          raw: x1,
          draws: k,
          nll: nllOpts,
          seed: subSeed(seed, "dequantize"),
        });
        s = {
          ...summarizeNll(r.logp, { dims, bitsPerDim }),
          // Mean over the integration batches (one per image-draw block), rounded: a count.
          nfe: Math.round(r.nfe),
          dequantSamples: k,
          ...(k > 1 ? { bpdSingleSample: summarizeNll(r.samples, { dims, bitsPerDim }).bpd } : {}),
        };
      } else {
        const { logp, nfe } = await logLikelihood(vf, x1, nllOpts);
        s = { ...summarizeNll(logp, { dims, bitsPerDim }), nfe };
      }
      out.push({
        ...s,
        estimator,
        probes: estimator === "hutchinson" ? cfg.probes : undefined,
        noise: estimator === "hutchinson" ? cfg.noise : undefined,
        solver: solver.name,
        setting,
        seconds: (performance.now() - start) / 1000,
      });
      await opts.onRecord?.([...out]);
    }
  } finally {
    x1.dispose();
  }
  return out;
}
