// guided-diffusion's AttentionBlock over the spatial positions of an NHWC feature map: GroupNorm,
// a kernel-1 qkv projection, multi-head softmax attention (legacy or new head order), projection.
import { type Tensor, tf } from "../../../core/mod.ts";
import { type Affine, groupNorm32, linear, type Norm } from "./layers.ts";
import type { AdmParams } from "./params.ts";

/** Parameters of one attention block. */
export interface AttnBlock {
  norm: Norm;
  qkv: Affine;
  proj: Affine;
  heads: number;
  /** QKVAttention (split q, k, v first) instead of QKVAttentionLegacy (split heads first). */
  newOrder: boolean;
}

/**
 * Create an attention block's parameters `<name>.norm`, `<name>.qkv` ([3C, C, 1]) and
 * `<name>.proj_out` ([C, C, 1], zero-initialised).
 * @example
 * const a = makeAttnBlock(p, { name: "middle_block.1", channels: 256, heads: 4, newOrder: false });
 */
export function makeAttnBlock(
  p: AdmParams,
  s: { name: string; channels: number; heads: number; newOrder: boolean },
): AttnBlock {
  return {
    norm: p.norm(`${s.name}.norm`, s.channels),
    qkv: p.conv1d(`${s.name}.qkv`, s.channels, 3 * s.channels),
    proj: p.conv1d(`${s.name}.proj_out`, s.channels, s.channels, true),
    heads: s.heads,
    newOrder: s.newOrder,
  };
}

/**
 * x + proj(attention(qkv(norm(x)))) for x [B, H, W, C], attention over the H*W positions per
 * head with q and k each scaled by ch^(-1/4) (ch = C / heads) before their product, as
 * guided-diffusion does. The qkv channels are read as [heads, 3, ch] (legacy) or [3, heads, ch].
 * @example
 * attnBlock(tf.ones([2, 16, 16, 256]), a).shape; // [2, 16, 16, 256]
 */
export function attnBlock(x: Tensor, a: AttnBlock): Tensor {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const n = h * w, ch = c / a.heads;
    const qkv = linear(groupNorm32(x, a.norm).reshape([b, n, c]), a.qkv); // [b, n, 3c]
    const parts = a.newOrder
      ? tf.unstack(qkv.reshape([b, n, 3, a.heads, ch]), 2) // each [b, n, heads, ch]
      : tf.split(qkv.reshape([b, n, a.heads, 3 * ch]), 3, 3);
    const scale = 1 / Math.sqrt(Math.sqrt(ch));
    const [q, k, v] = parts.map((t) => t.transpose([0, 2, 1, 3]) as tf.Tensor3D); // [b, heads, n, ch]
    const weight = tf.softmax(tf.matMul(tf.mul(q, scale), tf.mul(k, scale), false, true));
    const out = tf.matMul(weight as tf.Tensor3D, v) as Tensor; // [b, heads, n, ch]
    const merged = out.transpose([0, 2, 1, 3]).reshape([b, n, c]);
    return tf.add(x, linear(merged, a.proj).reshape([b, h, w, c]));
  });
}
