// Seeded parameter store for the U-Net, plus the dense / 1x1 / 3x3 layers built on it.
import { rng, silu as coreSilu, type Tensor, tf } from "../../../core/mod.ts";

/**
 * Creates trainable variables in a fixed order from one seed, and remembers their names.
 * @example
 * const p = new Params(1);
 * makeDense(p, "fc", 4, 8);
 * p.names; // ["fc.w", "fc.b"]
 */
export class Params {
  readonly variables: tf.Variable[] = [];
  readonly names: string[] = [];
  private readonly u: () => number;

  constructor(seed: number) {
    this.u = rng(seed);
  }

  private add(name: string, values: Float32Array, shape: number[]): tf.Variable {
    if (this.names.includes(name)) throw new Error(`unet: parameter "${name}" defined twice`);
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape), true));
    this.variables.push(v);
    this.names.push(name);
    return v;
  }

  /**
   * Uniform variance-scaling init with fan-average mode (as in DDPM): U(-a, a) with
   * a = sqrt(3 scale / ((fanIn + fanOut) / 2)). scale = 0 gives exact zeros.
   */
  weight(name: string, shape: number[], fanIn: number, fanOut: number, scale = 1): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    if (scale > 0) {
      const a = Math.sqrt((3 * scale) / ((fanIn + fanOut) / 2));
      for (let i = 0; i < n; i++) values[i] = (2 * this.u() - 1) * a;
    }
    return this.add(name, values, shape);
  }

  zeros(name: string, shape: number[]): tf.Variable {
    return this.add(name, new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  }

  ones(name: string, shape: number[]): tf.Variable {
    return this.add(name, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape);
  }
}

/** A fully connected layer (also used as a 1x1 convolution on the channel axis). */
export interface Dense {
  w: tf.Variable;
  b: tf.Variable;
}

/**
 * Create a dense layer's `<name>.w` [cin, cout] (variance-scaling init, times `scale`) and
 * `<name>.b` [cout] (zeros).
 * @example
 * const d = makeDense(new Params(1), "fc", 4, 8); // d.w.shape [4, 8], d.b.shape [8]
 */
export function makeDense(p: Params, name: string, cin: number, cout: number, scale = 1): Dense {
  return {
    w: p.weight(`${name}.w`, [cin, cout], cin, cout, scale),
    b: p.zeros(`${name}.b`, [cout]),
  };
}

/**
 * y = x W + b on the last axis of x (any rank >= 2).
 * @example
 * dense(tf.ones([2, 3, 3, 4]), makeDense(p, "fc", 4, 8)).shape; // [2, 3, 3, 8]
 */
export function dense(x: Tensor, d: Dense): Tensor {
  const cin = x.shape[x.rank - 1];
  const flat = x.reshape([-1, cin]) as tf.Tensor2D;
  const y = tf.add(tf.matMul(flat, d.w as tf.Tensor2D), d.b);
  return y.reshape([...x.shape.slice(0, -1), d.w.shape[1]!]);
}

/** A k x k convolution with bias ("same" padding, NHWC). */
export interface Conv {
  w: tf.Variable;
  b: tf.Variable;
}

/**
 * Create a k x k convolution's `<name>.w` [k, k, cin, cout] (variance-scaling init, times
 * `scale`) and `<name>.b` [cout] (zeros).
 * @example
 * const c = makeConv(new Params(1), "conv_in", 3, 3, 32); // c.w.shape [3, 3, 3, 32]
 */
export function makeConv(
  p: Params,
  name: string,
  k: number,
  cin: number,
  cout: number,
  scale = 1,
): Conv {
  return {
    w: p.weight(`${name}.w`, [k, k, cin, cout], k * k * cin, k * k * cout, scale),
    b: p.zeros(`${name}.b`, [cout]),
  };
}

/**
 * The convolution `c` of x [B, H, W, Cin] with bias, "same" padding and stride `stride`.
 * @example
 * conv(tf.ones([1, 8, 8, 4]), makeConv(p, "c", 3, 4, 8), 2).shape; // [1, 4, 4, 8]
 */
export function conv(x: Tensor, c: Conv, stride = 1): Tensor {
  return tf.add(tf.conv2d(x as tf.Tensor4D, c.w as tf.Tensor4D, stride, "same"), c.b);
}

/**
 * SiLU / swish: x * sigmoid(x) (core's silu op: a fused kernel or tfjs ops).
 * @example
 * silu(tf.tensor1d([0, 1])); // [0, 0.7311]
 */
export function silu(x: Tensor): Tensor {
  return coreSilu(x);
}
