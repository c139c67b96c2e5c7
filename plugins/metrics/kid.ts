// KID: the kernel inception distance (unbiased MMD^2, cubic kernel) over random subsets.
import { defineMetric } from "../../core/mod.ts";

const SUBSETS = 100, SUBSET_SIZE = 1000;

export default defineMetric({
  name: "kid",
  description: "kernel inception distance (Binkowski et al. 2018) as clean-fid and " +
    "torch-fidelity compute it, mean ± std over random subsets",
  features: ["inception-pool3"],
  values: {
    kid: {
      direction: "lower",
      title: "KID",
      description: "unbiased MMD² with the kernel (x·y/d + 1)³ between generated and reference " +
        "features, mean over subsets",
      spread: "kid_std",
    },
  },
  protocol: {
    kernel: "(x.y/d + 1)^3",
    estimator: "unbiased MMD^2, mean and std over subsets",
    subsets: SUBSETS,
    subsetSize: `min(${SUBSET_SIZE}, generated, reference features), drawn without replacement`,
    seed: "the run's seed",
  },
  compute: async ({ generated, reference, seed, stats }) => {
    const k = await stats.kid(generated, reference!, {
      subsets: SUBSETS,
      subsetSize: SUBSET_SIZE,
      seed,
    });
    return { kid: k.mean, kid_std: k.std };
  },
});
