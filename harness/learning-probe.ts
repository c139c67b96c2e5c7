// The learning curve's probe of a model during training: the exact-divergence NLL of a few
// hundred held-out points and the suite's sample metric on one fixed noise batch, both solved by
// the suite's adaptive solver at a loose tolerance. Cheap by design: it runs at every probe step.
import { type Path, type Solver, subSeed, type Tensor, type VelocityField } from "../core/mod.ts";
import { firstLine } from "../core/error-message.ts";
import type { DataSource } from "./data/source.ts";
import { solveInBatches, solveOptions } from "./evaluate.ts";
import type { CurveProbe, ProbeResult } from "./learning-curve.ts";
import { logLikelihood } from "./metrics/nll.ts";
import type { Quality } from "./quality.ts";
import { sourceNoise } from "./source-noise.ts";
import type { CurveConfig } from "./suites/types.ts";

/** What a probe measures with. */
export interface ProbeInput {
  /** The model's velocity field (it reads the weights the trainer puts in place). */
  field: VelocityField;
  path: Path;
  /** Continuous (vector) data: the NLL is in nats of its first `config.n` held-out points. */
  data: DataSource;
  /** The adaptive solver, at config.rtol / config.atol for both the likelihood and sampling. */
  solver: Solver;
  config: CurveConfig;
  /** The suite's scorer of `config.n` samples (e.g. W2 against as many held-out points). */
  quality: Quality;
  seed: number;
  /** Examples per solve (--eval-batch); all at once when absent. */
  evalBatch?: number;
}

/**
 * A probe for LearningCurve and what it holds (the held-out points and the noise batch, the same
 * at every probe step, so the points of a curve differ only by the model): dispose after training.
 * @example
 * const p = learningProbe({ field: vf, path, data, solver: dopri5, config: cfg.eval.curve, quality, seed });
 * try { await train({ ...input, curve: { steps, probe: p.probe } }); } finally { p.dispose(); }
 */
export function learningProbe(o: ProbeInput): { probe: CurveProbe; dispose(): void } {
  const { field, path, data, solver, config: c } = o;
  if (data.kind !== "vector") {
    throw new Error(
      `learning curves measure the NLL of continuous data in nats; ${data.name} is ${data.kind} ` +
        `data (set no eval.curve for it)`,
    );
  }
  const n = Math.min(c.n, data.nTest);
  const setting = { rtol: c.rtol, atol: c.atol };
  const x1 = data.testSet(n);
  const x0 = sourceNoise({ path, shape: data.shape, count: n, seed: subSeed(o.seed, "curve") });
  const probe: CurveProbe = async () => {
    const out: ProbeResult = { metrics: {}, errors: [] };
    try {
      const { logp } = await logLikelihood(field, x1, {
        solver,
        solveOpts: solveOptions(path, setting, true),
        sourceStd: path.sourceStd,
        divergence: "exact",
        seed: subSeed(o.seed, "curve-nll"),
        evalBatch: o.evalBatch,
      });
      out.nll = logp.map((x) => -x);
    } catch (e) {
      out.errors.push(`NLL: ${firstLine(e)}`);
    }
    let x: Tensor | undefined;
    try {
      x = (await solveInBatches({
        solver,
        field,
        x0,
        solve: solveOptions(path, setting),
        evalBatch: o.evalBatch,
      })).x;
      out.metrics = (await o.quality.fn(x)).metrics;
    } catch (e) {
      out.errors.push(`sampling: ${firstLine(e)}`);
    } finally {
      x?.dispose();
    }
    return out;
  };
  return {
    probe,
    dispose() {
      x1.dispose();
      x0.dispose();
    },
  };
}
