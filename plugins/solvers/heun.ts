// Heun's method (explicit trapezoid): second order, two velocity evaluations per step.
import { defineSolver } from "../../harness/define.ts";
import {
  type FixedStepOptions,
  integrateFixed,
  type Tableau,
} from "../../harness/solve/fixed-step.ts";

const TABLEAU: Tableau = { c: [0, 1], a: [[], [1]], b: [0.5, 0.5] };

export default defineSolver({
  name: "heun",
  description: "Heun's method (Euler predictor, trapezoid corrector); order 2, 2 NFE per step",
  order: 2,
  adaptive: false,
  evalsPerStep: 2,
  integrate: (f, x0, opts) => integrateFixed("heun", TABLEAU, f, x0, opts as FixedStepOptions),
});
