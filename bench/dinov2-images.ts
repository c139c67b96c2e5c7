// bench/dinov2_reference.py's test images, made by the same integer formula on both sides.
import { tf } from "../core/tf.ts";

/**
 * `count` images of side x side x 3 with integer values 0..255 by bench/dinov2_reference.py's
 * formula, NHWC in [0, 1]: the inputs the DINOv2 parity check and its test feed both networks.
 * @example
 * const x = dinov2ReferenceImages(2, 32); // [2, 32, 32, 3]
 */
export function dinov2ReferenceImages(count: number, side: number): tf.Tensor4D {
  const data = new Float32Array(count * side * side * 3);
  let o = 0;
  for (let b = 0; b < count; b++) {
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        for (let c = 0; c < 3; c++) {
          data[o++] = ((b * 7919 + y * 131 + x * 31 + c * 17 + ((x * y) % 13) * 19) % 256) / 255;
        }
      }
    }
  }
  return tf.tensor4d(data, [count, side, side, 3]);
}
