// W2: the exact 2-Wasserstein distance between generated samples and held-out points (2-D data).
import { defineMetric } from "../../core/mod.ts";

export default defineMetric({
  name: "w2",
  description: "exact 2-Wasserstein distance between the generated samples and as many held-out " +
    "points (optimal assignment on float64 squared distances)",
  features: ["raw"],
  values: {
    w2: {
      direction: "lower",
      title: "W2",
      description: "2-Wasserstein distance to held-out data: sqrt of the mean squared distance " +
        "under the optimal one-to-one matching",
    },
  },
  protocol: {
    definition: "sqrt(min over permutations s of (1/n) sum_i |g_i - r_s(i)|^2)",
    solver: "exact assignment (shortest augmenting paths) on float64 squared distances",
    points: "the first min(generated, held-out) of each",
  },
  compute: ({ generated, reference, stats }) => ({ w2: stats.w2(generated, reference!) }),
});
