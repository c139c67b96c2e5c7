// Rectified flow's straight path: x_t = t x1 + (1 - t) x0 (cond-ot with sigma_min = 0).
import { definePath } from "../../core/mod.ts";

export default definePath({
  name: "linear",
  family: "rectified",
  description: "Rectified flow: x_t = t x1 + (1 - t) x0",
  schedule: { alpha: (t) => t, sigma: (t) => 1 - t, dAlpha: () => 1, dSigma: () => -1 },
});
