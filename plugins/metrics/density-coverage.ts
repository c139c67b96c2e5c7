// Density and coverage (Naeem et al. 2020), k = 5, as clovaai/prdc computes them.
import { defineMetric } from "../../core/mod.ts";

const K = 5;

export default defineMetric({
  name: "density-coverage",
  description: "density (fidelity) and coverage (diversity) of Naeem et al. 2020: " +
    "k-nearest-neighbour balls around the reference points, as clovaai/prdc",
  features: ["inception-pool3", "raw"],
  values: {
    density: {
      direction: "higher",
      title: "Density",
      description: "mean number of reference k-NN balls holding a generated sample, over k " +
        "(about 1 for samples distributed like the data; above 1 for samples crowded where the " +
        "data are dense)",
    },
    coverage: {
      direction: "higher",
      title: "Coverage",
      description: "share of reference points whose k-NN ball holds a generated sample",
    },
  },
  protocol: {
    implementation: "clovaai/prdc compute_prdc",
    k: K,
    rule: "distance < k-th neighbour radius",
    distances: "exact (float32 Gram products on the backend, float64 re-decisions near a radius)",
  },
  compute: async ({ generated, reference, stats }) =>
    await stats.densityCoverage(generated, reference!, { k: K }),
});
