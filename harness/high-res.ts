// The finer score of one trained model (issue 27): `eval.highRes.samples` samples drawn with the
// headline setting (the adaptive solver at its tightest tolerance), scored by the suite's highRes
// (toy2d: the high-resolution W2), recorded as the run's `highRes`.
import { type Path, subSeed, type VelocityField } from "../core/mod.ts";
import type { HighResRecord, SolverSetting } from "../results/schema.ts";
import type { DataSource } from "./data/source.ts";
import { firstLine } from "../core/error-message.ts";
import { type SamplingPlan, settingText, solveInBatches, solveOptions } from "./evaluate.ts";
import { sourceNoise } from "./source-noise.ts";
import { isCancelled, stoppable, type StopRequest, throwIfStopped } from "./stop.ts";
import type { SuiteConfig, SuiteDef } from "./suites/types.ts";
import { phase } from "../store/trace.ts";

/**
 * The headline setting: the named adaptive solver's tightest tolerance among the plans
 * (results/headline.ts's rule), or undefined when the plans do not run that solver.
 * @example
 * headlineSetting(plans, "dopri5"); // { plan: <dopri5 plan>, setting: { rtol: 1e-5, atol: 1e-5 } }
 */
export function headlineSetting(
  plans: SamplingPlan[],
  solver: string,
): { plan: SamplingPlan; setting: SolverSetting } | undefined {
  const plan = plans.find((p) => p.solver.name === solver && p.solver.adaptive);
  if (!plan || plan.settings.length === 0) return undefined;
  const tol = (s: SolverSetting) => [s.rtol ?? Infinity, s.atol ?? Infinity];
  const setting = [...plan.settings].sort((a, b) => {
    const [ra, aa] = tol(a), [rb, ab] = tol(b);
    return ra - rb || aa - ab;
  })[0];
  return { plan, setting };
}

/** What evaluateHighRes needs. */
export interface HighResJob {
  suite: SuiteDef;
  cfg: SuiteConfig;
  data: DataSource;
  path: Path;
  vf: VelocityField;
  plans: SamplingPlan[];
  /** The run's evaluation seed (the samples use a sub-seed of it). */
  seed: number;
  /** The run's seed (the held-out points it is compared with are drawn for it). */
  runSeed: number;
  stop?: StopRequest;
  traceId?: string;
}

/**
 * Draw `cfg.eval.highRes.samples` samples with the headline setting and score them with the
 * suite's highRes. Undefined when the suite has no such score, it is off (0 samples) or the
 * headline solver is not run; a failing solve or score is recorded as failed with its reason.
 * @example
 * record.highRes = await evaluateHighRes({ suite, cfg, data, path, vf, plans, seed });
 */
export async function evaluateHighRes(job: HighResJob): Promise<HighResRecord | undefined> {
  const { suite, cfg, data, path, stop } = job;
  const n = cfg.eval.highRes?.samples ?? 0;
  const head = headlineSetting(job.plans, cfg.adaptiveSolver);
  if (!suite.highRes || n <= 0 || !head) return undefined;
  throwIfStopped(stop);
  await phase("eval", `${job.traceId ?? "-"} high-res ${n} ${settingText(head.setting)}`);
  const start = performance.now();
  const base = { n, solver: head.plan.solver.name, setting: head.setting };
  let nfe = 0;
  const x0 = sourceNoise({
    path,
    shape: data.shape,
    count: n,
    seed: subSeed(job.seed, "high-res"),
  });
  try {
    const r = await solveInBatches({
      solver: head.plan.solver,
      field: stoppable(job.vf, stop),
      x0,
      solve: solveOptions(path, head.setting),
      evalBatch: cfg.eval.batch,
    });
    nfe = r.nfe;
    const samples = await r.x.data() as Float32Array;
    r.x.dispose();
    throwIfStopped(stop);
    const metrics = suite.highRes({ data, samples, config: cfg, seed: job.runSeed });
    return {
      ...base,
      nfe: Math.round(nfe),
      status: "ok",
      metrics,
      seconds: (performance.now() - start) / 1000,
    };
  } catch (e) {
    if (isCancelled(e) || stop?.aborted) throw e;
    return {
      ...base,
      nfe: Math.round(nfe),
      status: "failed",
      error: firstLine(e),
      metrics: {},
      seconds: (performance.now() - start) / 1000,
    };
  } finally {
    x0.dispose();
  }
}
