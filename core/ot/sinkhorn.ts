// Entropic optimal transport between two uniform discrete measures by Sinkhorn with log-domain
// potentials (stable for small epsilon; epsilon scaling for speed), and seeded sampling of pairs
// from the resulting plan.
import { rng } from "../rng.ts";

/** Options for sinkhorn(). */
export interface SinkhornOptions {
  /** Stop once the row marginals are within this L1 (total variation x 2) error. Default 1e-6. */
  tol?: number;
  /** Most Sinkhorn iterations (each updates both potentials), all stages together. Default 5000. */
  maxIter?: number;
  /**
   * Anneal epsilon from the cost range down to the target, halving it each stage and warm
   * starting the potentials: the same fixed point, in fewer iterations when epsilon is small.
   * Default: on when epsilon < (max cost - min cost) / 200, where it pays for its extra stages.
   */
  epsScaling?: boolean;
  /**
   * "stabilized" (default): Sinkhorn scalings on a kernel exp((f + g - C) / eps) whose log
   * potentials f, g absorb the scalings whenever they leave [e^-50, e^50] (Schmitzer 2019), so an
   * iteration is two matrix-vector products instead of n*m exps; "log": every iteration in the
   * log domain (log-sum-exp). Both converge to the same plan; "log" is the slow reference.
   */
  mode?: "stabilized" | "log";
}

/** The entropic plan and how the iteration went. */
export interface SinkhornResult {
  /** Row-major n x m plan; sums to 1, rows to 1/n, columns to 1/m (columns exactly). */
  plan: Float64Array;
  /** Dual potentials in cost units: plan[i][j] = exp((f[i] + g[j] - cost[i][j]) / epsilon). */
  f: Float64Array;
  g: Float64Array;
  /** Transport cost of the plan, sum_ij plan[i][j] cost[i][j] (a mean cost per unit mass). */
  cost: number;
  iterations: number;
  /** L1 distance of the plan's row sums from uniform (its column sums are uniform). */
  marginalError: number;
  converged: boolean;
}

/**
 * Sinkhorn for min <C, P> - epsilon H(P) over plans P with uniform marginals (1/n rows, 1/m
 * columns), H(P) = -sum P log P. `cost` is row-major n x m; epsilon is in the cost's units.
 * The potentials live in the log domain, so no exp(-C / epsilon) ever has to be representable;
 * see SinkhornOptions.mode. Returns the last iterate when maxIter is reached (converged false);
 * its columns are exact, its rows off by marginalError.
 * @example
 * const { plan } = sinkhorn(sqdist(a, b, n, n, d), n, n, 0.05);
 */
