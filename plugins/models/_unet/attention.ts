// Self-attention block over the spatial positions of a feature map (DDPM AttnBlock, multi-head).
import { type Tensor, tf } from "../../../core/mod.ts";
import { groupNorm, type GroupNormParams, makeGroupNorm } from "./groupnorm.ts";
import { type Dense, dense, makeDense, type Params } from "./params.ts";

/** Parameters of one attention block. */
export interface AttnBlock {
  norm: GroupNormParams;
  q: Dense;
  k: Dense;
  v: Dense;
  proj: Dense;
  heads: number;
}

/**
 * Create the parameters of an attention block over `channels` channels, named `<name>.norm`,
 * `.q`, `.k`, `.v` and `.proj`. The output projection starts at zero, so the block starts as the
 * identity. Throws when `channels` does not split into `heads` heads.
 * @example
 * const a = makeAttnBlock(new Params(0), "mid.attn", 64, 8, 1);
 * a.heads; // 1
 */
export function makeAttnBlock(
  p: Params,
  name: string,
  channels: number,
  groups: number,
  heads: number,
): AttnBlock {
  if (!Number.isInteger(heads) || heads < 1 || channels % heads !== 0) {
    throw new Error(
      `unet: attention "${name}": ${channels} channels do not split into ${heads} heads`,
    );
  }
  return {
    norm: makeGroupNorm(p, `${name}.norm`, channels, groups),
    q: makeDense(p, `${name}.q`, channels, channels),
    k: makeDense(p, `${name}.k`, channels, channels),
    v: makeDense(p, `${name}.v`, channels, channels),
    // Zero-initialised output projection: the block starts as the identity.
    proj: makeDense(p, `${name}.proj`, channels, channels, 0),
    heads,
  };
}

/**
 * x + proj(softmax(q k^T / sqrt(d)) v), attention over all H*W positions, per head. x is
 * [B, H, W, C]; the result has the same shape.
 * @example
 * const y = attnBlock(tf.ones([1, 4, 4, 8]), makeAttnBlock(p, "attn", 8, 4, 2));
 * y.shape; // [1, 4, 4, 8] (equal to x: a new block's projection is zero)
 */
export function attnBlock(x: Tensor, a: AttnBlock): Tensor {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const n = h * w, d = c / a.heads;
    const hn = groupNorm(x, a.norm).reshape([b, n, c]);
    const split = (t: Tensor) => t.reshape([b, n, a.heads, d]).transpose([0, 2, 1, 3]);
    const q = split(dense(hn, a.q)) as tf.Tensor3D;
    const k = split(dense(hn, a.k)) as tf.Tensor3D;
    const v = split(dense(hn, a.v)) as tf.Tensor3D;
    const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d));
    const out = tf.matMul(tf.softmax(scores), v) as Tensor; // [b, heads, n, d]
    const merged = out.transpose([0, 2, 1, 3]).reshape([b, h, w, c]);
    return tf.add(x, dense(merged, a.proj));
  });
}
