// The true differential entropy (nats) of each 2-D toy data set: the lowest mean NLL any model can
// reach on it. Closed form where there is one, deterministic quadrature of -E log p otherwise.
import { logDensityArcs, TOY2D_SHAPES } from "./toy2d-density.ts";
import { gaussLegendre, normalTrapezoid } from "./quadrature.ts";
import type { BlurredArcs } from "./toy2d-density.ts";

/** A data set's entropy: its value, an error bound, and how it was obtained. */
export interface Toy2dEntropy {
  /** Differential entropy -E log p in nats (per 2-D point). */
  nats: number;
  /**
   * Uncertainty of `nats`: 0 for a closed form; for quadrature, |this rule - a rule of half the
   * resolution| (the rule used is far more accurate than that difference: it bounds the error).
   */
  stderr: number;
  /** How the value was computed, in one sentence. */
  how: string;
}

/** Resolution of a quadrature of -E log p over a blurred-arcs data set. */
interface Resolution {
  /** Trapezoid step for each standard-normal noise coordinate. */
  h: number;
  /** Gauss-Legendre panels per radian of arc, and nodes per panel. */
  panelsPerRadian: number;
  nodes: number;
}

// Measured: halving FINE's step (h 0.3, 8 panels per radian) moves moons, circles and
// 8gaussians by under 2e-9 nats; COARSE differs from FINE by 2e-12 (circles), 5e-8 (moons) and
// 3e-7 (8gaussians): the stated bound is far above the error.
const FINE: Resolution = { h: 0.6, panelsPerRadian: 4, nodes: 8 };
const COARSE: Resolution = { h: 0.8, panelsPerRadian: 2, nodes: 8 };
/** Noise coordinates beyond this many standard deviations carry less than e^-40 of the mass. */
const REACH = 9;

/**
 * -E log p for a blurred-arcs data set: sum over arcs of weight x E over a uniform angle on the
 * arc (composite Gauss-Legendre) and N(0, 1) normal and tangential noise (trapezoid rule) of
 * -log p at the point, p by logDensityArcs. Arcs that are images of others under a symmetry of
 * the whole density may be skipped by passing `arcs` (their weights are then renormalised).
 */
function arcsEntropy(shape: BlurredArcs, res: Resolution, arcs: number[], full: boolean): number {
  const { x: zx, w: zw } = normalTrapezoid(res.h, REACH);
  const gl = gaussLegendre(res.nodes);
  const s = shape.sigma;
  let total = 0, weight = 0;
  for (const i of arcs) {
    const a = shape.arcs[i];
    // Angles: one node when the whole density is invariant under rotation about the arc's centre.
    const thetas: number[] = [], tw: number[] = [];
    if (full) {
      thetas.push(a.from);
      tw.push(1);
    } else {
      const len = a.to - a.from, panels = Math.max(1, Math.ceil(len * res.panelsPerRadian));
      for (let p = 0; p < panels; p++) {
        const lo = a.from + (p * len) / panels, half = len / panels / 2;
        for (let k = 0; k < gl.x.length; k++) {
          thetas.push(lo + half * (1 + gl.x[k]));
          tw.push((gl.w[k] * half) / len);
        }
      }
    }
    let e = 0;
    for (let t = 0; t < thetas.length; t++) {
      const c = Math.cos(thetas[t]), sn = Math.sin(thetas[t]);
      let inner = 0;
      for (let u = 0; u < zx.length; u++) {
        for (let v = 0; v < zx.length; v++) {
          const wt = zw[u] * zw[v];
          if (wt < 1e-18) continue;
          // Normal offset zx[u], tangential zx[v], in units of sigma.
          const rr = a.radius + s * zx[u], tt = s * zx[v];
          const px = a.cx + rr * c - tt * sn, py = a.cy + rr * sn + tt * c;
          inner -= wt * logDensityArcs(shape, px, py);
        }
      }
      e += tw[t] * inner;
    }
    total += a.weight * e;
    weight += a.weight;
  }
  return total / weight;
}

/** How each data set's entropy is computed: the arcs to integrate and whether angles matter. */
const ARC_PLANS: Record<string, { arcs: number[]; full: boolean; why: string }> = {
  // The two moons are images of each other under x -> -x, so one arc gives the mean.
  moons: { arcs: [0], full: false, why: "one moon (the other is its mirror image through 0)" },
  // Both rings are centred at 0: the density is rotation invariant, one angle per ring suffices.
  circles: { arcs: [0, 1], full: true, why: "both rings (rotation invariant: one angle each)" },
  // The eight modes are rotations of one another.
  "8gaussians": { arcs: [0], full: true, why: "one mode (the others are its rotations)" },
};

function quadratureEntropy(name: string): Toy2dEntropy {
  const shape = TOY2D_SHAPES[name] as BlurredArcs;
  const plan = ARC_PLANS[name];
  const fine = arcsEntropy(shape, FINE, plan.arcs, plan.full);
  const coarse = arcsEntropy(shape, COARSE, plan.arcs, plan.full);
  const curve = name === "8gaussians"
    ? "-E log p of the 8-mode mixture (its modes overlap slightly, so not exactly " +
      "log 8 + log(2 pi e sigma^2))"
    : "-E log p of the arcs blurred by Gaussian noise, p by Gauss-Legendre along each arc";
  return {
    nats: fine,
    stderr: Math.abs(fine - coarse),
    how: `${curve}, expectation by quadrature over ${plan.why}: composite Gauss-Legendre in ` +
      `angle, trapezoid rule (step ${FINE.h} sd) in the noise; error bound: the difference ` +
      `from a rule of half the resolution`,
  };
}

const cache = new Map<string, Toy2dEntropy>();

/**
 * The true differential entropy of a toy data set (memoised; the first call per data set takes
 * a fraction of a second): checkerboard log 8 (uniform on 8 unit squares), the others by
 * quadrature of -E log p under their exact density.
 * @example
 * toy2dEntropy("checkerboard"); // { nats: 2.0794..., stderr: 0, how: "closed form: ..." }
 */
export function toy2dEntropy(name: string): Toy2dEntropy {
  const hit = cache.get(name);
  if (hit) return hit;
  const shape = TOY2D_SHAPES[name];
  if (!shape) {
    throw new Error(
      `no entropy for toy2d data set "${name}"; known: ${Object.keys(TOY2D_SHAPES).join(", ")}`,
    );
  }
  const value: Toy2dEntropy = shape.kind === "squares"
    ? {
      nats: Math.log(shape.corners.length),
      stderr: 0,
      how: `closed form: uniform on ${shape.corners.length} disjoint unit squares, ` +
        `log(area) = log ${shape.corners.length}`,
    }
    : quadratureEntropy(name);
  cache.set(name, value);
  return value;
}
