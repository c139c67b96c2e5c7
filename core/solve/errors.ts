// SolverError: an ODE solve that could not finish, naming the solver, the time and the step.

/**
 * Thrown when a solver gives up; the message names the solver, time reached and step size.
 * @example
 * new SolverError("euler", "state became NaN/Inf", 0.5, 0.125).message;
 * // "euler: state became NaN/Inf (reached t=0.500000, step size h=0.125000)"
 */
export class SolverError extends Error {
  /** The solver's name. */
  readonly solver: string;
  /** The last time the solution reached. */
  readonly t: number;
  /** The step size at the failure. */
  readonly h: number;

  constructor(solver: string, reason: string, t: number, h: number) {
    super(`${solver}: ${reason} (reached t=${fmt(t)}, step size h=${fmt(h)})`);
    this.name = "SolverError";
    this.solver = solver;
    this.t = t;
    this.h = h;
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(6) : String(x);
}
