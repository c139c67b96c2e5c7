// The 2-D convolutions a U-Net preset runs (input, filter, stride, padding), recorded by a
// stand-in cpu Conv2D kernel during one forward pass of one image.
import { tf } from "../../core/tf.ts";
import unet from "../../plugins/models/unet.ts";

/** One convolution: NHWC input of one image, [kh, kw, Ci, Co] filter, stride and padding. */
export interface ConvShape {
  x: number[];
  filter: number[];
  stride: number;
  pad: "same" | "valid";
  /** Presets that run it. */
  presets: string[];
}

/**
 * Distinct convolutions (per image) of the U-Net presets on size x size x 3 images, found by
 * running each forward pass on the cpu backend with Conv2D replaced by a shape recorder.
 * @example
 * const shapes = unetConvShapes(["tiny", "small"]);
 */
export function unetConvShapes(presets: string[], size = 32): ConvShape[] {
  const previous = tf.getBackend();
  tf.setBackend("cpu");
  const original = tf.getKernel("Conv2D", "cpu")!;
  const found = new Map<string, ConvShape>();
  let preset = "";
  tf.unregisterKernel("Conv2D", "cpu");
  tf.registerKernel({
    kernelName: "Conv2D",
    backendName: "cpu",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
      const a = attrs as unknown as { strides: number | number[]; pad: "same" | "valid" };
      const stride = Array.isArray(a.strides) ? a.strides[0] : a.strides;
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        a.strides as number,
        1,
        a.pad,
      );
      const key = `${x.shape.slice(1)}|${filter.shape}|${stride}|${a.pad}`;
      const s = found.get(key) ??
        { x: [1, ...x.shape.slice(1)], filter: filter.shape, stride, pad: a.pad, presets: [] };
      if (!s.presets.includes(preset)) s.presets.push(preset);
      found.set(key, s);
      // deno-lint-ignore no-explicit-any
      return (backend as any).makeTensorInfo(
        info.outShape,
        "float32",
        new Float32Array(info.outShape.reduce((p, d) => p * d, 1)),
      );
    },
  });
  try {
    for (preset of presets) {
      const model = unet.create({ shape: [size, size, 3], preset, seed: 0 });
      tf.tidy(() => {
        model.apply(tf.zeros([1, size, size, 3]), tf.tensor1d([0.5]));
      });
      model.dispose();
    }
  } finally {
    tf.unregisterKernel("Conv2D", "cpu");
    tf.registerKernel(original);
    if (previous) tf.setBackend(previous);
  }
  return [...found.values()];
}
