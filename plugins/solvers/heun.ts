// Heun's method (explicit trapezoid): second order, two velocity evaluations per step.
import { fixedStepSolver } from "../../core/mod.ts";

export default fixedStepSolver({
  name: "heun",
  description: "Heun's method (Euler predictor, trapezoid corrector); order 2, 2 NFE per step",
  order: 2,
  tableau: { c: [0, 1], a: [[], [1]], b: [0.5, 0.5] },
});
