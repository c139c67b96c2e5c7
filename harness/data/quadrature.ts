// Quadrature rules for the toy data sets' exact densities and entropies: Gauss-Legendre on an
// interval, and the trapezoid rule for expectations under a standard normal.

const legendreCache = new Map<number, { x: Float64Array; w: Float64Array }>();

/**
 * Gauss-Legendre nodes and weights on [-1, 1] (exact for polynomials of degree < 2n), by Newton's
 * method on the Legendre polynomial P_n.
 * @example
 * const { x, w } = gaussLegendre(2); // x = [-1/sqrt(3), 1/sqrt(3)], w = [1, 1]
 */
export function gaussLegendre(n: number): { x: Float64Array; w: Float64Array } {
  if (!Number.isInteger(n) || n < 1 || n > 512) {
    throw new RangeError(`gaussLegendre: n must be an integer in 1..512, got ${n}`);
  }
  const hit = legendreCache.get(n);
  if (hit) return hit;
  const x = new Float64Array(n), w = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1, p1 = z;
      for (let k = 2; k <= n; k++) [p0, p1] = [p1, ((2 * k - 1) * z * p1 - (k - 1) * p0) / k];
      if (n === 1) p0 = 1;
      dp = (n * (z * p1 - p0)) / (z * z - 1);
      const step = p1 / dp;
      z -= step;
      if (Math.abs(step) < 1e-15) break;
    }
    {
      let p0 = 1, p1 = z;
      for (let k = 2; k <= n; k++) [p0, p1] = [p1, ((2 * k - 1) * z * p1 - (k - 1) * p0) / k];
      if (n === 1) p0 = 1;
      dp = (n * (z * p1 - p0)) / (z * z - 1);
    }
    x[i] = -z;
    x[n - 1 - i] = z;
    w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  const rule = { x, w };
  legendreCache.set(n, rule);
  return rule;
}

/**
 * Nodes and weights of the trapezoid rule for E[g(Z)], Z ~ N(0, 1): nodes k h for |k h| <= reach,
 * weights h phi(k h). For g analytic in a strip around the real line the error falls like
 * exp(-2 pi a / h) (a: the strip's half-width), far below the truncation at `reach`.
 * @example
 * const { x, w } = normalTrapezoid(0.25, 9); // sum of w * x^2 = 1 to ~1e-15
 */
export function normalTrapezoid(h: number, reach: number): { x: Float64Array; w: Float64Array } {
  if (!(h > 0) || !(reach > 0)) {
    throw new RangeError(`normalTrapezoid: h and reach must be positive, got ${h} and ${reach}`);
  }
  const k = Math.floor(reach / h);
  const x = new Float64Array(2 * k + 1), w = new Float64Array(2 * k + 1);
  for (let i = -k; i <= k; i++) {
    x[i + k] = i * h;
    w[i + k] = (h * Math.exp(-0.5 * i * i * h * h)) / Math.sqrt(2 * Math.PI);
  }
  return { x, w };
}
