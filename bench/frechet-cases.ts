// Covariance pairs with known spectra for the Frechet distance checks and benchmark: S = Q diag(l)
// Q^T with Q a product of seeded random Householder reflectors (dense, cheap to build at d = 2048).
import { normals, rng } from "../core/rng.ts";
import type { GaussianStats } from "../features/frechet.ts";

/** Apply S <- H S H with H = I - 2 v v^T / (v.v), in place (S symmetric, row-major). */
function reflect(s: Float64Array, d: number, v: Float64Array): void {
  let vv = 0;
  for (let i = 0; i < d; i++) vv += v[i] * v[i];
  const sv = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let acc = 0;
    const r = i * d;
    for (let j = 0; j < d; j++) acc += s[r + j] * v[j];
    sv[i] = acc;
  }
  let vsv = 0;
  for (let i = 0; i < d; i++) vsv += v[i] * sv[i];
  const c = 2 / vv, c2 = (4 * vsv) / (vv * vv);
  for (let i = 0; i < d; i++) {
    const r = i * d, vi = v[i], si = sv[i];
    for (let j = 0; j < d; j++) s[r + j] += -c * (vi * sv[j] + si * v[j]) + c2 * vi * v[j];
  }
}

/**
 * A dense symmetric PSD matrix with eigenvalues `l`, mixed by `reflectors` seeded reflectors.
 * @example
 * const s = spectrumMatrix([1, 2, 3], 7); // eigenvalues 1, 2, 3; dense
 */
export function spectrumMatrix(l: ArrayLike<number>, seed: number, reflectors = 16): Float64Array {
  const d = l.length;
  const s = new Float64Array(d * d);
  for (let i = 0; i < d; i++) s[i * d + i] = l[i];
  const z = normals(rng(seed), reflectors * d);
  for (let k = 0; k < reflectors; k++) {
    reflect(s, d, Float64Array.from(z.subarray(k * d, (k + 1) * d)));
  }
  // Symmetrise the round-off.
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      s[i * d + j] = s[j * d + i] = 0.5 * (s[i * d + j] + s[j * d + i]);
    }
  }
  return s;
}

/**
 * Spectra of the cases: "well" uniform in [0.5, 2]; "ill" log-uniform over 6 decades (condition
 * ~1e6, like Inception features' covariances); "very-ill" over 12 decades. A `rank` < d leaves
 * exact zeros (a covariance of n <= d samples).
 */
export type SpectrumKind = "well" | "ill" | "very-ill";

function spectrum(d: number, kind: SpectrumKind, rank: number, seed: number): Float64Array {
  const u = rng(seed);
  const decades = kind === "ill" ? 6 : 12;
  return Float64Array.from({ length: d }, (_, i) => {
    if (i >= rank) return 0;
    return kind === "well" ? 0.5 + 1.5 * u() : 10 ** (2 - decades * u());
  });
}

/** One benchmark case: two Gaussians and a description. */
export interface FrechetCase {
  name: string;
  a: GaussianStats;
  b: GaussianStats;
}

/**
 * The cases of tests/frechet_test.ts and bench:micro at dimension d: well-conditioned, ill- and
 * very ill-conditioned, and rank-deficient (a generated side of n < d samples; both sides short
 * of rank).
 * @example
 * const cases = frechetCases(64); // small, for tests; bench uses d = 2048
 */
export function frechetCases(d: number): FrechetCase[] {
  const g = (kind: SpectrumKind, rank: number, seed: number): GaussianStats => ({
    dim: d,
    n: rank + 1,
    mu: Float64Array.from(normals(rng(seed + 1000), d)),
    sigma: spectrumMatrix(spectrum(d, kind, rank, seed), seed + 1),
  });
  const half = Math.max(2, Math.floor(d / 2));
  const quarter = Math.max(2, Math.floor(d / 4));
  return [
    { name: "well-conditioned", a: g("well", d, 1), b: g("well", d, 2) },
    { name: "ill-conditioned (cond 1e6)", a: g("ill", d, 3), b: g("ill", d, 4) },
    { name: "very ill-conditioned (cond 1e12)", a: g("very-ill", d, 9), b: g("very-ill", d, 10) },
    { name: `n < d: generated rank ${half}`, a: g("ill", d, 5), b: g("ill", half, 6) },
    { name: `n < d: ranks ${quarter} and ${half}`, a: g("ill", quarter, 7), b: g("well", half, 8) },
  ];
}
