// Classical fourth-order Runge-Kutta: four velocity evaluations per step.
import { defineSolver } from "../../harness/define.ts";
import {
  type FixedStepOptions,
  integrateFixed,
  type Tableau,
} from "../../harness/solve/fixed-step.ts";

const TABLEAU: Tableau = {
  c: [0, 0.5, 0.5, 1],
  a: [[], [0.5], [0, 0.5], [0, 0, 1]],
  b: [1 / 6, 1 / 3, 1 / 3, 1 / 6],
};

export default defineSolver({
  name: "rk4",
  description: "Classical Runge-Kutta 4; order 4, 4 NFE per step",
  order: 4,
  adaptive: false,
  evalsPerStep: 4,
  integrate: (f, x0, opts) => integrateFixed("rk4", TABLEAU, f, x0, opts as FixedStepOptions),
});
