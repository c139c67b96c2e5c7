// Time grids for fixed-step solvers (uniform, or EDM-style polynomial spacing dense near data,
// t=1), and the names of the affine-path samplers' grid kinds (built in noise-levels.ts).

/**
 * The valid time-grid kinds.
 * @example
 * GRID_KINDS.join(", "); // "uniform, edm"
 */
export const GRID_KINDS = ["uniform", "edm"] as const;

/** A time-grid kind: "uniform" (equal steps) or "edm" (polynomial, denser near t = 1). */
export type GridKind = typeof GRID_KINDS[number];

/**
 * The grids the affine-path samplers (dpm-solver++, unipc, ipndm, edm) space their steps on.
 * @example
 * NOISE_GRID_KINDS.join(", "); // "uniform, logsnr, karras"
 */
export const NOISE_GRID_KINDS = ["uniform", "logsnr", "karras"] as const;

/**
 * "uniform": equal steps in t (DPM-Solver's time_uniform); "logsnr": equal steps in log-SNR
 * (DPM-Solver's logSNR); "karras": Karras et al.'s (EDM's) rho-polynomial in the noise level.
 */
export type NoiseGridKind = typeof NOISE_GRID_KINDS[number];

/**
 * True when `kind` names a noise-level grid kind.
 * @example
 * isNoiseGridKind("logsnr"); // true
 * isNoiseGridKind("edm"); // false: that is the Runge-Kutta solvers' grid on 1 - t
 */
export function isNoiseGridKind(kind: string): kind is NoiseGridKind {
  return (NOISE_GRID_KINDS as readonly string[]).includes(kind);
}

/**
 * Default exponent of the "edm" grid, as in Karras et al. (2022).
 * @example
 * timeGrid("edm", 8, 0, 1, EDM_RHO); // the same as timeGrid("edm", 8, 0, 1)
 */
export const EDM_RHO = 7;

/**
 * True when `kind` names a grid kind.
 * @example
 * isGridKind("edm"); // true
 * isGridKind("cosine"); // false
 */
export function isGridKind(kind: string): kind is GridKind {
  return (GRID_KINDS as readonly string[]).includes(kind);
}

/**
 * A grid of `steps + 1` times from t0 to t1 (either direction); the endpoints are exact.
 *
 * - "uniform": t_i = t0 + (i / N)(t1 - t0).
 * - "edm": Karras et al.'s rho-polynomial spacing applied to the distance to data d = 1 - t:
 *   d_i = (d0^(1/rho) + (i / N)(d1^(1/rho) - d0^(1/rho)))^rho, t_i = 1 - d_i, so steps shrink
 *   toward t = 1 whichever way the grid runs. Needs t0, t1 in [0, 1].
 * @example
 * timeGrid("edm", 4, 0, 1); // [0, 0.9, ..., 1] with the shortest step last
 */
export function timeGrid(
  kind: string,
  steps: number,
  t0: number,
  t1: number,
  rho: number = EDM_RHO,
): number[] {
  if (!isGridKind(kind)) {
    const affine = isNoiseGridKind(kind)
      ? ` ("${kind}" is a grid of the affine-path samplers: dpm-solver++, unipc, ipndm, edm)`
      : "";
    throw new Error(`unknown time grid "${kind}"; valid kinds: ${GRID_KINDS.join(", ")}${affine}`);
  }
  if (!Number.isInteger(steps) || steps < 1) {
    throw new Error(`time grid steps must be a positive integer, got ${steps}`);
  }
  if (!Number.isFinite(t0) || !Number.isFinite(t1) || t0 === t1) {
    throw new Error(`time grid needs finite, distinct t0 and t1, got t0=${t0}, t1=${t1}`);
  }
  const grid = new Array<number>(steps + 1);
  if (kind === "uniform") {
    for (let i = 0; i <= steps; i++) grid[i] = t0 + (i / steps) * (t1 - t0);
  } else {
    if (t0 < 0 || t0 > 1 || t1 < 0 || t1 > 1) {
      throw new Error(`"edm" time grid needs t0 and t1 in [0, 1], got t0=${t0}, t1=${t1}`);
    }
    if (!(rho > 0)) throw new Error(`"edm" time grid needs rho > 0, got ${rho}`);
    const a = Math.pow(1 - t0, 1 / rho), b = Math.pow(1 - t1, 1 / rho);
    for (let i = 0; i <= steps; i++) grid[i] = 1 - Math.pow(a + (i / steps) * (b - a), rho);
  }
  grid[0] = t0;
  grid[steps] = t1;
  return grid;
}
