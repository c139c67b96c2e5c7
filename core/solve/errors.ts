// SolverError: an ODE solve that could not finish (or a setting a solver refuses), naming the
// solver, the time and the step.

/**
 * Thrown when a solver gives up; the message names the solver, time reached and step size. A
 * solver that refuses a setting before it starts (a path it cannot sample) gives no t and h, and
 * the message is the reason alone.
 * @example
 * new SolverError("euler", "state became NaN/Inf", 0.5, 0.125).message;
 * // "euler: state became NaN/Inf (reached t=0.500000, step size h=0.125000)"
 * new SolverError("ipndm", "needs an affine path").message; // "ipndm: needs an affine path"
 */
export class SolverError extends Error {
  /** The solver's name. */
  readonly solver: string;
  /** The last time the solution reached (NaN for a refusal before the start). */
  readonly t: number;
  /** The step size at the failure (NaN for a refusal before the start). */
  readonly h: number;

  constructor(solver: string, reason: string, t?: number, h?: number) {
    super(
      t === undefined
        ? `${solver}: ${reason}`
        : `${solver}: ${reason} (reached t=${fmt(t)}, step size h=${fmt(h ?? NaN)})`,
    );
    this.name = "SolverError";
    this.solver = solver;
    this.t = t ?? NaN;
    this.h = h ?? NaN;
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(6) : String(x);
}
