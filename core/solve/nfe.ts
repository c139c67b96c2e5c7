// NFE accounting: wrap a velocity field so the harness counts its evaluations itself.
import type { VelocityField } from "../types.ts";

/** A velocity field wrapped with an evaluation counter. */
export interface CountedField {
  /** The wrapped field: calls the original and adds one to the count. */
  f: VelocityField;
  /** Evaluations since creation or the last reset. */
  count(): number;
  reset(): void;
}

/**
 * Wrap `f` so every call is counted (one call on a whole batch = one NFE).
 * @example
 * const c = countNfe(v);
 * await solver.integrate(c.f, x0, opts);
 * const nfe = c.count();
 */
export function countNfe(f: VelocityField): CountedField {
  let n = 0;
  return {
    f: (x, t) => {
      n++;
      return f(x, t);
    },
    count: () => n,
    reset: () => {
      n = 0;
    },
  };
}