export function sinkhorn(
  cost: Float64Array,
  n: number,
  m: number,
  epsilon: number,
  opts: SinkhornOptions = {},
): SinkhornResult {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(m) || m < 1) {
    throw new RangeError(`sinkhorn: n and m must be positive integers, got n=${n}, m=${m}`);
  }
  if (cost.length !== n * m) {
    throw new RangeError(`sinkhorn: cost has length ${cost.length}, expected n*m = ${n * m}`);
  }
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) {
    throw new RangeError(`sinkhorn: epsilon must be a positive finite number, got ${epsilon}`);
  }
  const tol = opts.tol ?? 1e-6;
  const maxIter = opts.maxIter ?? 5000;
  if (!(tol > 0)) throw new RangeError(`sinkhorn: tol must be > 0, got ${tol}`);
  if (!(maxIter >= 1)) throw new RangeError(`sinkhorn: maxIter must be >= 1, got ${maxIter}`);

  let cmin = Infinity, cmax = -Infinity;
  for (let k = 0; k < cost.length; k++) {
    const c = cost[k];
    if (!Number.isFinite(c)) {
      throw new RangeError(
        `sinkhorn: cost[${Math.floor(k / m)}][${k % m}] = ${c} is not finite; costs must be finite`,
      );
    }
    if (c < cmin) cmin = c;
    if (c > cmax) cmax = c;
  }
  // Transposed copy so the column update also reads memory contiguously.
  const costT = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) costT[j * n + i] = cost[i * m + j];
  }

  const f = new Float64Array(n), g = new Float64Array(m);
  const logA = -Math.log(n), logB = -Math.log(m);
  const mode = opts.mode ?? "stabilized";
  if (mode !== "stabilized" && mode !== "log") {
    throw new RangeError(`sinkhorn: mode must be "stabilized" or "log", got "${mode}"`);
  }

  // Epsilon schedule: from the cost range down to epsilon, halving; the last stage is epsilon.
  const stages: number[] = [];
  if (opts.epsScaling ?? epsilon < (cmax - cmin) / 200) {
    for (let e = Math.max(cmax - cmin, epsilon); e > 2 * epsilon; e /= 2) stages.push(e);
  }
  stages.push(epsilon);

  const K = mode === "stabilized" ? new Float64Array(n * m) : new Float64Array(0);
  const u = new Float64Array(n), v = new Float64Array(m);
  const Kv = new Float64Array(n), KTu = new Float64Array(m);
  let iterations = 0, err = Infinity;
  const done = () => iterations >= maxIter;

  for (let s = 0; s < stages.length && !done(); s++) {
    const eps = stages[s];
    // Intermediate stages only need rough convergence to warm-start the next stage.
    const stageTol = s === stages.length - 1 ? tol : Math.max(tol, 0.1);
    let e = Infinity;
    err = Infinity;
    if (s === 0 || mode === "log") {
      // A log-domain iteration centres the potentials at this epsilon (exact, never underflows).
      // Later stabilized stages skip it: their warm potentials already fit, and a kernel row
      // that underflows is caught below and handled the same way.
      e = logUpdate(f, g, cost, n, m, logA, eps);
      logUpdate(g, f, costT, m, n, logB, eps);
      iterations++;
      if (s > 0) err = e;
    }
    if (mode === "log") {
      while (!(err < stageTol) && !done()) {
        err = logUpdate(f, g, cost, n, m, logA, eps);
        logUpdate(g, f, costT, m, n, logB, eps);
        iterations++;
      }
      continue;
    }
    // Stabilized iterations: plan = diag(u) K diag(v) with K = exp((f + g - C) / eps), u, v ~ 1.
    buildKernel(K, f, g, cost, n, m, eps);
    u.fill(1);
    v.fill(1);
    while (!(err < stageTol) && !done()) {
      iterations++;
      // Row step (its error is the current plan's row error: the columns are exact).
      e = 0;
      let ok = true;
      for (let i = 0; i < n; i++) {
        const o = i * m;
        let t = 0;
        for (let j = 0; j < m; j++) t += K[o + j] * v[j];
        Kv[i] = t;
        e += Math.abs(u[i] * t - 1 / n);
        if (!(t > TINY && t < HUGE)) ok = false;
      }
      if (ok) {
        for (let i = 0; i < n; i++) u[i] = 1 / (n * Kv[i]);
        KTu.fill(0);
        for (let i = 0; i < n; i++) {
          const o = i * m, ui = u[i];
          for (let j = 0; j < m; j++) KTu[j] += K[o + j] * ui;
        }
        for (let j = 0; j < m; j++) if (!(KTu[j] > TINY && KTu[j] < HUGE)) ok = false;
      }
      if (ok) {
        for (let j = 0; j < m; j++) v[j] = 1 / (m * KTu[j]);
        err = e;
        ok = scalingsModerate(u, v);
      }
      if (!ok) {
        // Scalings grew too large or small: absorb them into the potentials, re-centre in the
        // log domain (this iteration), and rebuild the kernel.
        absorb(f, u, eps);
        absorb(g, v, eps);
        err = logUpdate(f, g, cost, n, m, logA, eps);
        logUpdate(g, f, costT, m, n, logB, eps);
        buildKernel(K, f, g, cost, n, m, eps);
        u.fill(1);
        v.fill(1);
      }
    }
    absorb(f, u, eps);
    absorb(g, v, eps);
  }
  // Measure the final row error exactly (the last update left the columns exact).
  const inv = 1 / epsilon;
  err = 0;
  for (let i = 0; i < n; i++) {
    const o = i * m;
    let t = 0;
    for (let j = 0; j < m; j++) t += Math.exp((f[i] + g[j] - cost[o + j]) * inv);
    err += Math.abs(t - 1 / n);
  }

  const plan = new Float64Array(n * m);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const k = i * m + j;
      const p = Math.exp((f[i] + g[j] - cost[k]) / epsilon);
      plan[k] = p;
      total += p * cost[k];
    }
  }
  return { plan, f, g, cost: total, iterations, marginalError: err, converged: err < tol };
}

