// The debiased Sinkhorn divergence S_eps between two 2-D point clouds for the squared Euclidean
// cost (a W2^2 at resolution `blur`), by multiscale log-domain Sinkhorn, with a standard error.
import { pointCells, type PointCells } from "./point-cells.ts";
import { softminCells, softminDense, softminScratch } from "./softmin.ts";

/** Options for sinkhornDivergence2d. */
export interface SinkhornDivergenceOptions {
  /** Resolution in distance units: epsilon = blur^2 (squared-distance units). Default 0.05. */
  blur?: number;
  /** Each annealing stage multiplies the blur by this factor. Default 0.5. */
  scaling?: number;
  /**
   * Stop once every plan's marginals are within this L1 error at the final epsilon (the cross plan
   * a -> b and both self plans). Default 1e-4.
   */
  tol?: number;
  /** Most iterations at the final epsilon. Default 500. */
  maxIter?: number;
  /** Side of the cells that bound (prune) the cost of a soft minimum. Default 0.15. */
  cell?: number;
  /** Side of the clusters of the coarse stages (those with blur above it). Default 0.6. */
  cluster?: number;
}

/** A Sinkhorn divergence, its square root and their standard errors, and how the solve went. */
export interface SinkhornDivergence {
  /**
   * S_eps(a, b) = OT_eps(a, b) - (OT_eps(a, a) + OT_eps(b, b)) / 2 with OT_eps the entropic
   * transport cost (KL-regularised) for |x - y|^2: >= 0, 0 iff a = b, -> W2^2(a, b) as blur -> 0.
   */
  divergence: number;
  /** sqrt(max(divergence, 0)): a W2 in distance units. */
  distance: number;
  /**
   * Delta-method standard error of `divergence` over the draw of both clouds:
   * sqrt(var_a(f - p) / n + var_b(g - q) / m), f - p and g - q being its first variations (the
   * dual potentials). It is first order: it tends to 0 when both clouds come from the same
   * distribution, where the spread over held-out draws (the floor band) is the noise instead.
   */
  stderr: number;
  /** stderr / (2 distance): the standard error of `distance` (Infinity when distance is 0). */
  distanceStderr: number;
  epsilon: number;
  /** Iterations at the final epsilon (each updates all four potentials). */
  iterations: number;
  /** Largest L1 marginal error of the three plans at the end. */
  marginalError: number;
  converged: boolean;
}

/** The four soft-min half-steps: f from g, g from f, p from p, q from q (out, source potential). */
interface Solver {
  f(out: Float64Array, h: Float64Array, eps: number): void;
  g(out: Float64Array, h: Float64Array, eps: number): void;
  p(out: Float64Array, h: Float64Array, eps: number): void;
  q(out: Float64Array, h: Float64Array, eps: number): void;
}

/**
 * Sinkhorn iterations at one epsilon until all marginal errors are below tol or cap iterations:
 * alternating half-steps for the cross potentials (f, g), averaged ones for the self potentials.
 */
function iterate(
  s: Solver,
  pot: { f: Float64Array; g: Float64Array; p: Float64Array; q: Float64Array },
  eps: number,
  tol: number,
  cap: number,
): { iterations: number; err: number } {
  const { f, g, p, q } = pot;
  const nf = new Float64Array(f.length), ng = new Float64Array(g.length);
  const np = new Float64Array(p.length), nq = new Float64Array(q.length);
  let iterations = 0, ecross = Infinity, eself = Infinity;
  const mem = Number(Deno.env.get("ANDERSON") ?? 0);
  const acc = mem > 0 ? anderson(g.length, mem) : undefined;
  while (iterations < cap && !(ecross < tol && eself < tol)) {
    iterations++;
    if (!(ecross < tol)) {
      s.f(f, g, eps);
      s.g(ng, f, eps);
      ecross = marginalError(g, ng, eps);
      if (acc) acc.step(g, ng);
      else g.set(ng);
    }
    if (!(eself < tol)) {
      s.p(np, p, eps);
      s.q(nq, q, eps);
      eself = Math.max(marginalError(p, np, eps), marginalError(q, nq, eps));
      for (let i = 0; i < p.length; i++) p[i] = 0.5 * (p[i] + np[i]);
      for (let j = 0; j < q.length; j++) q[j] = 0.5 * (q[j] + nq[j]);
    }
  }
  return { iterations, err: Math.max(ecross, eself) };
}

