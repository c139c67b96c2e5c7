// ScoreFlow (Song et al. 2021, "Maximum Likelihood Training of Score-Based Diffusion Models"):
// denoising score matching with the likelihood weighting lambda(t) = g(t)^2, t importance-sampled.
import { defineLoss } from "../../core/mod.ts";
import { scoreLoss } from "./_score.ts";

export default defineLoss(scoreLoss({
  name: "scoreflow",
  description: "Likelihood-weighted score matching, lambda(t) = g(t)^2 (a bound on the NLL), " +
    "t ~ q ∝ g^2 / sigma_t^2 with weight 1/q (Song et al. 2021); probability-flow ODE",
  weighting: "g2",
  importance: true,
}));
