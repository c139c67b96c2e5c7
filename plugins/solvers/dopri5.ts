// Adaptive Dormand-Prince 5(4) with FSAL, Hairer's error weights and step control (SciPy's RK45).
import {
  type AdaptiveOptions,
  adaptiveSolver,
  hairer,
  type HairerOptions,
} from "../../core/mod.ts";
import { DOPRI5 } from "./_dopri5.ts";

/** dopri5 options: SolveOptions, firstStep and onStep, plus Hairer's step-control knobs. */
export type Dopri5Options = AdaptiveOptions & HairerOptions;

export default adaptiveSolver({
  name: "dopri5",
  description: "Dormand-Prince 5(4), adaptive with FSAL; rtol/atol default 1e-5; 6 NFE per step",
  tableau: {
    ...DOPRI5,
    order: 5,
    errorOrder: 4,
    // 5th minus Hairer's embedded 4th-order weights over the seven stages.
    e: [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40],
  },
  controller: hairer,
});
