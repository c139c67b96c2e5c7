// GroupNorm(+SiLU) forward and gradient as plain loops over float32 arrays (no tfjs): the
// arithmetic of backend/group-norm-kernel.ts, which a helper thread can run on a share of examples.

/**
 * The layout of a GroupNorm input: b examples of n pixels with c channels innermost, in groups
 * of c / groups channels.
 * @example
 * const d: GroupNormDims = { b: 2, n: 16, c: 8, groups: 4 }; // x [2, 4, 4, 8]
 */
export interface GroupNormDims {
  b: number;
  n: number;
  c: number;
  groups: number;
}

/** Reused float64 scratch of c entries per slot. */
const scratch: Float64Array[] = [];
function buf(slot: number, c: number): Float64Array {
  if (!scratch[slot] || scratch[slot].length < c) scratch[slot] = new Float64Array(c);
  return scratch[slot].subarray(0, c);
}

/**
 * GroupNorm forward: per example and group, mean and variance, then
 * z = (x - mean) * rstd * gamma + beta with rstd = 1 / sqrt(variance + eps): two passes over x.
 * The statistics are one pass of float64 sums of x - x0 and (x - x0)^2 per channel, shifted by
 * the channel's value x0 at the example's first pixel (so a large mean does not cancel), and
 * combined exactly per group. stats[(e * groups + g) * 2 + {0, 1}] = mean, rstd.
 * @example
 * const x = Float32Array.of(1, 3), z = new Float32Array(2), stats = new Float32Array(2);
 * groupNormForward(x, Float32Array.of(1, 1), Float32Array.of(0, 0),
 *   { b: 1, n: 1, c: 2, groups: 1 }, 0, z, stats); // z = [-1, 1], stats = [2, 1]
 */
export function groupNormForward(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  d: GroupNormDims,
  eps: number,
  z: Float32Array,
  stats: Float32Array,
): void {
  const { b, n, c, groups } = d;
  const s1 = buf(0, c), s2 = buf(1, c), x0 = buf(4, c);
  for (let e = 0; e < b; e++) {
    const base = e * n * c;
    s1.fill(0);
    s2.fill(0);
    for (let k = 0; k < c; k++) x0[k] = x[base + k];
    for (let p = 0, o = base; p < n; p++, o += c) {
      for (let k = 0; k < c; k++) {
        const v = x[o + k] - x0[k];
        s1[k] += v;
        s2[k] += v * v;
      }
    }
    statsFromSums({ s1, s2, x0 }, d, eps, stats.subarray(e * groups * 2, (e + 1) * groups * 2));
  }
  // Pass 2: the affine, from the statistics.
  groupNormAffine(x, gamma, beta, stats, d, z);
}

/**
 * One example's statistics from its per-channel sums: s1 = sum (x - x0), s2 = sum (x - x0)^2
 * over its n pixels (x0 the channel's first value), combined exactly per group into
 * stats[g * 2 + {0, 1}] = mean, rstd. Shared by the JS loops and the SIMD kernels.
 * @example
 * const stats = new Float32Array(2);
 * statsFromSums({ s1: Float64Array.of(2), s2: Float64Array.of(4), x0: Float64Array.of(1) },
 *   { b: 1, n: 2, c: 1, groups: 1 }, 0, stats); // stats = [2, 1]
 */
export function statsFromSums(
  sums: { s1: Float64Array; s2: Float64Array; x0: Float64Array },
  d: GroupNormDims,
  eps: number,
  stats: Float32Array,
): void {
  const { s1, s2, x0 } = sums;
  const { n, c, groups } = d;
  const per = c / groups, count = n * per;
  for (let g = 0; g < groups; g++) {
    let sum = 0;
    for (let k = g * per; k < (g + 1) * per; k++) sum += s1[k] + n * x0[k];
    const m = sum / count;
    // sum over the group of (x - m)^2 = sum_k s2 + 2 (x0 - m) s1 + n (x0 - m)^2.
    let sq = 0;
    for (let k = g * per; k < (g + 1) * per; k++) {
      const dm = x0[k] - m;
      sq += s2[k] + 2 * dm * s1[k] + n * dm * dm;
    }
    stats[g * 2] = m;
    stats[g * 2 + 1] = 1 / Math.sqrt(Math.max(sq, 0) / count + eps);
  }
}

