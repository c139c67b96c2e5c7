// Explicit midpoint rule: second order, two velocity evaluations per step.
import { defineSolver } from "../../harness/define.ts";
import {
  type FixedStepOptions,
  integrateFixed,
  type Tableau,
} from "../../harness/solve/fixed-step.ts";

const TABLEAU: Tableau = { c: [0, 0.5], a: [[], [0.5]], b: [0, 1] };

export default defineSolver({
  name: "midpoint",
  description: "Explicit midpoint rule (RK2, velocity at the half step); order 2, 2 NFE per step",
  order: 2,
  adaptive: false,
  evalsPerStep: 2,
  integrate: (f, x0, opts) => integrateFixed("midpoint", TABLEAU, f, x0, opts as FixedStepOptions),
});
