// Shared score-parameterised denoising score matching (Song et al.), used by the "dsm" and
// "scoreflow" loss plugins: the network's output is the score of the path's marginal p_t, the
// target the conditional score, and only the time weighting lambda(t) (and its sampling) differ.
import {
  coeff,
  diffusionSquared,
  importanceTimeSampler,
  type Loss,
  type Model,
  type Path,
  type Schedule,
  type Tensor,
  type Tensor1D,
  tf,
  type TimeSampler,
  velocityFromScore,
} from "../../core/mod.ts";

/** lambda(t): "sigma2" = (sigma_t std)^2 (Song et al. 2021, score SDE); "g2" = g(t)^2 (ScoreFlow). */
export type ScoreWeighting = "sigma2" | "g2";

/** How a score loss weights and samples time. */
export interface ScoreLossSpec {
  name: string;
  description: string;
  weighting: ScoreWeighting;
  /**
   * Draw t from q(t) ∝ lambda(t) / (sigma_t std)^2 instead of uniformly, weighting each term by
   * 1 / q (unbiased for the same objective). For lambda = g^2 this is Song et al.'s importance
   * sampling: the per-example factor becomes a constant and the estimate's variance collapses.
   */
  importance: boolean;
  /** How the network output becomes the score (default "scaled"; see `score` below). */
  output?: "scaled" | "raw";
}

/**
 * The schedule of a path, or a clear error naming the loss and the path.
 * @example
 * const s = scheduleFor("dsm", path); // path.schedule, or throws if the path has none
 */
export function scheduleFor(loss: string, path: Path): Schedule {
  if (!path.schedule) {
    throw new Error(`loss "${loss}" needs an affine path with a schedule; "${path.name}" has none`);
  }
  return path.schedule;
}

/**
 * lambda(t) / (sigma_t std)^2: the factor on the squared residual in epsilon units.
 * @example
 * epsFactor("sigma2", s, 0.5, 1); // 1
 * epsFactor("g2", s, 0.5, path.sourceStd); // g(t)^2 / (sigma_t std)^2
 */
export function epsFactor(w: ScoreWeighting, s: Schedule, t: number, std: number): number {
  if (w === "sigma2") return 1;
  const k = s.sigma(t) * std;
  return diffusionSquared(s, t, std) / (k * k);
}

const samplers = new WeakMap<Path, Map<ScoreWeighting, TimeSampler>>();

/**
 * The importance sampler of t for a weighting on a path (tabulated once per path).
 * @example
 * const { t, weight } = timeSamplerFor("g2", path).warp(Math.random());
 */
export function timeSamplerFor(w: ScoreWeighting, path: Path): TimeSampler {
  const s = scheduleFor("score", path);
  let byPath = samplers.get(path);
  if (!byPath) samplers.set(path, byPath = new Map());
  let sampler = byPath.get(w);
  if (!sampler) {
    sampler = importanceTimeSampler((t) => epsFactor(w, s, t, path.sourceStd), path.tRange);
    byPath.set(w, sampler);
  }
  return sampler;
}

/**
 * Per-example times and factors of one batch: the (possibly importance-warped) times and the
 * factor lambda(t) / (sigma_t std)^2 times the importance weight.
 * @example
 * const { times, factors } = scoreTerms({ weighting: "g2", importance: true }, path, t);
 */
export function scoreTerms(
  spec: Pick<ScoreLossSpec, "weighting" | "importance">,
  path: Path,
  t: Tensor1D,
): { times: Float32Array; factors: Float32Array } {
  const s = scheduleFor("score", path);
  const raw = t.dataSync() as Float32Array;
  const [lo, hi] = path.tRange;
  const times = new Float32Array(raw.length), factors = new Float32Array(raw.length);
  const sampler = spec.importance ? timeSamplerFor(spec.weighting, path) : undefined;
  for (let i = 0; i < raw.length; i++) {
    let ti = raw[i], w = 1;
    if (sampler) ({ t: ti, weight: w } = sampler.warp((raw[i] - lo) / (hi - lo)));
    times[i] = ti;
    factors[i] = w * epsFactor(spec.weighting, s, ti, path.sourceStd);
  }
  return { times, factors };
}

/**
 * The score s(x_t, t) from the network output: "scaled" reads it as out / (sigma_t std), the
 * output scaling score_sde uses for its VP models (the network then outputs O(1) values even
 * where the score is ~1/sigma_t ~ 700 next to the data); "raw" reads the output as the score.
 * Measured on moons (MLP, 1000 steps, exact NLL in nats): raw 3.19 / scaled 2.83 for Score
 * Matching, raw 3.27 / scaled 2.93 for ScoreFlow; W2 0.83 / 0.59 and 1.04 / 0.65.
 */
function score(
  spec: Pick<ScoreLossSpec, "output">,
  path: Path,
  model: Model,
  x: Tensor,
  t: Tensor1D,
  times: Float32Array | number,
  training = false,
): Tensor {
  const out = model.apply(x, t, training);
  if ((spec.output ?? "scaled") === "raw") return out;
  // The scale comes from the host copy of the times: reading `t` back would stall a GPU backend.
  const sch = scheduleFor("score", path);
  const k = (u: number) => 1 / (sch.sigma(u) * path.sourceStd);
  return tf.tidy(() =>
    tf.mul(out, typeof times === "number" ? k(times) : coeff(Float32Array.from(times, k), x.rank))
  );
}

/**
 * A denoising score-matching loss whose network predicts the score grad log p_t(x_t):
 *
 *   E_t lambda(t) E || s(x_t, t) - grad log p_t(x_t | x1) ||^2,
 *   grad log p_t(x_t | x1) = -x0 / (sigma_t std^2),
 *
 * evaluated in epsilon units, lambda/(sigma std)^2 * || sigma std s + x0 / std ||^2, so large
 * scores near the data never meet float32 cancellation. Samples and likelihoods use the
 * probability-flow ODE velocity (alpha'/alpha) x + (g^2/2) s (core/affine.ts).
 * @example
 * export default scoreLoss({ name: "dsm", description: "...", weighting: "sigma2", importance: false });
 */
export function scoreLoss(spec: ScoreLossSpec): Loss {
  return {
    name: spec.name,
    description: spec.description,
    predicts: "score",
    loss(model, path, { x0, x1, t }) {
      const std = path.sourceStd;
      const sch = scheduleFor(spec.name, path);
      const { times, factors } = scoreTerms(spec, path, t);
      const sig = Float32Array.from(times, (u) => sch.sigma(u) * std);
      return tf.tidy(() => {
        const tt = tf.tensor1d(times);
        const { xt } = path.sample(x0, x1, tt);
        const r = x0.rank;
        const resid = tf.add(
          tf.mul(score(spec, path, model, xt, tt, times, true), coeff(sig, r)),
          tf.div(x0, std),
        );
        return tf.mean(tf.mul(coeff(factors, r), tf.square(resid))) as tf.Scalar;
      });
    },
    velocity(model, path) {
      const sch = scheduleFor(spec.name, path);
      return (x, t) =>
        tf.tidy(() => {
          const tt = tf.fill([x.shape[0]], t) as Tensor1D;
          const s = score(spec, path, model, x, tt, Math.fround(t));
          return velocityFromScore(sch, x, s, t, path.sourceStd);
        });
    },
  };
}
