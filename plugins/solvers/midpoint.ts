// Explicit midpoint rule: second order, two velocity evaluations per step.
import { fixedStepSolver } from "../../core/mod.ts";

export default fixedStepSolver({
  name: "midpoint",
  description: "Explicit midpoint rule (RK2, velocity at the half step); order 2, 2 NFE per step",
  order: 2,
  tableau: { c: [0, 0.5], a: [[], [0.5]], b: [0, 1] },
});
