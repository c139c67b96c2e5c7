// Bicubic resampling as PyTorch's F.interpolate computes it, written as interpolation matrices:
// the antialiased kernel (a = -0.5, PIL's filter; EDM2's image resize to 224) and the plain one
// (a = -0.75; DINOv2's position-embedding interpolation), applied to images with two matMuls.
import { type Tensor, tf } from "../../core/tf.ts";

/** PIL's / torch's antialias bicubic filter (a = -0.5). */
function aaCubic(x: number): number {
  const f = Math.fround;
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return f(f(f(f(f(f(a + 2) * x) - (a + 3)) * x) * x) + 1);
  if (x < 2) return f(f(f(f(f(f(x - 5) * x) + 8) * x) - 4) * a);
  return 0;
}

/**
 * The [outSize, inSize] matrix of `F.interpolate(mode="bicubic", antialias=True,
 * align_corners=False)` along one axis given the output size: each output sample is a
 * normalised window of the a = -0.5 cubic, widened by the scale when shrinking (PIL's resampling
 * weights; torch's `_compute_indices_weights_aa`).
 * @example
 * antialiasBicubicMatrix(32, 224); // Float64Array(224 * 32), rows sum to 1
 */
export function antialiasBicubicMatrix(inSize: number, outSize: number): Float64Array {
  // float32 arithmetic throughout, as torch's kernel runs it for float32 images.
  const f = Math.fround;
  const m = new Float64Array(outSize * inSize);
  const scale = f(inSize / outSize);
  const support = scale >= 1 ? f(2 * scale) : 2;
  const invscale = scale >= 1 ? f(1 / scale) : 1;
  const w = new Float64Array(inSize);
  for (let i = 0; i < outSize; i++) {
    const center = f(scale * (i + 0.5));
    const xmin = Math.max(Math.trunc(f(f(center - support) + 0.5)), 0);
    const xmax = Math.min(Math.trunc(f(f(center + support) + 0.5)), inSize);
    let total = 0;
    for (let j = xmin; j < xmax; j++) {
      w[j] = f(aaCubic(f(f(f(j - center) + 0.5) * invscale)));
      total = f(total + w[j]);
    }
    for (let j = xmin; j < xmax; j++) m[i * inSize + j] = total !== 0 ? f(w[j] / total) : 0;
  }
  return m;
}

/**
 * The [outSize, inSize] matrix of `F.interpolate(mode="bicubic", antialias=False,
 * align_corners=False)` along one axis: Keys' cubic with a = -0.75 at the source coordinate
 * scale * (i + 0.5) - 0.5, taps clamped to the edge. `scaleFactor` is what the caller passed as
 * scale_factor (then torch maps with 1 / scaleFactor, in float32), else the sizes' ratio is used.
 * @example
 * bicubicMatrix(37, 16, 16.1 / 37); // DINOv2's 37x37 position grid to 16x16 (224 / 14)
 */
export function bicubicMatrix(inSize: number, outSize: number, scaleFactor?: number): Float64Array {
  const f = Math.fround;
  const A = -0.75;
  // Keys' cubic for |x| <= 1 and 1 < |x| < 2, in float32 as torch evaluates it.
  const near = (x: number) => f(f(f(f(f(f(A + 2) * x) - (A + 3)) * x) * x) + 1);
  const far = (x: number) => f(f(f(f(f(f(f(A * x) - 5 * A) * x) + 8 * A) * x)) - 4 * A);
  const scale = scaleFactor !== undefined && scaleFactor > 0
    ? f(1 / scaleFactor)
    : f(inSize / outSize);
  const m = new Float64Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    const real = f(f(scale * (i + 0.5)) - 0.5);
    const base = Math.floor(real);
    const t = f(real - base);
    const w = [far(f(t + 1)), near(t), near(f(1 - t)), far(f(f(1 - t) + 1))];
    for (let k = 0; k < 4; k++) {
      const j = Math.min(Math.max(base - 1 + k, 0), inSize - 1);
      m[i * inSize + j] += w[k];
    }
  }
  return m;
}

/**
 * Resize images NHWC with one matrix per axis: out[b, y, x, c] = sum rows[y, h] cols[x, w]
 * in[b, h, w, c], as two matMuls on the backend (float32).
 * @example
 * const r = antialiasBicubicMatrix(32, 224);
 * resizeSeparable(images, { rows: r, cols: r, outH: 224, outW: 224 }); // [B, 224, 224, C]
 */
export function resizeSeparable(
  images: Tensor,
  m: { rows: Float64Array; cols: Float64Array; outH: number; outW: number },
): tf.Tensor4D {
  const [b, h, w, c] = images.shape as [number, number, number, number];
  if (m.rows.length !== m.outH * h || m.cols.length !== m.outW * w) {
    throw new Error(
      `resizeSeparable: matrices for ${m.rows.length / m.outH}x${m.cols.length / m.outW} ` +
        `inputs, got ${h}x${w}`,
    );
  }
  return tf.tidy(() => {
    const rows = tf.tensor2d(Float32Array.from(m.rows), [m.outH, h]);
    const cols = tf.tensor2d(Float32Array.from(m.cols), [m.outW, w]);
    // Along H: [H, B*W*C] -> [outH, B*W*C].
    const byH = tf.reshape(tf.transpose(images, [1, 0, 2, 3]), [h, b * w * c]);
    const y = tf.reshape(tf.matMul(rows, byH), [m.outH, b, w, c]);
    // Along W: [W, outH*B*C] -> [outW, outH*B*C].
    const byW = tf.reshape(tf.transpose(y, [2, 0, 1, 3]), [w, m.outH * b * c]);
    const z = tf.reshape(tf.matMul(cols, byW), [m.outW, m.outH, b, c]);
    return tf.transpose(z, [2, 1, 0, 3]) as tf.Tensor4D;
  });
}