/** Scaling sums outside [TINY, HUGE], or scalings beyond e^+-LOG_BOUND, trigger absorption. */
const TINY = 1e-200, HUGE = 1e200, LOG_BOUND = 50;
/** Terms more than 40 below a row's largest exponent add < e^-40 relative: their exp is skipped. */
const SKIP = -40;

/**
 * One log-domain half-step: out[r] = eps log(mass) - eps LSE_c((other[c] - C[r][c]) / eps) for C
 * row-major nr x nc. Returns the L1 marginal error the old `out` had, read off for free: the old
 * row's mass was mass * exp((old - new) / eps).
 */
function logUpdate(
  out: Float64Array,
  other: Float64Array,
  c: Float64Array,
  nr: number,
  nc: number,
  logMass: number,
  eps: number,
): number {
  const inv = 1 / eps, mass = Math.exp(logMass);
  let err = 0;
  for (let r = 0; r < nr; r++) {
    const o = r * nc;
    let mx = -Infinity;
    for (let k = 0; k < nc; k++) {
      const z = other[k] - c[o + k];
      if (z > mx) mx = z;
    }
    let s = 0;
    for (let k = 0; k < nc; k++) {
      const z = (other[k] - c[o + k] - mx) * inv;
      if (z > SKIP) s += Math.exp(z);
    }
    const next = eps * logMass - mx - eps * Math.log(s);
    err += mass * Math.abs(Math.exp((out[r] - next) * inv) - 1);
    out[r] = next;
  }
  return err;
}

/** K[i][j] = exp((f[i] + g[j] - C[i][j]) / eps). */
function buildKernel(
  K: Float64Array,
  f: Float64Array,
  g: Float64Array,
  c: Float64Array,
  n: number,
  m: number,
  eps: number,
): void {
  const inv = 1 / eps;
  for (let i = 0; i < n; i++) {
    const o = i * m, fi = f[i];
    for (let j = 0; j < m; j++) {
      const z = (fi + g[j] - c[o + j]) * inv;
      K[o + j] = z > -700 ? Math.exp(z) : 0;
    }
  }
}

function scalingsModerate(u: Float64Array, v: Float64Array): boolean {
  const hi = Math.exp(LOG_BOUND), lo = Math.exp(-LOG_BOUND);
  for (let i = 0; i < u.length; i++) if (!(u[i] < hi && u[i] > lo)) return false;
  for (let j = 0; j < v.length; j++) if (!(v[j] < hi && v[j] > lo)) return false;
  return true;
}

/** Move a scaling into its potential: pot += eps log(scale); scale becomes 1. */
function absorb(pot: Float64Array, scale: Float64Array, eps: number): void {
  for (let k = 0; k < pot.length; k++) {
    pot[k] += eps * Math.log(scale[k]);
    scale[k] = 1;
  }
}

/**
 * Draw `count` index pairs (i, j) independently with probability plan[i][j] / sum(plan), seeded
 * (as TorchCFM samples a minibatch coupling from an OT plan: with replacement).
 * @example
 * const { rows, cols } = samplePairs(plan, n, m, n, seed); // pair x0[rows[k]] with x1[cols[k]]
 */
export function samplePairs(
  plan: Float64Array,
  n: number,
  m: number,
  count: number,
  seed: number,
): { rows: Int32Array; cols: Int32Array } {
  if (plan.length !== n * m) {
    throw new RangeError(`samplePairs: plan has length ${plan.length}, expected n*m = ${n * m}`);
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`samplePairs: count must be a non-negative integer, got ${count}`);
  }
  const cdf = new Float64Array(plan.length);
  let acc = 0;
  for (let k = 0; k < plan.length; k++) {
    const p = plan[k];
    if (!(p >= 0) || !Number.isFinite(p)) {
      throw new RangeError(`samplePairs: plan[${k}] = ${p}; entries must be finite and >= 0`);
    }
    acc += p;
    cdf[k] = acc;
  }
  if (!(acc > 0)) throw new RangeError("samplePairs: plan has zero total mass");
  const u = rng(seed);
  const rows = new Int32Array(count), cols = new Int32Array(count);
  for (let s = 0; s < count; s++) {
    const target = u() * acc;
    // First k with cdf[k] > target; zero-mass cells are never chosen.
    let lo = 0, hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    rows[s] = Math.floor(lo / m);
    cols[s] = lo % m;
  }
  return { rows, cols };
}