/**
 * One example's affine as per-channel float64 scale and shift: a = rstd gamma,
 * sh = beta - mean a, from its stats [groups, 2]. Shared by the JS loops and the SIMD kernels.
 * @example
 * const a = new Float64Array(1), sh = new Float64Array(1);
 * affineCoefs(Float32Array.of(2, 1), Float32Array.of(2), Float32Array.of(1), 1, { a, sh });
 * // a = [2], sh = [-3]
 */
export function affineCoefs(
  stats: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  groups: number,
  out: { a: Float64Array; sh: Float64Array },
): void {
  const c = out.a.length, per = c / groups;
  for (let g = 0; g < groups; g++) {
    const m = stats[g * 2], r = stats[g * 2 + 1];
    for (let k = g * per; k < (g + 1) * per; k++) {
      out.a[k] = r * gamma[k];
      out.sh[k] = beta[k] - m * out.a[k];
    }
  }
}

/**
 * z = (x - mean) * rstd * gamma + beta from the statistics `groupNormForward` wrote (as float64
 * per-channel scale and shift; z may be x).
 * @example
 * const z = new Float32Array(2);
 * groupNormAffine(Float32Array.of(1, 3), Float32Array.of(2, 2), Float32Array.of(0, 1),
 *   Float32Array.of(2, 1), { b: 1, n: 1, c: 2, groups: 1 }, z); // z = [-2, 3]
 */
export function groupNormAffine(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  stats: Float32Array,
  d: GroupNormDims,
  z: Float32Array,
): void {
  const { b, n, c, groups } = d;
  const a = buf(2, c), sh = buf(3, c);
  for (let e = 0; e < b; e++) {
    const base = e * n * c;
    affineCoefs(stats.subarray(e * groups * 2, (e + 1) * groups * 2), gamma, beta, groups, {
      a,
      sh,
    });
    for (let p = 0, o = base; p < n; p++, o += c) {
      for (let k = 0; k < c; k++) z[o + k] = x[o + k] * a[k] + sh[k];
    }
  }
}

/**
 * GroupNorm gradient from the forward's input and stats: with xhat = (x - mean) rstd and dz the
 * gradient at z, dbeta = sum dz, dgamma = sum dz xhat (over examples and pixels) and
 * dx = rstd (dz gamma - mean_g(dz gamma) - xhat mean_g(dz gamma xhat)). Two passes per example:
 * per-channel sums of dz and dz x, then dx = dz k1[c] + x k2[g] + k3[g] (`dx` may be `dz`).
 * With `silu` = { z, s } (z and its sigmoid, `z` may be `dx`), the first argument is the gradient
 * at silu(z) and the first pass turns it into dz = dy s (1 + z (1 - s)), kept in dx.
 * @example
 * const dx = new Float32Array(2), dgamma = new Float32Array(2), dbeta = new Float32Array(2);
 * groupNormBackward(Float32Array.of(1, 0), Float32Array.of(1, 3), Float32Array.of(1, 1),
 *   Float32Array.of(2, 1), { b: 1, n: 1, c: 2, groups: 1 }, dx, dgamma, dbeta);
 * // dgamma = [-1, 0], dbeta = [1, 0]
 */
export function groupNormBackward(
  dz: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  stats: Float32Array,
  d: GroupNormDims,
  dx: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
  silu?: { z: Float32Array; s: Float32Array },
): void {
  // Each example's shares of dgamma and dbeta, summed in order at the end.
  const perExample = { dg: new Float64Array(d.b * d.c), db: new Float64Array(d.b * d.c) };
  const { b, n, c, groups } = d;
  const sumDz = buf(0, c), sumDzX = buf(1, c), k1 = buf(2, c), k2 = buf(3, c), k3 = buf(4, c);
  for (let e = 0; e < b; e++) {
    const base = e * n * c;
    // Pass 1: per-channel sums of dz and dz x (and dz itself, into dx, after a SiLU).
    sumDz.fill(0);
    sumDzX.fill(0);
    if (silu) {
      const { z, s } = silu;
      for (let p = 0, o = base; p < n; p++, o += c) {
        for (let k = 0; k < c; k++) {
          const i = o + k, si = s[i];
          const v = dz[i] * si * (1 + z[i] * (1 - si));
          dx[i] = v;
          sumDz[k] += v;
          sumDzX[k] += v * x[i];
        }
      }
    } else {
      for (let p = 0, o = base; p < n; p++, o += c) {
        for (let k = 0; k < c; k++) {
          const v = dz[o + k];
          sumDz[k] += v;
          sumDzX[k] += v * x[o + k];
        }
      }
    }
    const src = silu ? dx : dz;
    gradCoefs({
      sums: { sumDz, sumDzX },
      stats: stats.subarray(e * groups * 2, (e + 1) * groups * 2),
      gamma,
      d,
      shares: {
        dg: perExample.dg.subarray(e * c, (e + 1) * c),
        db: perExample.db.subarray(e * c, (e + 1) * c),
      },
      coefs: { k1, k2, k3 },
    });
    // Pass 2: dx.
    for (let p = 0, o = base; p < n; p++, o += c) {
      for (let k = 0; k < c; k++) dx[o + k] = src[o + k] * k1[k] + x[o + k] * k2[k] + k3[k];
    }
  }
  sumExamples(perExample, d, dgamma, dbeta);
}

