// Group normalisation built from reshape + tf.moments-style statistics, with a learned affine.
import { type Tensor, tf } from "../../../core/mod.ts";
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
 * y = x * scale + shift with per-example, per-channel scale and shift [B, 1, 1, C] that normalise
 * each group of C / groups channels over (H, W, group channels) and then apply gamma and beta.
 * The statistics are two-pass (mean, then mean squared deviation), as tf.moments computes them;
 * applying them as one rank-4 multiply-add is cheaper than normalising the rank-5 view.
 */
function normalize(x: Tensor, groups: number, eps: number, gamma?: Tensor, beta?: Tensor): Tensor {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const per = c / groups;
    const g = x.reshape([b, h, w, groups, per]);
    const mean = tf.mean(g, [1, 2, 4], true); // [B, 1, 1, G, 1]
    const variance = tf.mean(tf.square(tf.sub(g, mean)), [1, 2, 4], true);
    // [B, 1, 1, G, 1] -> [B, 1, 1, C] by repeating each group value over its channels
    // (a multiply by ones: Tile has no gradient at rank 5).
    const ones = tf.ones([1, 1, per]);
    const toChannels = (v: Tensor) => tf.mul(v.reshape([b, groups, 1]), ones).reshape([b, 1, 1, c]);
    let scale = toChannels(tf.rsqrt(tf.add(variance, eps)));
    if (gamma) scale = tf.mul(scale, gamma);
    let shift = tf.neg(tf.mul(toChannels(mean), scale));
    if (beta) shift = tf.add(shift, beta);
    return tf.add(tf.mul(x, scale), shift);
  });
}

/**
 * Normalise x [B, H, W, C] per example and per group of C / groups channels to mean 0 and
 * variance 1 over (H, W, channels in the group). No affine.
 */
export function normalizeGroups(x: Tensor, groups: number, eps = 1e-6): Tensor {
  return normalize(x, groups, eps);
}

/** GroupNorm: normalizeGroups followed by the learned per-channel gamma and beta. */
export function groupNorm(x: Tensor, gn: GroupNormParams): Tensor {
  return normalize(x, gn.groups, gn.eps, gn.gamma, gn.beta);
}
