// Classical fourth-order Runge-Kutta: four velocity evaluations per step.
import { fixedStepSolver } from "../../core/mod.ts";

export default fixedStepSolver({
  name: "rk4",
  description: "Classical Runge-Kutta 4; order 4, 4 NFE per step",
  order: 4,
  tableau: {
    c: [0, 0.5, 0.5, 1],
    a: [[], [0.5], [0, 0.5], [0, 0, 1]],
    b: [1 / 6, 1 / 3, 1 / 3, 1 / 6],
  },
});
