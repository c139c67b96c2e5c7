// The exact densities of the 2-D toy data sets (the distributions harness/data/toy2d.ts draws
// from): mixtures of circle arcs (points, for 8gaussians) blurred by Gaussian noise, or uniform
// squares (checkerboard).
import { gaussLegendre } from "./quadrature.ts";

/** A circle arc, uniform in angle on [from, to], radius 0 for a point. */
export interface Arc {
  cx: number;
  cy: number;
  radius: number;
  from: number;
  to: number;
  /** Mixture weight. */
  weight: number;
}

/** A data set drawn as: pick an arc by weight, a uniform angle on it, add N(0, sigma^2 I). */
export interface BlurredArcs {
  kind: "arcs";
  arcs: Arc[];
  sigma: number;
}

/** A data set uniform on the union of disjoint axis-aligned unit squares (lower-left corners). */
export interface UniformSquares {
  kind: "squares";
  corners: Array<[number, number]>;
}

const circleArc = (r: number): Arc => ({
  cx: 0,
  cy: 0,
  radius: r,
  from: 0,
  to: 2 * Math.PI,
  weight: 0.5,
});

/**
 * The generating distribution of each toy data set, read off harness/data/toy2d.ts: moons are
 * two half circles of radius 2 (after its centring and scaling) with noise 0.1; 8gaussians eight
 * points on the circle of radius 2 with noise 0.2; circles radii 1 and 2.5 with noise 0.08;
 * checkerboard FFJORD's eight unit squares over [-2, 2]^2.
 * @example
 * (TOY2D_SHAPES["moons"] as BlurredArcs).sigma; // 0.1
 */
export const TOY2D_SHAPES: Record<string, BlurredArcs | UniformSquares> = {
  moons: {
    kind: "arcs",
    arcs: [
      { cx: -1, cy: -0.5, radius: 2, from: 0, to: Math.PI, weight: 0.5 },
      { cx: 1, cy: 0.5, radius: 2, from: Math.PI, to: 2 * Math.PI, weight: 0.5 },
    ],
    sigma: 0.1,
  },
  "8gaussians": {
    kind: "arcs",
    arcs: Array.from({ length: 8 }, (_, k) => ({
      cx: 2 * Math.cos((k * Math.PI) / 4),
      cy: 2 * Math.sin((k * Math.PI) / 4),
      radius: 0,
      from: 0,
      to: 0,
      weight: 1 / 8,
    })),
    sigma: 0.2,
  },
  checkerboard: {
    kind: "squares",
    corners: [[-2, 0], [-2, -2], [-1, 1], [-1, -1], [0, 0], [0, -2], [1, 1], [1, -1]],
  },
  circles: { kind: "arcs", arcs: [circleArc(1), circleArc(2.5)], sigma: 0.08 },
};

/** Gauss-Legendre nodes of the integral along an arc (its exponent kept to 40 below the peak). */
const ARC_NODES = 48;
/** Exponents this far below the largest are dropped (e^-40 relative). */
const SPAN = 40;

/**
 * log of (1/(to - from)) int_from^to exp(-kappa (1 - cos(theta - alpha))) dtheta, the angular
 * part of a blurred arc's density at a point seen at angle alpha from the centre (kappa = r R /
 * sigma^2): Gauss-Legendre over the part of the arc where the exponent is within SPAN of its
 * largest value there.
 */
function logArcAverage(kappa: number, alpha: number, from: number, to: number): number {
  const len = to - from;
  // The arc in angle relative to alpha, starting in [-pi, pi); the peaks are at 0 and 2 pi.
  let lo = from - alpha;
  lo -= 2 * Math.PI * Math.floor((lo + Math.PI) / (2 * Math.PI));
  const hi = lo + len;
  const pieces: Array<[number, number]> = [[lo, Math.min(hi, Math.PI)]];
  if (hi > Math.PI) pieces.push([-Math.PI, hi - 2 * Math.PI]);
  // The largest exponent is at the point of the pieces nearest 0.
  let cosMax = -1;
  for (const [a, b] of pieces) cosMax = Math.max(cosMax, Math.cos(a > 0 ? a : b < 0 ? b : 0));
  const lim = cosMax - SPAN / kappa;
  const w = lim <= -1 ? Math.PI : Math.acos(lim);
  const { x, w: gw } = gaussLegendre(ARC_NODES);
  let s = 0;
  for (const [a0, b0] of pieces) {
    const a = Math.max(a0, -w), b = Math.min(b0, w);
    if (!(b > a)) continue;
    const half = 0.5 * (b - a), mid = 0.5 * (a + b);
    for (let k = 0; k < x.length; k++) {
      s += gw[k] * half * Math.exp(-kappa * (cosMax - Math.cos(mid + half * x[k])));
    }
  }
  return Math.log(s / len) - kappa * (1 - cosMax);
}

/**
 * log p(x, y) for a blurred-arcs data set: each arc contributes weight x (its angular average of
 * the 2-D normal density), computed in log space.
 * @example
 * logDensityArcs(TOY2D_SHAPES["circles"] as BlurredArcs, 1, 0); // about 0.57: on the inner ring
 */
export function logDensityArcs(shape: BlurredArcs, x: number, y: number): number {
  const s2 = shape.sigma * shape.sigma;
  const logNorm = -Math.log(2 * Math.PI * s2);
  let max = -Infinity;
  const terms = new Float64Array(shape.arcs.length);
  shape.arcs.forEach((a, i) => {
    const dx = x - a.cx, dy = y - a.cy, r = Math.hypot(dx, dy);
    let t = Math.log(a.weight) + logNorm - (r - a.radius) ** 2 / (2 * s2);
    if (a.radius > 0 && a.to > a.from) {
      t += logArcAverage((r * a.radius) / s2, Math.atan2(dy, dx), a.from, a.to);
    }
    terms[i] = t;
    if (t > max) max = t;
  });
  let s = 0;
  for (const t of terms) s += Math.exp(t - max);
  return max + Math.log(s);
}

/**
 * log p(x, y) of a uniform-squares data set: -log(count) inside a square, -Infinity outside.
 * @example
 * logDensitySquares(TOY2D_SHAPES["checkerboard"] as UniformSquares, 0.5, 0.5); // -log 8
 */
export function logDensitySquares(shape: UniformSquares, x: number, y: number): number {
  for (const [cx, cy] of shape.corners) {
    if (x >= cx && x < cx + 1 && y >= cy && y < cy + 1) return -Math.log(shape.corners.length);
  }
  return -Infinity;
}

/**
 * The exact log density of a toy data set at (x, y).
 * @example
 * toy2dLogDensity("8gaussians", 2, 0); // log(1/8 x 1/(2 pi 0.04)) ~ -0.45 (the other modes add ~0)
 */
export function toy2dLogDensity(name: string, x: number, y: number): number {
  const shape = TOY2D_SHAPES[name];
  if (!shape) {
    throw new Error(
      `no density for toy2d data set "${name}"; known: ${Object.keys(TOY2D_SHAPES).join(", ")}`,
    );
  }
  return shape.kind === "arcs" ? logDensityArcs(shape, x, y) : logDensitySquares(shape, x, y);
}
