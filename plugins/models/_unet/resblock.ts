// Residual block of the diffusion U-Net: GN+SiLU, conv, time injection, GN+SiLU, dropout, conv.
import { type Tensor, tf } from "../../../core/mod.ts";
import { groupNorm, type GroupNormParams, makeGroupNorm } from "./groupnorm.ts";
import {
  type Conv,
  conv,
  type Dense,
  dense,
  makeConv,
  makeDense,
  type Params,
  silu,
} from "./params.ts";

/** Parameters of one residual block (the skip is a 1x1 projection when channels change). */
export interface ResBlock {
  norm1: GroupNormParams;
  conv1: Conv;
  temb: Dense;
  norm2: GroupNormParams;
  conv2: Conv;
  skip?: Dense;
}

/**
 * Create the parameters of a residual block from `cin` to `cout` channels with a time embedding
 * of `tembDim`, named `<name>.norm1`, `.conv1`, `.temb`, `.norm2`, `.conv2` (zero-initialised)
 * and, when the channel count changes, `.skip`.
 * @example
 * const r = makeResBlock(new Params(0), "down.0.0", 16, 32, 64, 8); // r.skip is set: 16 != 32
 */
export function makeResBlock(
  p: Params,
  name: string,
  cin: number,
  cout: number,
  tembDim: number,
  groups: number,
): ResBlock {
  return {
    norm1: makeGroupNorm(p, `${name}.norm1`, cin, groups),
    conv1: makeConv(p, `${name}.conv1`, 3, cin, cout),
    temb: makeDense(p, `${name}.temb`, tembDim, cout),
    norm2: makeGroupNorm(p, `${name}.norm2`, cout, groups),
    // Zero-initialised last conv: each block starts as the identity (DDPM init_scale ~ 0).
    conv2: makeConv(p, `${name}.conv2`, 3, cout, cout, 0),
    skip: cin === cout ? undefined : makeDense(p, `${name}.skip`, cin, cout),
  };
}

/**
 * x [B,H,W,Cin], temb [B,T] (already through the shared MLP) -> [B,H,W,Cout].
 * `dropout` > 0 applies only when a seed is given (training).
 * @example
 * resBlock(tf.ones([2, 8, 8, 16]), tf.ones([2, 64]), r, 0).shape; // [2, 8, 8, 32]
 */
export function resBlock(
  x: Tensor,
  temb: Tensor,
  r: ResBlock,
  dropout: number,
  dropoutSeed?: number,
): Tensor {
  return tf.tidy(() => {
    let h = conv(groupNorm(x, r.norm1, true), r.conv1);
    const cout = r.conv1.b.shape[0];
    h = tf.add(h, dense(silu(temb), r.temb).reshape([-1, 1, 1, cout]));
    h = groupNorm(h, r.norm2, true);
    if (dropout > 0 && dropoutSeed !== undefined) {
      h = tf.dropout(h, dropout, undefined, dropoutSeed);
    }
    h = conv(h, r.conv2);
    const skip = r.skip ? dense(x, r.skip) : x;
    return tf.add(skip, h);
  });
}