/**
 * dgamma and dbeta from each example's share of them (from gradCoefs), summed over the examples
 * in order in float64: what the JS loops and the SIMD kernels both finish with.
 * @example
 * const dgamma = new Float32Array(1), dbeta = new Float32Array(1);
 * sumExamples({ dg: Float64Array.of(1, 2), db: Float64Array.of(3, 4) },
 *   { b: 2, n: 1, c: 1, groups: 1 }, dgamma, dbeta); // dgamma = [3], dbeta = [7]
 */
export function sumExamples(
  perExample: { dg: Float64Array; db: Float64Array },
  d: GroupNormDims,
  dgamma: Float32Array,
  dbeta: Float32Array,
): void {
  const { b, c } = d;
  for (let k = 0; k < c; k++) {
    let g = 0, s = 0;
    for (let e = 0; e < b; e++) {
      g += perExample.dg[e * c + k];
      s += perExample.db[e * c + k];
    }
    dgamma[k] = g;
    dbeta[k] = s;
  }
}

/**
 * One example's gradient coefficients from its per-channel sums of dz and dz x: its shares of
 * dgamma (sum dz xhat) and dbeta (sum dz), and dx = src k1 + x k2 + k3 per channel. Shared by
 * the JS loops and the SIMD kernels.
 * @example
 * const k1 = new Float64Array(2), k2 = new Float64Array(2), k3 = new Float64Array(2);
 * gradCoefs({ sums: { sumDz: Float64Array.of(1, 0), sumDzX: Float64Array.of(1, 0) },
 *   stats: Float32Array.of(2, 1), gamma: Float32Array.of(1, 1), d: { b: 1, n: 1, c: 2, groups: 1 },
 *   shares: { dg: new Float64Array(2), db: new Float64Array(2) }, coefs: { k1, k2, k3 } });
 */
export function gradCoefs(o: {
  sums: { sumDz: Float64Array; sumDzX: Float64Array };
  stats: Float32Array;
  gamma: Float32Array;
  d: GroupNormDims;
  shares: { dg: Float64Array; db: Float64Array };
  coefs: { k1: Float64Array; k2: Float64Array; k3: Float64Array };
}): void {
  const { sumDz, sumDzX } = o.sums, { k1, k2, k3 } = o.coefs, { gamma, stats } = o;
  const { n, c, groups } = o.d;
  const per = c / groups, count = n * per;
  // Per group: mean of dz gamma and of dz gamma xhat, and the coefficients of dx.
  for (let g = 0; g < groups; g++) {
    const m = stats[g * 2], r = stats[g * 2 + 1];
    let m1 = 0, m2 = 0;
    for (let k = g * per; k < (g + 1) * per; k++) {
      const dzXhat = r * (sumDzX[k] - m * sumDz[k]); // sum over pixels of dz xhat
      o.shares.db[k] = sumDz[k];
      o.shares.dg[k] = dzXhat;
      m1 += gamma[k] * sumDz[k];
      m2 += gamma[k] * dzXhat;
    }
    m1 /= count;
    m2 /= count;
    const c2 = -r * r * m2, c3 = -r * m1 + r * r * m2 * m;
    for (let k = g * per; k < (g + 1) * per; k++) {
      k1[k] = r * gamma[k];
      k2[k] = c2;
      k3[k] = c3;
    }
  }
}
