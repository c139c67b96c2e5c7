// Explicit Euler: first order, one velocity evaluation per step.
import { defineSolver } from "../../harness/define.ts";
import {
  type FixedStepOptions,
  integrateFixed,
  type Tableau,
} from "../../harness/solve/fixed-step.ts";

const TABLEAU: Tableau = { c: [0], a: [[]], b: [1] };

export default defineSolver({
  name: "euler",
  description: "Explicit Euler, x += h v(x, t); order 1, 1 NFE per step",
  order: 1,
  adaptive: false,
  evalsPerStep: 1,
  integrate: (f, x0, opts) => integrateFixed("euler", TABLEAU, f, x0, opts as FixedStepOptions),
});
