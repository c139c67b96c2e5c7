// Trigonometric path: alpha = sin(pi t / 2), sigma = cos(pi t / 2).
import { definePath } from "../../core/mod.ts";

const h = Math.PI / 2;

export default definePath({
  name: "cosine",
  family: "diffusion",
  description: "Cosine schedule: x_t = sin(pi t/2) x1 + cos(pi t/2) x0",
  schedule: {
    alpha: (t) => Math.sin(h * t),
    sigma: (t) => Math.cos(h * t),
    dAlpha: (t) => h * Math.cos(h * t),
    dSigma: (t) => -h * Math.sin(h * t),
  },
});
