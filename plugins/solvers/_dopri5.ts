// The Dormand-Prince 5(4) stages both dopri5 solvers share (the "_" keeps it from loading).
import type { Tableau } from "../../core/mod.ts";

/**
 * The six Dormand-Prince stages and the 5th-order weights b (the propagated solution); the
 * seventh stage is f at that solution (first-same-as-last). Each solver adds its error weights.
 * @example
 * const tableau = { ...DOPRI5, order: 5, errorOrder: 4, e: E_HAIRER };
 */
export const DOPRI5: Tableau = {
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1],
  a: [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  ],
  b: [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
};
