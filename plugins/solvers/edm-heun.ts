// EDM's deterministic sampler (Karras et al. 2022, Algorithm 1): Heun steps in the noise level on
// the rho = 7 grid, for any affine path.
import { affineSampler } from "../../core/mod.ts";
import { edmSample } from "./_edm.ts";

export default affineSampler({
  name: "edm-heun",
  description: "EDM's Heun sampler (Karras et al. 2022) on its rho = 7 grid from sigma 80 to " +
    "0.002 (cut to the path's levels), any affine path; 2 NFE per step (1 on a step to sigma 0)",
  order: 2,
  defaultGrid: "karras",
  sample: (ctx, x0) => edmSample(ctx, x0),
});
