// Inception Score (Salimans et al. 2016) from the logits of the FID network, as torch-fidelity's ISC.
import { defineMetric } from "../../core/mod.ts";

const SPLITS = 10;

export default defineMetric({
  name: "inception-score",
  description: "Inception Score (Salimans et al. 2016) from the 1008-way logits of the same " +
    "pytorch-fid network, as torch-fidelity's ISC",
  features: ["inception-logits"],
  reference: false,
  values: {
    is: {
      direction: "higher",
      title: "IS",
      description: "exp of the mean KL divergence between each sample's class distribution and " +
        "the split's marginal, mean ± std over splits",
      spread: "is_std",
    },
  },
  protocol: {
    implementation: "torch-fidelity isc_features_to_metric",
    splits: SPLITS,
    shuffle: "NumPy RandomState(2020) permutation",
    logits: "fc without bias, 1008 classes, of the FID pass's pool3 features",
  },
  compute: ({ generated, stats }) => {
    const s = stats.inceptionScore(generated, { splits: SPLITS });
    return { is: s.mean, is_std: s.std };
  },
});
