// Score Matching (Song et al. 2021, score SDE): denoising score matching with lambda(t) = sigma_t^2.
import { defineLoss } from "../../core/mod.ts";
import { scoreLoss } from "./_score.ts";

export default defineLoss(scoreLoss({
  name: "dsm",
  description:
    "Denoising score matching: network = score of p_t (output scaled by 1/(sigma_t std)), " +
    "lambda(t) = (sigma_t std)^2, uniform t; sampled and scored through the probability-flow ODE",
  weighting: "sigma2",
  importance: false,
}));
