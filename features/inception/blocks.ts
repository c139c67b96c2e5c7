// The FID Inception-v3 forward pass in tf ops (NHWC): BasicConv2d with BatchNorm folded in, the
// pools with PyTorch's padding semantics, and the mixed blocks A, B, C, D, E_1 and E_2.
import { type Tensor, tf } from "../../core/tf.ts";
import type { BlockSpec, ConvSpec } from "./inception-spec.ts";

/** A BasicConv2d ready to run: HWIO filter and bias with BatchNorm folded in. */
export interface FoldedConv {
  spec: ConvSpec;
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
}

/** Folded convolutions by PyTorch module name (e.g. "Mixed_5b.branch1x1"). */
export type ConvTable = Map<string, FoldedConv>;

type Pad = "valid" | "same" | [
  [number, number],
  [number, number],
  [number, number],
  [number, number],
];

/**
 * The tfjs padding equal to PyTorch's symmetric zero padding [ph, pw] for this conv.
 * @example
 * tfPadding(STEM[0]); // "valid" (Conv2d_1a_3x3: no padding)
 * tfPadding(STEM[2]); // "same" (Conv2d_2b_3x3: 3x3, stride 1, pad 1)
 */
export function tfPadding(spec: ConvSpec): Pad {
  const [ph, pw] = spec.pad;
  if (ph === 0 && pw === 0) return "valid";
  if (spec.stride === 1 && 2 * ph === spec.kh - 1 && 2 * pw === spec.kw - 1) return "same";
  return [[0, 0], [ph, ph], [pw, pw], [0, 0]];
}

/**
 * Conv2d (no bias) -> BatchNorm (folded) -> ReLU.
 * @example
 * const h = basicConv(x, table.get("Conv2d_1a_3x3")!); // [B, 149, 149, 32] for a 299x299 input
 */
export function basicConv(x: Tensor, c: FoldedConv): tf.Tensor4D {
  return tf.fused.conv2d({
    x: x as tf.Tensor4D,
    filter: c.filter,
    strides: c.spec.stride,
    pad: tfPadding(c.spec),
    bias: c.bias,
    activation: "relu",
  });
}

/**
 * 3x3 stride-1 average pool with 1 pixel of zero padding that averages only the real pixels,
 * i.e. PyTorch F.avg_pool2d(x, 3, 1, 1, count_include_pad=False). Done explicitly (window sum
 * over the zero-padded input divided by the count of real pixels) so it does not depend on how
 * a backend treats padding.
 * @example
 * const pooled = avgPool3x3ExcludePad(x); // same shape as x; corners average 4 pixels, edges 6
 */
export function avgPool3x3ExcludePad(x: Tensor): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const padded = tf.pad(x as tf.Tensor4D, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    const mean9 = tf.avgPool(padded, 3, 1, "valid");
    return tf.mul(mean9, windowScale(h, w)) as tf.Tensor4D;
  });
}

/** [1, h, w, 1] factors 9 / (number of real pixels in each 3x3 window). */
function windowScale(h: number, w: number): tf.Tensor4D {
  const span = (i: number, n: number) => Math.min(i + 1, n - 1) - Math.max(i - 1, 0) + 1;
  const s = new Float32Array(h * w);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) s[i * w + j] = 9 / (span(i, h) * span(j, w));
  }
  return tf.tensor4d(s, [1, h, w, 1]);
}

/**
 * 3x3 stride-1 max pool with padding 1 (padding never wins, as PyTorch pads with -inf).
 * @example
 * const pooled = maxPool3x3Same(x); // same shape as x
 */
export function maxPool3x3Same(x: Tensor): tf.Tensor4D {
  return tf.maxPool(x as tf.Tensor4D, 3, 1, "same");
}

/**
 * 3x3 stride-2 max pool without padding.
 * @example
 * maxPool3x3Stride2(tf.zeros([1, 147, 147, 64])).shape; // [1, 73, 73, 64]
 */
export function maxPool3x3Stride2(x: Tensor): tf.Tensor4D {
  return tf.maxPool(x as tf.Tensor4D, 3, 2, "valid");
}

function concat(xs: Tensor[]): tf.Tensor4D {
  return tf.concat(xs as tf.Tensor4D[], 3);
}

/**
 * Run one mixed block on x (NHWC); intermediates are freed, the input is left alone.
 * @example
 * const y = mixedBlock(x, BLOCKS[0], table); // Mixed_5b: [B, 35, 35, 192] -> [B, 35, 35, 256]
 */
export function mixedBlock(
  x: Tensor,
  { block, table }: { block: BlockSpec; table: ConvTable },
): tf.Tensor4D {
  return tf.tidy(() => {
    const c = (branch: string, input: Tensor) => {
      const folded = table.get(`${block.name}.${branch}`);
      if (!folded) throw new Error(`FID Inception: no weights for ${block.name}.${branch}`);
      return basicConv(input, folded);
    };
    const chain = (branches: string[]) => branches.reduce((h, b) => c(b, h), x);
    switch (block.kind) {
      case "A":
        return concat([
          c("branch1x1", x),
          chain(["branch5x5_1", "branch5x5_2"]),
          chain(["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"]),
          c("branch_pool", avgPool3x3ExcludePad(x)),
        ]);
      case "B":
        return concat([
          c("branch3x3", x),
          chain(["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"]),
          maxPool3x3Stride2(x),
        ]);
      case "C":
        return concat([
          c("branch1x1", x),
          chain(["branch7x7_1", "branch7x7_2", "branch7x7_3"]),
          chain([
            "branch7x7dbl_1",
            "branch7x7dbl_2",
            "branch7x7dbl_3",
            "branch7x7dbl_4",
            "branch7x7dbl_5",
          ]),
          c("branch_pool", avgPool3x3ExcludePad(x)),
        ]);
      case "D":
        return concat([
          chain(["branch3x3_1", "branch3x3_2"]),
          chain(["branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"]),
          maxPool3x3Stride2(x),
        ]);
      case "E_1":
      case "E_2": {
        const b3 = c("branch3x3_1", x);
        const b3dbl = chain(["branch3x3dbl_1", "branch3x3dbl_2"]);
        // E_1 (Mixed_7b) averages without padding; E_2 (Mixed_7c) max-pools, as in the
        // TensorFlow graph the FID weights come from.
        const pooled = block.kind === "E_1" ? avgPool3x3ExcludePad(x) : maxPool3x3Same(x);
        return concat([
          c("branch1x1", x),
          concat([c("branch3x3_2a", b3), c("branch3x3_2b", b3)]),
          concat([c("branch3x3dbl_3a", b3dbl), c("branch3x3dbl_3b", b3dbl)]),
          c("branch_pool", pooled),
        ]);
      }
    }
  });
}
