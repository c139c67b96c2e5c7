// Group normalisation built from reshape + tf.moments, with a learned per-channel affine.
import { type Tensor, tf } from "../../../harness/tf.ts";
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
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const g = x.reshape([b, h, w, groups, c / groups]);
    const { mean, variance } = tf.moments(g, [1, 2, 4], true);
    return tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, eps))).reshape([b, h, w, c]);
  });
}

/** GroupNorm: normalizeGroups followed by the learned per-channel gamma and beta. */
export function groupNorm(x: Tensor, gn: GroupNormParams): Tensor {
  return tf.tidy(() => tf.add(tf.mul(normalizeGroups(x, gn.groups, gn.eps), gn.gamma), gn.beta));
}
