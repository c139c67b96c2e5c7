// Stable Diffusion 3's logit-normal training times (Esser et al. 2024): logit(t) ~ N(location, scale^2).
import { defineTimeSampler } from "../../core/mod.ts";
import { logitNormal } from "./_logit-normal.ts";

export default defineTimeSampler({
  name: "logit-normal",
  description: "SD3's logit-normal t (Esser et al. 2024): t = sigmoid(location + scale z), " +
    "z ~ N(0, 1); favours mid t. location is the mean of logit(t) in fmbench's time (data at " +
    "t = 1): diffusers' logit_mean, minus SD3's m (whose t is the noise level)",
  params: {
    location: { default: 0, description: "mean of logit(t); > 0 favours the data end" },
    scale: { default: 1, above: 0, description: "standard deviation of logit(t)" },
  },
  prepare: ({ params }) => logitNormal(params.location, params.scale),
});
