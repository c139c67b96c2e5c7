// Explicit Euler: first order, one velocity evaluation per step.
import { fixedStepSolver } from "../../core/mod.ts";

export default fixedStepSolver({
  name: "euler",
  description: "Explicit Euler, x += h v(x, t); order 1, 1 NFE per step",
  order: 1,
  tableau: { c: [0], a: [[]], b: [1] },
});
