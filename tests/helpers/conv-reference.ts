// Exact convolution gradients by direct float64 loops: the definition, for checking kernels.

/** NHWC input, [kh, kw, Ci, Co] filter, output gradient, stride and top/left padding. */
export interface ConvProblem {
  x: Float32Array;
  xShape: number[];
  w: Float32Array;
  wShape: number[];
  dy: Float32Array;
  dyShape: number[];
  stride: number;
  top: number;
  left: number;
}

/**
 * dx and dW of sum(conv2d(x, w) * dy) for y[b, oy, ox, co] =
 * sum_{ky, kx, ci} x[b, oy*s + ky - top, ox*s + kx - left, ci] w[ky, kx, ci, co] (zero outside).
 * @example
 * const { dx, dW } = convGradsReference(problem);
 */
export function convGradsReference(p: ConvProblem): { dx: Float64Array; dW: Float64Array } {
  const [B, H, W, Ci] = p.xShape, [kh, kw, , Co] = p.wShape, [, Ho, Wo] = p.dyShape;
  const dx = new Float64Array(p.x.length), dW = new Float64Array(p.w.length);
  for (let b = 0; b < B; b++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        const dyOff = ((b * Ho + oy) * Wo + ox) * Co;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * p.stride + ky - p.top;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * p.stride + kx - p.left;
            if (ix < 0 || ix >= W) continue;
            const xOff = ((b * H + iy) * W + ix) * Ci;
            const wOff = (ky * kw + kx) * Ci * Co;
            for (let ci = 0; ci < Ci; ci++) {
              const xv = p.x[xOff + ci];
              const row = wOff + ci * Co;
              let acc = 0;
              for (let co = 0; co < Co; co++) {
                const g = p.dy[dyOff + co];
                dW[row + co] += xv * g;
                acc += p.w[row + co] * g;
              }
              dx[xOff + ci] += acc;
            }
          }
        }
      }
    }
  }
  return { dx, dW };
}