/** Anderson acceleration (type II) of a fixed-point iteration x -> T(x), memory m. */
function anderson(n: number, m: number) {
  const dX: Float64Array[] = [], dR: Float64Array[] = [];
  let xPrev: Float64Array | undefined, rPrev: Float64Array | undefined;
  return {
    /** x: current iterate (overwritten with the next), tx: T(x). */
    step(x: Float64Array, tx: Float64Array) {
      const r = new Float64Array(n);
      for (let i = 0; i < n; i++) r[i] = tx[i] - x[i];
      if (xPrev && rPrev) {
        const dx = new Float64Array(n), dr = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          dx[i] = x[i] - xPrev[i];
          dr[i] = r[i] - rPrev[i];
        }
        dX.push(dx);
        dR.push(dr);
        if (dX.length > m) {
          dX.shift();
          dR.shift();
        }
      }
      xPrev = Float64Array.from(x);
      rPrev = r;
      const k = dR.length;
      if (k === 0) {
        x.set(tx);
        return;
      }
      // gamma = argmin |r - dR gamma|^2 (+ a small ridge)
      const G = new Float64Array(k * k), b = new Float64Array(k);
      let tr = 0;
      for (let a = 0; a < k; a++) {
        for (let c = 0; c <= a; c++) {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += dR[a][i] * dR[c][i];
          G[a * k + c] = G[c * k + a] = sum;
        }
        tr += G[a * k + a];
        let sb = 0;
        for (let i = 0; i < n; i++) sb += dR[a][i] * r[i];
        b[a] = sb;
      }
      for (let a = 0; a < k; a++) G[a * k + a] += 1e-10 * tr + 1e-300;
      const gamma = solveSym(G, b, k);
      for (let i = 0; i < n; i++) {
        let v = x[i] + r[i];
        for (let a = 0; a < k; a++) v -= gamma[a] * (dX[a][i] + dR[a][i]);
        x[i] = v;
      }
    },
  };
}

/** Solve the k x k system G y = b by Gaussian elimination with partial pivoting. */
function solveSym(G: Float64Array, b: Float64Array, k: number): Float64Array {
  const A = Float64Array.from(G), y = Float64Array.from(b);
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(A[r * k + c]) > Math.abs(A[piv * k + c])) piv = r;
    for (let j = 0; j < k; j++) [A[c * k + j], A[piv * k + j]] = [A[piv * k + j], A[c * k + j]];
    [y[c], y[piv]] = [y[piv], y[c]];
    for (let r = c + 1; r < k; r++) {
      const t = A[r * k + c] / A[c * k + c];
      for (let j = c; j < k; j++) A[r * k + j] -= t * A[c * k + j];
      y[r] -= t * y[c];
    }
  }
  for (let c = k - 1; c >= 0; c--) {
    let v = y[c];
    for (let j = c + 1; j < k; j++) v -= A[c * k + j] * y[j];
    y[c] = v / A[c * k + c];
  }
  return y;
}

/** Coarse clusters of a cloud: centroids, log masses. */
function clusters(c: PointCells): { xy: Float64Array; logW: Float64Array } {
  const logW = new Float64Array(c.cells);
  for (let k = 0; k < c.cells; k++) logW[k] = Math.log((c.start[k + 1] - c.start[k]) / c.n);
  return { xy: c.centroid, logW };
}

/** L1 error sum_i (1/n) |exp((old_i - new_i) / eps) - 1| of the marginal a half-step fixes. */
function marginalError(old: Float64Array, next: Float64Array, eps: number): number {
  let e = 0;
  for (let i = 0; i < old.length; i++) e += Math.abs(Math.exp((old[i] - next[i]) / eps) - 1);
  return e / old.length;
}

function toF64(x: Float32Array | Float64Array, name: string): Float64Array {
  if (x.length % 2 !== 0 || x.length === 0) {
    throw new RangeError(
      `sinkhornDivergence2d: ${name} must hold 2-D points (a positive even count of values), ` +
        `got ${x.length} values`,
    );
  }
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

function mean(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Unbiased variance of x - y. */
function varianceOfDifference(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  if (n < 2) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] - y[i];
  const m = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i] - y[i] - m) ** 2;
  return v / (n - 1);
}

/**
 * The debiased Sinkhorn divergence between the uniform empirical measures of a and b (2-D
 * points, row-major; the counts may differ) for the cost |x - y|^2 at epsilon = blur^2, with its
 * delta-method standard error. Epsilon is annealed from the clouds' diameter down to the blur
 * (first on coarse clusters, then on the points, with soft minima that skip provably negligible
 * cells), then iterated to convergence; self plans by averaged symmetric updates.
 * @example
 * const s = sinkhornDivergence2d(samples, heldOut, { blur: 0.05 });
 * s.distance; // a W2 at resolution 0.05, e.g. 0.21
 */
