// FD-DINOv2: the Fréchet distance between Gaussians fitted to DINOv2 ViT-L/14 class tokens.
import { defineMetric } from "../../core/mod.ts";

export default defineMetric({
  name: "fd-dinov2",
  description: "Fréchet distance of DINOv2 ViT-L/14 class-token features (Stein et al. 2023; " +
    "EDM2's FD-DINOv2), in float64; only when --metrics names it (about 4 s per image on a CPU)",
  features: ["dinov2-cls"],
  onlyWhenNamed: true,
  values: {
    fd_dinov2: {
      direction: "lower",
      title: "FD-DINOv2",
      description: "Fréchet distance between Gaussians fitted to generated and reference " +
        "DINOv2 class tokens (1024-d)",
    },
  },
  protocol: {
    implementation: "NVlabs/edm2 calculate_metrics.py (fd_dinov2): the FID formula on DINOv2 " +
      "features, in float64",
    statistics: "float64 mean and N-1 covariance of every generated sample and every " +
      "reference image",
  },
  compute: ({ generated, reference, stats }) => ({
    fd_dinov2: stats.frechet(
      reference!.moments ?? stats.moments(reference!),
      generated.moments ?? stats.moments(generated),
    ),
  }),
});
