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
 */
export function normalizeGroups(x: Tensor, groups: number, eps = 1e-6): Tensor {
  return coreGroupNorm(x, { groups, eps });
}

/**
 * GroupNorm: normalizeGroups followed by the learned per-channel gamma and beta, and by SiLU when
 * `silu` is set (one fused op where the backend has the kernels: see core/ops/group-norm.ts).
 */
export function groupNorm(x: Tensor, gn: GroupNormParams, silu = false): Tensor {
  return coreGroupNorm(x, { groups: gn.groups, eps: gn.eps, gamma: gn.gamma, beta: gn.beta, silu });
}
