// Improved precision and recall (Kynkäänniemi et al. 2019), k = 3, as torch-fidelity computes them.
import { defineMetric } from "../../core/mod.ts";

const K = 3;

export default defineMetric({
  name: "precision-recall",
  description: "improved precision (fidelity) and recall (diversity) of Kynkäänniemi et al. " +
    "2019 from k-nearest-neighbour balls, as torch-fidelity",
  features: ["inception-pool3", "raw"],
  values: {
    precision: {
      direction: "higher",
      title: "Precision",
      description: "share of generated samples inside some reference point's k-NN ball",
    },
    recall: {
      direction: "higher",
      title: "Recall",
      description: "share of reference points inside some generated sample's k-NN ball",
    },
  },
  protocol: {
    implementation: "torch-fidelity calculate_precision_recall_full",
    k: K,
    rule: "distance <= k-th neighbour radius",
    distances: "exact (float32 Gram products on the backend, float64 re-decisions near a radius)",
  },
  compute: async ({ generated, reference, stats }) =>
    await stats.precisionRecall(generated, reference!, { k: K }),
});
