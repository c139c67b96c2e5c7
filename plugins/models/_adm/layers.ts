// The ADM U-Net's layers on NHWC tensors: convolutions with PyTorch's padding, linear maps,
// GroupNorm32 (core's fused op), SiLU, nearest 2x upsampling and 2x2 average pooling.
import {
  groupNorm as coreGroupNorm,
  silu as coreSilu,
  type Tensor,
  tf,
} from "../../../core/mod.ts";
import { NORM_GROUPS } from "./config.ts";

/** A weight and bias in tfjs layout (conv HWIO, linear [in, out]). */
export interface Affine {
  w: tf.Variable;
  b: tf.Variable;
}

/** A GroupNorm's learned scale and shift. */
export interface Norm {
  gamma: tf.Variable;
  beta: tf.Variable;
}

/**
 * GroupNorm's epsilon in PyTorch (nn.GroupNorm's default, which GroupNorm32 keeps).
 * @example
 * NORM_EPS; // 1e-5 (fmbench's own unet uses 1e-6)
 */
export const NORM_EPS = 1e-5;

/**
 * A k x k convolution of x [B, H, W, Cin] with bias, zero padding (k - 1) / 2 on every side and
 * stride `stride`, as PyTorch's Conv2d(k, padding=(k - 1) / 2, stride) computes it (tfjs' "same"
 * would pad only the bottom and right for stride 2 on even sizes).
 * @example
 * conv2d(tf.ones([1, 32, 32, 128]), c, 2).shape; // [1, 16, 16, 128] for a 3x3 conv c
 */
export function conv2d(x: Tensor, c: Affine, stride = 1): Tensor {
  const k = c.w.shape[0];
  const pad = stride === 1 ? "same" : (k - 1) / 2;
  return tf.add(tf.conv2d(x as tf.Tensor4D, c.w as tf.Tensor4D, stride, pad), c.b);
}

/**
 * y = x W + b on the last axis of x (any rank >= 2); W is [in, out].
 * @example
 * linear(tf.ones([2, 64, 32]), l).shape; // [2, 64, 96] for a 32 -> 96 map l
 */
export function linear(x: Tensor, l: Affine): Tensor {
  const cin = x.shape[x.rank - 1];
  const flat = x.reshape([-1, cin]) as tf.Tensor2D;
  const y = tf.add(tf.matMul(flat, l.w as tf.Tensor2D), l.b);
  return y.reshape([...x.shape.slice(0, -1), l.w.shape[1]!]);
}

/**
 * GroupNorm(32 groups, eps 1e-5) of x [B, H, W, C] with the learned affine, then SiLU when `silu`
 * is set (one fused op where the backend has the kernels). All in float32, as GroupNorm32 is.
 * @example
 * groupNorm32(tf.randomNormal([2, 8, 8, 64]), n, true).shape; // [2, 8, 8, 64]
 */
export function groupNorm32(x: Tensor, n: Norm, silu = false): Tensor {
  return coreGroupNorm(x, {
    groups: NORM_GROUPS,
    eps: NORM_EPS,
    gamma: n.gamma,
    beta: n.beta,
    silu,
  });
}

/**
 * SiLU: x * sigmoid(x) (core's op: a fused kernel or tfjs ops).
 * @example
 * silu(tf.tensor1d([0, 1])); // [0, 0.7311]
 */
export function silu(x: Tensor): Tensor {
  return coreSilu(x);
}

function upsampleWithGrad(x: Tensor) {
  const [, h, w] = x.shape;
  const value = tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [2 * h, 2 * w]);
  // Each input pixel feeds a 2x2 block: its gradient is the block's sum.
  const gradFunc = (dy: Tensor) => tf.mul(tf.avgPool(dy as tf.Tensor4D, 2, 2, "valid"), 4);
  return { value, gradFunc };
}

/**
 * Nearest-neighbour 2x upsampling [B, H, W, C] -> [B, 2H, 2W, C] (F.interpolate, "nearest"),
 * with the gradient written as 4 * avgPool(dy) (tfjs 4.22's cpu ResizeNearestNeighborGrad is
 * wrong for batch > 1).
 * @example
 * upsample2x(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1])).shape; // [1, 4, 4, 1]
 */
export const upsample2x = tf.customGrad(
  upsampleWithGrad as unknown as Parameters<typeof tf.customGrad>[0],
) as unknown as (x: Tensor) => Tensor;

/**
 * 2x2 average pooling with stride 2 (guided-diffusion's Downsample without a convolution).
 * @example
 * avgPool2x(tf.ones([1, 8, 8, 4])).shape; // [1, 4, 4, 4]
 */
export function avgPool2x(x: Tensor): Tensor {
  return tf.avgPool(x as tf.Tensor4D, 2, 2, "valid");
}
