// FID: the Fréchet distance between Gaussians fitted to Inception-v3 pool3 features (pytorch-fid).
import { defineMetric } from "../../core/mod.ts";

export default defineMetric({
  name: "fid",
  description: "Fréchet inception distance (Heusel et al. 2017) of pytorch-fid's Inception-v3 " +
    "pool3 features, in float64",
  features: ["inception-pool3"],
  values: {
    fid: {
      direction: "lower",
      title: "FID",
      description: "Fréchet distance |mu_g - mu_r|^2 + tr(S_g + S_r - 2 (S_g S_r)^1/2) between " +
        "Gaussians fitted to generated and reference features",
    },
  },
  protocol: {
    implementation: "pytorch-fid's formula in float64 (trace of the square root from the " +
      "eigenvalues of L^T S_g L, L the pivoted Cholesky factor of S_r)",
    statistics: "float64 mean and N-1 covariance of every generated sample and every " +
      "reference image",
  },
  compute: ({ generated, reference, stats }) => ({
    fid: stats.frechet(
      reference!.moments ?? stats.moments(reference!),
      generated.moments ?? stats.moments(generated),
    ),
  }),
});
