// Group normalisation with a learned affine (core's groupNorm op: fused kernels or tfjs ops).
import { groupNorm as coreGroupNorm, type Tensor, type tf } from "../../../core/mod.ts";
import type { Params } from "./params.ts";

/** Learned scale and shift of one GroupNorm layer. */
export interface GroupNormParams {
  gamma: tf.Variable;
  beta: tf.Variable;
  groups: number;
  eps: number;
}

/**
 * Create a GroupNorm layer's `<name>.gamma` (ones) and `<name>.beta` (zeros) over `channels`
 * channels. Throws when `groups` does not divide `channels`.
 * @example
 * const gn = makeGroupNorm(new Params(0), "norm1", 64, 32); // gn.groups === 32, gn.eps === 1e-6
 */
export function makeGroupNorm(
  p: Params,
  name: string,
  channels: number,
  groups: number,
  eps = 1e-6,
): GroupNormParams {
  if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
    throw new Error(
      `unet: GroupNorm "${name}" has ${channels} channels, not divisible into ${groups} groups; ` +
        `choose a groups value that divides every channel count`,
    );
  }
  return {
    gamma: p.ones(`${name}.gamma`, [channels]),
    beta: p.zeros(`${name}.beta`, [channels]),
    groups,
    eps,
  };
}

/**
 * Normalise x [B, H, W, C] per example and per group of C / groups channels to mean 0 and
 * variance 1 over (H, W, channels in the group). No affine.
 * @example
 * normalizeGroups(tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]), 1);
 * // [[[[-1.342, -0.447], [0.447, 1.342]]]]
 */
export function normalizeGroups(x: Tensor, groups: number, eps = 1e-6): Tensor {
  return coreGroupNorm(x, { groups, eps });
}

/**
 * GroupNorm: normalizeGroups followed by the learned per-channel gamma and beta, and by SiLU when
 * `silu` is set (one fused op where the backend has the kernels: see core/ops/group-norm.ts).
 * @example
 * const h = groupNorm(x, makeGroupNorm(p, "norm1", 8, 4), true); // x [1, 4, 4, 8] -> [1, 4, 4, 8]
 */
export function groupNorm(x: Tensor, gn: GroupNormParams, silu = false): Tensor {
  return coreGroupNorm(x, { groups: gn.groups, eps: gn.eps, gamma: gn.gamma, beta: gn.beta, silu });
}
