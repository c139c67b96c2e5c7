// The ADM U-Net's parameters under TorchCFM's state-dict names: PyTorch's shapes and init, tfjs layouts.
import { rng, tf } from "../../../core/mod.ts";

/**
 * How a parameter is laid out in tfjs relative to PyTorch: `vector` as is; `linear` [out, in]
 * -> [in, out]; `conv2d` OIHW -> HWIO; `conv1d` (a kernel-1 Conv1d) [out, in, 1] -> [in, out].
 */
export type Layout = "vector" | "linear" | "conv2d" | "conv1d";

/** One parameter: its state-dict name, PyTorch shape, tfjs layout and (when made) variable. */
export interface ParamEntry {
  name: string;
  torchShape: number[];
  layout: Layout;
  variable: tf.Variable;
}

/** How a parameter starts: PyTorch's default for its layer, zeros (zero_module), or ones. */
type Init = "default" | "zeros" | "ones";

/**
 * Creates the network's parameters in a fixed order from one seed, as PyTorch initialises them
 * (Linear and Conv weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)); GroupNorm 1 and 0;
 * zero_module'd layers 0), keyed by TorchCFM's state-dict names. With `materialize` false only
 * the names and shapes are recorded (no tensors), to compare a state dict against any preset.
 * @example
 * const p = new AdmParams({ seed: 1 });
 * p.linear("time_embed.0", 32, 128);
 * p.entries.map((e) => e.name); // ["time_embed.0.weight", "time_embed.0.bias"]
 */
export class AdmParams {
  readonly entries: ParamEntry[] = [];
  private readonly u: () => number;
  private readonly materialize: boolean;
  private readonly seen = new Set<string>();

  constructor(opts: { seed: number; materialize?: boolean }) {
    this.u = rng(opts.seed);
    this.materialize = opts.materialize ?? true;
  }

  private add(
    name: string,
    torchShape: number[],
    layout: Layout,
    init: Init,
    fanIn = 1,
  ): tf.Variable {
    if (this.seen.has(name)) throw new Error(`adm-unet: parameter "${name}" defined twice`);
    this.seen.add(name);
    let variable = undefined as unknown as tf.Variable;
    if (this.materialize) {
      const n = torchShape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(n);
      if (init === "ones") values.fill(1);
      if (init === "default") {
        const bound = 1 / Math.sqrt(fanIn);
        for (let i = 0; i < n; i++) values[i] = (2 * this.u() - 1) * bound;
      }
      // The draws are in PyTorch's element order; the variable holds them in the tfjs layout.
      variable = tf.tidy(() => tf.variable(toTfLayout(values, torchShape, layout), true));
    }
    this.entries.push({ name, torchShape, layout, variable });
    return variable;
  }

  /** A Linear(cin, cout): `<name>.weight` [cout, cin] and `<name>.bias` [cout]. */
  linear(name: string, cin: number, cout: number): { w: tf.Variable; b: tf.Variable } {
    return {
      w: this.add(`${name}.weight`, [cout, cin], "linear", "default", cin),
      b: this.add(`${name}.bias`, [cout], "vector", "default", cin),
    };
  }

  /** A Conv2d(cin, cout, k) (zeros when `zero`): `<name>.weight` [cout, cin, k, k], `.bias`. */
  conv2d(
    name: string,
    cin: number,
    cout: number,
    k: number,
    zero = false,
  ): { w: tf.Variable; b: tf.Variable } {
    const init: Init = zero ? "zeros" : "default";
    return {
      w: this.add(`${name}.weight`, [cout, cin, k, k], "conv2d", init, cin * k * k),
      b: this.add(`${name}.bias`, [cout], "vector", init, cin * k * k),
    };
  }

  /** A kernel-1 Conv1d(cin, cout) used as a linear map over channels: [cout, cin, 1], bias. */
  conv1d(
    name: string,
    cin: number,
    cout: number,
    zero = false,
  ): { w: tf.Variable; b: tf.Variable } {
    const init: Init = zero ? "zeros" : "default";
    return {
      w: this.add(`${name}.weight`, [cout, cin, 1], "conv1d", init, cin),
      b: this.add(`${name}.bias`, [cout], "vector", init, cin),
    };
  }

  /** A GroupNorm's `<name>.weight` (ones) and `<name>.bias` (zeros) over `channels`. */
  norm(name: string, channels: number): { gamma: tf.Variable; beta: tf.Variable } {
    return {
      gamma: this.add(`${name}.weight`, [channels], "vector", "ones"),
      beta: this.add(`${name}.bias`, [channels], "vector", "zeros"),
    };
  }
}

/**
 * Row-major values in PyTorch's layout as a tfjs tensor in the parameter's layout.
 * @example
 * toTfLayout(Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2], "linear"); // [[1, 3, 5], [2, 4, 6]]
 */
export function toTfLayout(values: Float32Array, torchShape: number[], layout: Layout): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.tensor(values, torchShape);
    if (layout === "linear") return tf.transpose(t, [1, 0]);
    if (layout === "conv1d") return tf.transpose(t.reshape(torchShape.slice(0, 2)), [1, 0]);
    if (layout === "conv2d") return tf.transpose(t, [2, 3, 1, 0]);
    return t;
  });
}

/**
 * A tensor in a parameter's tfjs layout as row-major values in PyTorch's layout (the inverse of
 * toTfLayout), e.g. to compare gradients with PyTorch's or to write a state dict.
 * @example
 * toTorchLayout(tf.tensor2d([[1, 3, 5], [2, 4, 6]]), "linear"); // Float32Array [1, 2, 3, 4, 5, 6]
 */
export function toTorchLayout(t: tf.Tensor, layout: Layout): Float32Array {
  return tf.tidy(() => {
    if (layout === "linear" || layout === "conv1d") return tf.transpose(t, [1, 0]).dataSync();
    if (layout === "conv2d") return tf.transpose(t, [3, 2, 0, 1]).dataSync();
    return t.dataSync();
  }) as Float32Array;
}
