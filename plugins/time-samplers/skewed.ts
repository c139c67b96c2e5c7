// facebookresearch/flow_matching's skewed CIFAR-10 training times (examples/image, train_loop.py's
// skewed_timestep_sample): EDM's log-normal noise levels mapped to t = 1 / (1 + sigma).
import { defineTimeSampler, type TimeDistribution } from "../../core/mod.ts";
import { logitNormal } from "./_logit-normal.ts";

/**
 * Their lower clip of t (torch.clip(time, min=0.0001)); here the distribution is cut there
 * instead (the mass below, P(sigma > 9999) ~ 2e-18 at the defaults, is far below any histogram).
 * @example
 * SKEWED_MIN_T; // 1e-4
 */
export const SKEWED_MIN_T = 1e-4;

export default defineTimeSampler({
  name: "skewed",
  description: "flow_matching's skewed CIFAR-10 t (--skewed_timesteps): sigma = exp(pMean + " +
    "pStd z), t = 1 / (1 + sigma), t >= 1e-4; that is logit-normal with location -pMean, " +
    "scale pStd, whatever the path (their path is cond-OT); favours the data end",
  params: {
    pMean: { default: -1.2, description: "mean of log sigma (EDM's P_mean)" },
    pStd: { default: 1.2, above: 0, description: "standard deviation of log sigma (EDM's P_std)" },
  },
  prepare: ({ params }): TimeDistribution => ({
    ...logitNormal(-params.pMean, params.pStd),
    support: [SKEWED_MIN_T, 1],
  }),
});
