// Adaptive Bogacki-Shampine 3(2) with FSAL and Hairer's step control (SciPy's RK23).
import { adaptiveSolver, type EmbeddedTableau, hairer } from "../../core/mod.ts";

/**
 * Bogacki & Shampine's 3(2) pair (1989): three stages plus f at the 3rd-order solution (FSAL),
 * error weights b3 - b2 over the four, and torchdiffeq's weights for y at mid-step (the dense
 * output a controller that steps past the end time needs).
 * @example
 * const bosh3Torchdiffeq = adaptiveSolver({ name, description, tableau: BOSH3, controller: torchdiffeq });
 */
export const BOSH3: EmbeddedTableau = {
  c: [0, 1 / 2, 3 / 4],
  a: [[], [1 / 2], [0, 3 / 4]],
  b: [2 / 9, 1 / 3, 4 / 9],
  order: 3,
  errorOrder: 2,
  // b minus the 2nd-order weights [7/24, 1/4, 1/3, 1/8].
  e: [-5 / 72, 1 / 12, 1 / 9, -1 / 8],
  mid: [0, 1 / 2, 0, 0],
};

export default adaptiveSolver({
  name: "bosh3",
  description: "Bogacki-Shampine 3(2), adaptive with FSAL (SciPy's RK23); rtol/atol default " +
    "1e-5; 3 NFE per step",
  tableau: BOSH3,
  controller: hairer,
});
