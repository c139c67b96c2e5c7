// Dormand-Prince 5(4) with torchdiffeq's error control, so NFE counts compare with papers that
// sampled with torchdiffeq (Lipman et al., TorchCFM): Shampine's error weights, torchdiffeq's
// step-size rule, steps that run past the end time and a dense-output interpolation there.
import {
  type AdaptiveOptions,
  adaptiveSolver,
  torchdiffeq,
  type TorchdiffeqOptions,
} from "../../core/mod.ts";
import { DOPRI5 } from "./_dopri5.ts";

/** Options: SolveOptions, firstStep and onStep, plus torchdiffeq's step-control knobs. */
export type Dopri5TorchdiffeqOptions = AdaptiveOptions & TorchdiffeqOptions;

export default adaptiveSolver({
  name: "dopri5-torchdiffeq",
  description: "Dormand-Prince 5(4) with torchdiffeq's error control (Shampine's error weights, " +
    "its step rule, interpolation at the end time): NFE comparable with papers using torchdiffeq",
  tableau: {
    ...DOPRI5,
    order: 5,
    errorOrder: 4,
    // b5 minus Shampine's (1986) embedded fourth-order weights, as torchdiffeq uses them
    // (dopri5 uses Hairer's; both are valid estimates with different step sequences and NFE).
    e: [
      35 / 384 - 1951 / 21600,
      0,
      500 / 1113 - 22642 / 50085,
      125 / 192 - 451 / 720,
      -2187 / 6784 + 12231 / 42400,
      11 / 84 - 649 / 6300,
      -1 / 60,
    ],
    // Weights of the stages for y at the middle of a step (the dense output's fifth point).
    mid: [
      6025192743 / 30085553152 / 2,
      0,
      51252292925 / 65400821598 / 2,
      -2691868925 / 45128329728 / 2,
      187940372067 / 1594534317056 / 2,
      -1776094331 / 19743644256 / 2,
      11237099 / 235043384 / 2,
    ],
  },
  controller: torchdiffeq,
});
