// iPNDM (Zhang & Chen 2022, as zju-pi/diff-sampler implements it): Adams-Bashforth steps of up to
// fourth order on the noise prediction in EDM's coordinates, with a lower-order warm start.
import {
  affineSampler,
  linearCombination,
  type SamplerContext,
  SolverError,
  type Tensor,
} from "../../core/mod.ts";

/**
 * Adams-Bashforth weights for the newest slope first, by order (the fixed ones of iPNDM: the
 * same for any step sizes).
 * @example
 * AB_WEIGHTS[2]; // [1.5, -0.5]
 */
export const AB_WEIGHTS: number[][] = [
  [],
  [1],
  [3 / 2, -1 / 2],
  [23 / 12, -16 / 12, 5 / 12],
  [55 / 24, -59 / 24, 37 / 24, -9 / 24],
];

/**
 * One iPNDM solve; the state at t1 (a new tensor).
 *
 * Conventions: diff-sampler works in EDM's coordinates, x~ = x / alpha(t) and noise level
 * sigma~ = sigma(t) sourceStd / alpha(t) (fmbench's vp-diffusion at t is EDM's VP at sigma~; its
 * `latents * t_steps[0]` start is fmbench's x0 scaled to the first level). With the data
 * prediction D = x1_hat (dataFromVelocity) at the grid point's time, the slope is
 * d = (x~ - D) / sigma~ and x~ += (sigma~_next - sigma~) sum_j w_j d_{i-j}, with weights of order
 * min(maxOrder, i + 1). Grid "karras" with EDM's sigmaMin 0.002, sigmaMax 80, rho 7 is
 * diff-sampler's default 'polynomial' schedule (its num_steps is steps + 1; NFE = steps).
 * Needs a finite noise level at the start (sigmaMax where alpha(t0) = 0).
 * @example
 * const x = ipndm(ctx, x0); // ctx from samplerContext
 */
export function ipndm(ctx: SamplerContext, x0: Tensor): Tensor {
  const g = ctx.grid, n = g.length - 1, maxOrder = ctx.params.maxOrder;
  if (!Number.isFinite(g[0].level)) {
    throw new SolverError(
      ctx.name,
      `steps in the noise level sigma/alpha, which is infinite at t=${g[0].t} (alpha = 0); ` +
        `set sigmaMax (EDM uses 80)`,
    );
  }
  // The state is kept as x = alpha x~ and the slopes are the noise predictions eps_hat (EDM's
  // (x~ - D) / sigma~, from the velocity directly): x_{i+1} = (alpha_{i+1} / alpha_i) x_i +
  // alpha_{i+1} (sigma~_{i+1} - sigma~_i) sum_j w_j d_{i-j}, the same numbers as in x~.
  let x = ctx.start(x0);
  const slopes: Tensor[] = []; // newest first
  try {
    for (let i = 0; i < n; i++) {
      const p = g[i], q = g[i + 1];
      const { data, eps } = ctx.predict(x, p);
      data.dispose();
      slopes.unshift(eps);
      const w = AB_WEIGHTS[Math.min(maxOrder, i + 1)];
      const c = q.alpha * (q.level - p.level);
      const next = linearCombination([
        [q.alpha / p.alpha, x],
        ...w.map((wj, j): [number, Tensor] => [c * wj, slopes[j]]),
      ]);
      x.dispose();
      x = next;
      while (slopes.length > maxOrder - 1) slopes.pop()!.dispose();
    }
    return x;
  } catch (e) {
    x.dispose();
    throw e;
  } finally {
    for (const s of slopes) s.dispose();
  }
}

export default affineSampler({
  name: "ipndm",
  description: "iPNDM (as zju-pi/diff-sampler): Adams-Bashforth up to order 4 (maxOrder) on " +
    "the noise prediction in EDM coordinates, warm-started from Euler (global order 2), any " +
    "affine path; karras grid; 1 NFE per step",
  order: 2,
  defaultGrid: "karras",
  params: { maxOrder: { default: 4, min: 1, max: 4, int: true } },
  sample: ipndm,
});
