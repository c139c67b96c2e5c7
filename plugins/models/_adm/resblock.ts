// guided-diffusion's ResBlock: GN+SiLU, conv, time embedding (added, or scale-shift), GN+SiLU,
// dropout, zero-initialised conv, plus a skip; optionally resampling inside the block.
import { type Tensor, tf } from "../../../core/mod.ts";
import {
  type Affine,
  avgPool2x,
  conv2d,
  groupNorm32,
  linear,
  type Norm,
  silu,
  upsample2x,
} from "./layers.ts";
import type { AdmParams } from "./params.ts";

/** Parameters and wiring of one residual block. */
export interface ResBlock {
  inNorm: Norm;
  inConv: Affine;
  emb: Affine;
  outNorm: Norm;
  outConv: Affine;
  /** A 1x1 convolution when the channel count changes; the identity otherwise. */
  skip?: Affine;
  cout: number;
  scaleShift: boolean;
  resample?: "up" | "down";
}

/** What a residual block is built from. */
export interface ResBlockSpec {
  /** State-dict prefix, e.g. "input_blocks.1.0". */
  name: string;
  cin: number;
  cout: number;
  embDim: number;
  scaleShift: boolean;
  resample?: "up" | "down";
}

/**
 * Create a block's parameters under `<name>.in_layers.0` (GroupNorm), `.in_layers.2` (3x3 conv),
 * `.emb_layers.1` (linear to cout, or 2 cout for scale-shift), `.out_layers.0` (GroupNorm),
 * `.out_layers.3` (3x3 conv, zero-initialised) and `.skip_connection` (1x1 conv, when cin !==
 * cout), the order PyTorch's state_dict lists them.
 * @example
 * const r = makeResBlock(p, { name: "input_blocks.1.0", cin: 128, cout: 128, embDim: 512, scaleShift: false });
 */
export function makeResBlock(p: AdmParams, s: ResBlockSpec): ResBlock {
  const inNorm = p.norm(`${s.name}.in_layers.0`, s.cin);
  const inConv = p.conv2d(`${s.name}.in_layers.2`, s.cin, s.cout, 3);
  const emb = p.linear(`${s.name}.emb_layers.1`, s.embDim, s.scaleShift ? 2 * s.cout : s.cout);
  const outNorm = p.norm(`${s.name}.out_layers.0`, s.cout);
  const outConv = p.conv2d(`${s.name}.out_layers.3`, s.cout, s.cout, 3, true);
  const skip = s.cin === s.cout
    ? undefined
    : p.conv2d(`${s.name}.skip_connection`, s.cin, s.cout, 1);
  return {
    inNorm,
    inConv,
    emb,
    outNorm,
    outConv,
    skip,
    cout: s.cout,
    scaleShift: s.scaleShift,
    resample: s.resample,
  };
}

/**
 * x [B, H, W, Cin] and the time embedding emb [B, E] -> [B, H', W', Cout] (H' = 2H or H / 2 when
 * the block resamples). Dropout (inverted, rate `dropout`) applies only when `dropoutSeed` is
 * given, i.e. in training.
 * @example
 * resBlock(tf.ones([2, 8, 8, 32]), tf.ones([2, 128]), r, { dropout: 0 }).shape; // [2, 8, 8, cout]
 */
export function resBlock(
  x: Tensor,
  emb: Tensor,
  r: ResBlock,
  opts: { dropout: number; dropoutSeed?: number },
): Tensor {
  return tf.tidy(() => {
    let h = groupNorm32(x, r.inNorm, true);
    let skipIn = x;
    if (r.resample) {
      const f = r.resample === "up" ? upsample2x : avgPool2x;
      h = f(h);
      skipIn = f(x);
    }
    h = conv2d(h, r.inConv);
    const e = linear(silu(emb), r.emb);
    if (r.scaleShift) {
      const [scale, shift] = tf.split(e, 2, 1).map((v) => v.reshape([-1, 1, 1, r.cout]));
      h = groupNorm32(h, r.outNorm);
      h = silu(tf.add(tf.mul(h, tf.add(scale, 1)), shift));
    } else {
      h = groupNorm32(tf.add(h, e.reshape([-1, 1, 1, r.cout])), r.outNorm, true);
    }
    if (opts.dropout > 0 && opts.dropoutSeed !== undefined) {
      h = tf.dropout(h, opts.dropout, undefined, opts.dropoutSeed);
    }
    h = conv2d(h, r.outConv);
    return tf.add(r.skip ? conv2d(skipIn, r.skip) : skipIn, h);
  });
}
