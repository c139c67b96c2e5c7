// EDM's stochastic sampler (Karras et al. 2022, Algorithm 2): Heun steps with churn (S_churn,
// S_min, S_max, S_noise), seeded by the harness so a run is reproducible; any affine path.
import { affineSampler } from "../../core/mod.ts";
import { edmSample } from "./_edm.ts";

export default affineSampler({
  name: "edm-stochastic",
  description: "EDM's stochastic sampler (Karras et al. 2022): Heun steps with churn " +
    "(defaults S_churn 40, S_min 0.05, S_max 50, S_noise 1.003, EDM's ImageNet-64 values); " +
    "seeded; any affine path",
  order: 1,
  defaultGrid: "karras",
  // EDM's README settings for ImageNet-64 (generate.py --S_churn=40 --S_min=0.05 --S_max=50
  // --S_noise=1.003); edm_sampler's own defaults (S_churn = 0) are the deterministic sampler.
  params: {
    churn: { default: 40, min: 0 },
    sMin: { default: 0.05, min: 0 },
    sMax: { default: 50, min: 0 },
    sNoise: { default: 1.003, min: 0 },
  },
  sample: (ctx, x0) =>
    edmSample(ctx, x0, {
      churn: ctx.params.churn,
      sMin: ctx.params.sMin,
      sMax: ctx.params.sMax,
      sNoise: ctx.params.sNoise,
    }),
});