export function sinkhornDivergence2d(
  a: Float32Array | Float64Array,
  b: Float32Array | Float64Array,
  opts: SinkhornDivergenceOptions = {},
): SinkhornDivergence {
  const blur = opts.blur ?? 0.05, scaling = opts.scaling ?? 0.5, tol = opts.tol ?? 1e-4;
  const maxIter = opts.maxIter ?? 500, cell = opts.cell ?? 0.15, cluster = opts.cluster ?? 0.6;
  const positive = { blur, tol, cell, cluster };
  for (const [k, v] of Object.entries(positive)) {
    if (!(v > 0) || !Number.isFinite(v)) {
      throw new RangeError(`sinkhornDivergence2d: ${k} must be a positive number, got ${v}`);
    }
  }
  if (!(scaling > 0 && scaling < 1)) {
    throw new RangeError(`sinkhornDivergence2d: scaling must be in (0, 1), got ${scaling}`);
  }
  if (!(maxIter >= 1)) {
    throw new RangeError(`sinkhornDivergence2d: maxIter must be >= 1, got ${maxIter}`);
  }
  const A = pointCells(toF64(a, "a"), cell), B = pointCells(toF64(b, "b"), cell);
  const n = A.n, m = B.n;

  // Annealing: blur from the diameter of both clouds down to the target.
  let lo0 = Infinity, hi0 = -Infinity, lo1 = Infinity, hi1 = -Infinity;
  for (const c of [A, B]) {
    for (let k = 0; k < c.n; k++) {
      lo0 = Math.min(lo0, c.xy[2 * k]);
      hi0 = Math.max(hi0, c.xy[2 * k]);
      lo1 = Math.min(lo1, c.xy[2 * k + 1]);
      hi1 = Math.max(hi1, c.xy[2 * k + 1]);
    }
  }
  const blurs: number[] = [];
  for (let s = Math.hypot(hi0 - lo0, hi1 - lo1); s > blur; s *= scaling) blurs.push(s);
  blurs.push(blur);

  const stageTol = Number(Deno.env.get("STAGETOL") ?? 0.01);
  const stageCap = Number(Deno.env.get("STAGECAP") ?? 100);
  const dbg = (...x: unknown[]) => Deno.env.get("SDEBUG") && console.log(...x);
  // Coarse stages on clusters while the blur is above the cluster size.
  const cA = clusters(pointCells(A.xy, cluster)), cB = clusters(pointCells(B.xy, cluster));
  const fc = new Float64Array(cA.logW.length), pc = new Float64Array(cA.logW.length);
  const gc = new Float64Array(cB.logW.length), qc = new Float64Array(cB.logW.length);
  const coarse: Solver = {
    f: (out, h, eps) => softminDense(out, cA.xy, cB.xy, cB.logW, h, eps),
    g: (out, h, eps) => softminDense(out, cB.xy, cA.xy, cA.logW, h, eps),
    p: (out, h, eps) => softminDense(out, cA.xy, cA.xy, cA.logW, h, eps),
    q: (out, h, eps) => softminDense(out, cB.xy, cB.xy, cB.logW, h, eps),
  };
  let stage = 0;
  for (; stage < blurs.length - 1 && blurs[stage] > cluster; stage++) {
    const r = iterate(coarse, { f: fc, g: gc, p: pc, q: qc }, blurs[stage] ** 2, stageTol, stageCap);
    dbg("coarse", blurs[stage], r);
  }

  // Onto the points: one half-step from the cluster potentials at the current epsilon.
  let eps = blurs[stage] ** 2;
  const f = new Float64Array(n), p = new Float64Array(n);
  const g = new Float64Array(m), q = new Float64Array(m);
  softminDense(f, A.xy, cB.xy, cB.logW, gc, eps);
  softminDense(g, B.xy, cA.xy, cA.logW, fc, eps);
  softminDense(p, A.xy, cA.xy, cA.logW, pc, eps);
  softminDense(q, B.xy, cB.xy, cB.logW, qc, eps);

  const sA = softminScratch(A), sB = softminScratch(B);
  const fine: Solver = {
    f: (out, h, eps) => softminCells(out, A.xy, B, h, eps, sB),
    g: (out, h, eps) => softminCells(out, B.xy, A, h, eps, sA),
    p: (out, h, eps) => softminCells(out, A.xy, A, h, eps, sA),
    q: (out, h, eps) => softminCells(out, B.xy, B, h, eps, sB),
  };
  const pot = { f, g, p, q };
  for (; stage < blurs.length - 1; stage++) {
    const r = iterate(fine, pot, blurs[stage] ** 2, stageTol, stageCap);
    dbg("fine", blurs[stage], r);
  }
  eps = blurs[stage] ** 2;
  const { iterations, err } = iterate(fine, pot, eps, tol, maxIter);
  dbg("final", blurs[stage], iterations, err);
  const nf = new Float64Array(n), ng = new Float64Array(m);
  const np = new Float64Array(n), nq = new Float64Array(m);

  // Dual values with one marginal exact (a plain half-step): OT_eps(a, b) ~ <a, f> + <b, g~>,
  // OT_eps(a, a) ~ <a, p> + <a, p~>, the same for b; first variations f - p and g~ - q.
  softminCells(ng, B.xy, A, f, eps, sA);
  softminCells(np, A.xy, A, p, eps, sA);
  softminCells(nq, B.xy, B, q, eps, sB);
  const divergence = mean(f) + mean(ng) - 0.5 * (mean(p) + mean(np)) -
    0.5 * (mean(q) + mean(nq));
  for (let i = 0; i < n; i++) np[i] = 0.5 * (p[i] + np[i]);
  for (let j = 0; j < m; j++) nq[j] = 0.5 * (q[j] + nq[j]);
  const stderr = Math.sqrt(varianceOfDifference(f, np) / n + varianceOfDifference(ng, nq) / m);
  const distance = Math.sqrt(Math.max(divergence, 0));
  return {
    divergence,
    distance,
    stderr,
    distanceStderr: distance > 0 ? stderr / (2 * distance) : Infinity,
    epsilon: eps,
    iterations,
    marginalError: err,
    converged: err < tol,
  };
}
