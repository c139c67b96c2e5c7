// Fused GroupNorm(+SiLU) kernels of core/ops/group-norm.ts as JS loops, for wasm and cpu.
import { tf } from "../core/tf.ts";
import {
  GROUP_NORM_GRAD_KERNEL,
  GROUP_NORM_KERNEL,
  type GroupNormAttrs,
} from "../core/ops/group-norm.ts";
import { type HostBackendName, hostKernelFunc } from "./host-kernel.ts";
import { siluFromSigmoid } from "./silu-kernel.ts";

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
  const per = c / groups, count = n * per;
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
      stats[(e * groups + g) * 2] = m;
      stats[(e * groups + g) * 2 + 1] = 1 / Math.sqrt(Math.max(sq, 0) / count + eps);
    }
  }
  // Pass 2: the affine, from the statistics.
  groupNormAffine(x, gamma, beta, stats, d, z);
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
  const per = c / groups;
  const a = buf(2, c), sh = buf(3, c);
  for (let e = 0; e < b; e++) {
    const base = e * n * c;
    for (let g = 0; g < groups; g++) {
      const m = stats[(e * groups + g) * 2], r = stats[(e * groups + g) * 2 + 1];
      for (let k = g * per; k < (g + 1) * per; k++) {
        a[k] = r * gamma[k];
        sh[k] = beta[k] - m * a[k];
      }
    }
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
  const { b, n, c, groups } = d;
  const per = c / groups, count = n * per;
  const sumDz = buf(0, c), sumDzX = buf(1, c), k1 = buf(2, c), k2 = buf(3, c), k3 = buf(4, c);
  const dg = buf(5, c), db = buf(6, c);
  dg.fill(0);
  db.fill(0);
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
    // Per group: mean of dz gamma and of dz gamma xhat, and the coefficients of dx.
    for (let g = 0; g < groups; g++) {
      const m = stats[(e * groups + g) * 2], r = stats[(e * groups + g) * 2 + 1];
      let m1 = 0, m2 = 0;
      for (let k = g * per; k < (g + 1) * per; k++) {
        const dzXhat = r * (sumDzX[k] - m * sumDz[k]); // sum over pixels of dz xhat
        db[k] += sumDz[k];
        dg[k] += dzXhat;
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
    // Pass 2: dx.
    for (let p = 0, o = base; p < n; p++, o += c) {
      for (let k = 0; k < c; k++) dx[o + k] = src[o + k] * k1[k] + x[o + k] * k2[k] + k3[k];
    }
  }
  for (let k = 0; k < c; k++) {
    dgamma[k] = dg[k];
    dbeta[k] = db[k];
  }
}

function dims(shapes: number[][], attrs: tf.NamedAttrMap): GroupNormDims {
  const [b, h, w, c] = shapes[0];
  return { b, n: h * w, c, groups: attrs.groups as number };
}

/**
 * Register the fused GroupNorm kernels (FmbGroupNorm, FmbGroupNormGrad) on a CPU backend, so
 * core's groupNorm() runs one kernel forward and one backward there. With SiLU fused, the
 * sigmoid of z is the backend's own kernel on wasm (XNNPACK), and the backward recomputes z.
 * Idempotent.
 * @example
 * registerGroupNormKernels("wasm");
 */
export function registerGroupNormKernels(backendName: HostBackendName): void {
  if (tf.getKernel(GROUP_NORM_KERNEL, backendName)) return;
  tf.registerKernel({
    kernelName: GROUP_NORM_KERNEL,
    backendName,
    kernelFunc: hostKernelFunc(
      backendName,
      ["x", "gamma", "beta"],
      (s, attrs) => [s[0], [s[0][0], attrs.groups as number, 2]],
      (io) => {
        const at = io.attrs as unknown as GroupNormAttrs;
        const [x, gamma, beta] = io.ins, [y, stats] = io.outs;
        groupNormForward(x, gamma, beta, dims(io.shapes, io.attrs), at.eps, y, stats);
        if (!at.silu) return;
        const s = io.sigmoidOf("out", 0);
        siluFromSigmoid(io.outs[0], s, io.outs[0]);
      },
    ),
  });
  tf.registerKernel({
    kernelName: GROUP_NORM_GRAD_KERNEL,
    backendName,
    kernelFunc: hostKernelFunc(
      backendName,
      ["dy", "x", "gamma", "beta", "stats"],
      (s) => [s[1], s[2], s[3]],
      (io) => {
        const at = io.attrs as unknown as GroupNormAttrs;
        const d = dims(io.shapes.slice(1), io.attrs);
        let silu: { z: Float32Array; s: Float32Array } | undefined;
        if (at.silu) {
          // z from the statistics (into dx, which the first pass overwrites), then its sigmoid.
          const [, x, gamma, beta, stats] = io.ins;
          groupNormAffine(x, gamma, beta, stats, d, io.outs[0]);
          const s = io.sigmoidOf("out", 0);
          silu = { z: io.outs[0], s };
        }
        const [dy, x, gamma, , stats] = io.ins, [dx, dgamma, dbeta] = io.outs;
        groupNormBackward(dy, x, gamma, stats, d, dx, dgamma, dbeta, silu);
      },
    ),
  });
}
