// EDM's sampler (Karras et al. 2022, Algorithm 2 / NVlabs edm_sampler) on any affine path: Heun
// steps in the noise level, with optional churn (added noise) for the stochastic variant.
import {
  linearCombination,
  normals,
  rng,
  type SamplerContext,
  SolverError,
  subSeed,
  type Tensor,
  tf,
} from "../../core/mod.ts";

/** The stochastic sampler's settings (EDM's S_churn, S_min, S_max, S_noise). */
export interface Churn {
  churn: number;
  sMin: number;
  sMax: number;
  sNoise: number;
}

/**
 * The standard normal noise that step `step` of a stochastic solve with `seed` adds (the same
 * for any backend): what a reference run is given to reproduce a solve.
 * @example
 * const eps = churnNoise(7, 0, [500, 2]); // Float32Array of 1000 draws
 */
export function churnNoise(seed: number, step: number, shape: number[]): Float32Array {
  return normals(rng(subSeed(seed, `churn ${step}`)), shape.reduce((a, b) => a * b, 1));
}

/**
 * The churn factor gamma of a step at noise level `level` in a solve of `steps` steps: EDM's
 * min(S_churn / steps, sqrt(2) - 1) where S_min <= level <= S_max, else 0.
 * @example
 * churnGamma({ churn: 40, sMin: 0.05, sMax: 50, sNoise: 1.003 }, 10, 4); // sqrt(2) - 1
 */
export function churnGamma(c: Churn | undefined, level: number, steps: number): number {
  if (!c || c.churn === 0 || !(level >= c.sMin && level <= c.sMax)) return 0;
  return Math.min(c.churn / steps, Math.SQRT2 - 1);
}

/**
 * One EDM solve; the state at t1 (a new tensor).
 *
 * Conventions: EDM works in x~ = x / alpha(t) at noise level sigma~ = sigma(t) sourceStd /
 * alpha(t) (its t_i are these levels; fmbench's time runs the other way, from noise at t0 to data
 * at t1), with the denoiser D(x~; sigma~) = x1_hat(alpha x~, t) (dataFromVelocity). On the
 * "karras" grid with sigmaMin 0.002, sigmaMax 80, rho 7, `steps` is edm_sampler's num_steps and
 * the path's end level takes the place of its t_N = 0: on a path whose noise vanishes at t1
 * (linear, cosine) this is edm_sampler exactly (NFE 2 steps - 1); where it does not (cond-ot,
 * vp-diffusion) the last step ends at that level and is a Heun step too (NFE 2 steps). Each step:
 * gamma = churnGamma, sigma^ = sigma~ (1 + gamma) (capped at the path's own start level, where
 * the model was trained), x^ = x~ + sqrt(sigma^2 - sigma~^2) S_noise eps (eps = churnNoise),
 * an Euler step to the next level, and the trapezoid correction unless that level is 0.
 * @example
 * const x = edmSample(ctx, x0); // deterministic; pass a Churn for the stochastic variant
 */
export function edmSample(ctx: SamplerContext, x0: Tensor, churn?: Churn): Tensor {
  const g = ctx.grid, n = g.length - 1;
  if (!Number.isFinite(g[0].level)) {
    throw new SolverError(
      ctx.name,
      `steps in the noise level sigma/alpha, which is infinite at t=${g[0].t} (alpha = 0); ` +
        `set sigmaMax (EDM uses 80)`,
    );
  }
  const levelMax = ctx.point(ctx.range[0]).level; // the path's own start: no churn above it
  // The state is kept as x = alpha x~ (values of order one; x~ is about 80 times the noise at the
  // start, where float32 would lose digits), and each update is EDM's, rewritten exactly.
  let x = ctx.start(x0);
  try {
    for (let i = 0; i < n; i++) {
      const p = g[i], q = g[i + 1];
      const gamma = churnGamma(churn, p.level, n);
      let hat = p, xh = x;
      if (gamma > 0) {
        // x^ = x~ + sqrt(s^2 - s~^2) S_noise eps at the level s^ (time t^ < t), times alpha(t^).
        const level = Math.min(p.level * (1 + gamma), levelMax);
        hat = { ...ctx.point(ctx.timeAt(level)), level };
        const eps = tf.tensor(churnNoise(ctx.seed, i, x.shape), x.shape);
        const noise = hat.alpha * Math.sqrt(level * level - p.level * p.level) * churn!.sNoise;
        xh = linearCombination([[hat.alpha / p.alpha, x], [noise, eps]]);
        eps.dispose();
      }
      // Euler, x~' = x^ + (s' - s^) d0 with d0 = (x^ - D0) / s^ = eps_hat, is r x^ + (1 - r) D0
      // (r = s'/s^); the trapezoid adds (s' - s^)(d1 - d0) / 2. In x = alpha x~ this is
      // x' = (sigma'/sigma^) x^ + alpha'(1 - r) D0 and x'' = x' + alpha' (s' - s^)(d1 - d0) / 2:
      // the same numbers as EDM's, without cancelling large terms at high noise (x~ is about
      // 80 eps at the start) or dividing small differences by s' at low noise (the slopes are
      // the noise predictions, from the velocity directly).
      const r = q.level / hat.level, dl = q.level - hat.level, a = q.alpha;
      const p0 = ctx.predict(xh, hat);
      let next: Tensor;
      try {
        next = linearCombination([[q.sigma / hat.sigma, xh], [a * (1 - r), p0.data]]);
        if (q.level > 0) {
          const p1 = ctx.predict(next, q);
          const corrected = linearCombination([
            [1, next],
            [0.5 * a * dl, p1.eps],
            [-0.5 * a * dl, p0.eps],
          ]);
          tf.dispose([next, p1.data, p1.eps]);
          next = corrected;
        }
      } finally {
        tf.dispose([p0.data, p0.eps]);
      }
      if (xh !== x) xh.dispose();
      x.dispose();
      x = next;
    }
    return x;
  } catch (e) {
    x.dispose();
    throw e;
  }
}
