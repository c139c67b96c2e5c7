// The per-tap loop of stride-1 convolutions on the padded pixel grid (no tfjs): blocks of grid
// rows outermost, filter taps inside, and the filter gradient of a range of taps through BLAS.
import type { Blas } from "./native-blas.ts";

/**
 * Grid rows per block: each block runs all its taps before the next, so its rows of the padded
 * input, the output and the gradient stay in cache across the taps (about 10% faster than whole
 * grids at 32x32x32 and up; same arithmetic, summed in another order for dW).
 */
export const ROW_BLOCK = 4096;

/**
 * What the per-tap loop needs of a convolution on its padded grid: channels in and out, filter
 * size, the grid's row width wp, and `rows`, the grid rows that can hold an output pixel.
 * @example
 * const g: TapGrid = { ci: 32, co: 32, kh: 3, kw: 3, wp: 34, rows: 32 * 34 * 34 - 70 };
 */
export interface TapGrid {
  ci: number;
  co: number;
  kh: number;
  kw: number;
  wp: number;
  rows: number;
}

/**
 * The grid-row shift of filter tap t = i kw + j: i grid rows of wp pixels, plus j.
 * @example
 * tapShift({ ci: 1, co: 1, kh: 3, kw: 3, wp: 34, rows: 1 }, 4); // 35
 */
export function tapShift(g: TapGrid, t: number): number {
  const i = Math.floor(t / g.kw);
  return i * g.wp + (t - i * g.kw);
}

/**
 * Calls `fn` for every block of up to `block` grid rows (m rows from row r0, within `rows`: all
 * by default) and every filter tap t in `taps` (t = i kw + j; all by default), blocks outermost
 * so a block stays in cache across its taps. `s` is where the block, shifted by the tap, starts in an input-side grid
 * (ci values per row); `t` where the tap's [ci, co] matrix starts in the filter.
 * @example
 * forEachTap(g, (r0, m, s, t) => console.log(r0, m, s, t));
 */
export function forEachTap(
  g: TapGrid,
  fn: (r0: number, m: number, s: number, t: number) => void,
  block = ROW_BLOCK,
  taps: [number, number] = [0, g.kh * g.kw],
  rows: [number, number] = [0, g.rows],
): void {
  const tap = g.ci * g.co;
  for (let r0 = rows[0]; r0 < rows[1]; r0 += block) {
    const m = Math.min(block, rows[1] - r0);
    for (let t = taps[0]; t < taps[1]; t++) fn(r0, m, (tapShift(g, t) + r0) * g.ci, t * tap);
  }
}

/**
 * dW[t] = sum over grid rows r of xpad[r + shift(t)]^T dz[r] for the taps t in `taps`: one sgemm
 * per block and tap, the first block writing (beta 0), the others adding. Each tap's result is
 * the same whichever taps run with it, so ranges of taps can run on different threads.
 * @example
 * filterGradTaps(blas, g, { xp, dz, dw }, [0, 9]); // dw: [kh, kw, ci, co]
 */
export function filterGradTaps(
  blas: Pick<Blas, "sgemm">,
  g: TapGrid,
  a: { xp: Float32Array; dz: Float32Array; dw: Float32Array },
  taps: [number, number],
): void {
  const tap = g.ci * g.co;
  forEachTap(
    g,
    (r0, m, s, t) =>
      blas.sgemm(
        true,
        false,
        g.ci,
        g.co,
        m,
        1,
        a.xp.subarray(s, s + m * g.ci),
        g.ci,
        a.dz.subarray(r0 * g.co, (r0 + m) * g.co),
        g.co,
        r0 === 0 ? 0 : 1,
        a.dw.subarray(t, t + tap),
        g.co,
      ),
    ROW_BLOCK,
    taps,
  );
}

/**
 * z[r] += sum over taps of xpad[r + shift(t)] W[t] for the grid rows r in `rows` (z holds the
 * bias or zeros): one sgemm per block and tap. Each row sums its taps in the same order whatever
 * the blocks, so ranges of rows can run on different threads with the same bits.
 * @example
 * gridForwardRows(blas, g, { xp, filter, z }, [0, g.rows], 1024);
 */
export function gridForwardRows(
  blas: Pick<Blas, "sgemm">,
  g: TapGrid,
  a: { xp: Float32Array; filter: Float32Array; z: Float32Array },
  rows: [number, number],
  block: number,
): void {
  const tap = g.ci * g.co;
  forEachTap(
    g,
    (r0, m, s, t) =>
      blas.sgemm(
        false,
        false,
        m,
        g.co,
        g.ci,
        1,
        a.xp.subarray(s, s + m * g.ci),
        g.ci,
        a.filter.subarray(t, t + tap),
        g.co,
        1,
        a.z.subarray(r0 * g.co, (r0 + m) * g.co),
        g.co,
      ),
    block,
    [0, g.kh * g.kw],
    rows,
  );
}

/**
 * The input gradient on the padded grid, gathered: dxpad[q] = sum over taps t (in order) of
 * dz[q - shift(t)] W[t]^T for the grid rows q in `rows` (of rows + the largest shift in all),
 * dxpad zeroed before: one sgemm per block and tap. Each row sums its taps in the same order
 * whatever the blocks, so ranges of rows can run on different threads with the same bits.
 * @example
 * inputGradRows(blas, g, { dz, filter, dxp }, [0, g.rows + 2 * g.wp + 2], ROW_BLOCK);
 */
export function inputGradRows(
  blas: Pick<Blas, "sgemm">,
  g: TapGrid,
  a: { dz: Float32Array; filter: Float32Array; dxp: Float32Array },
  rows: [number, number],
  block: number,
): void {
  const tap = g.ci * g.co;
  for (let q0 = rows[0]; q0 < rows[1]; q0 += block) {
    const q1 = Math.min(q0 + block, rows[1]);
    for (let t = 0; t < g.kh * g.kw; t++) {
      const shift = tapShift(g, t);
      // Rows q whose source row q - shift holds a gradient: shift <= q < rows + shift.
      const qa = Math.max(q0, shift), qb = Math.min(q1, g.rows + shift);
      if (qb <= qa) continue;
      blas.sgemm(
        false,
        true,
        qb - qa,
        g.ci,
        g.co,
        1,
        a.dz.subarray((qa - shift) * g.co, (qb - shift) * g.co),
        g.co,
        a.filter.subarray(t * tap, (t + 1) * tap),
        g.co,
        1,
        a.dxp.subarray(qa * g.ci, qb * g.ci),
        g.ci,
      );
    }
  }
}

/**
 * Where an image lies in a padded grid: c values per pixel, the grid's hp x wp pixels per image,
 * the image's h x w pixels at offset (top, left).
 * @example
 * const at: GridPlace = { c: 32, hp: 34, wp: 34, top: 1, left: 1, h: 32, w: 32 };
 */
export interface GridPlace {
  c: number;
  hp: number;
  wp: number;
  top: number;
  left: number;
  h: number;
  w: number;
}

/**
 * Copy the image's pixels that lie in grid pixel rows [q0, q1) out of the grid into `image`
 * ([b, h, w, c]), in runs along the grid's rows: ranges of rows can be cropped on different
 * threads.
 * @example
 * cropGridRows(z, y, { c: co, hp, wp, top: 0, left: 0, h: ho, w: wo }, [0, b * hp * wp]);
 */
export function cropGridRows(
  grid: Float32Array,
  image: Float32Array,
  at: GridPlace,
  rows: [number, number],
): void {
  const { c, hp, wp, top, left, h, w } = at;
  for (let q = rows[0]; q < rows[1];) {
    const b = Math.floor(q / (hp * wp)), within = q - b * hp * wp;
    const yy = Math.floor(within / wp), xx = within - yy * wp;
    const rowEnd = q - xx + wp; // the next grid row starts here
    const y = yy - top;
    if (y >= 0 && y < h) {
      const from = Math.max(xx, left), to = Math.min(left + w, wp, xx + rows[1] - q);
      if (to > from) {
        const src = (q - xx + from) * c;
        image.set(grid.subarray(src, src + (to - from) * c), ((b * h + y) * w + from - left) * c);
      }
    }
    q = rowEnd;
  }
}

/**
 * Fill grid rows [r0, r1) (co values each) with `bias`, or zeros without one: the start of an
 * accumulation by sgemm with beta 1.
 * @example
 * fillRows(z, co, bias, [0, rows]);
 */
export function fillRows(
  z: Float32Array,
  co: number,
  bias: Float32Array | undefined,
  rows: [number, number],
): void {
  const start = rows[0] * co, end = rows[1] * co;
  if (!bias) {
    z.fill(0, start, end);
    return;
  }
  z.set(bias.subarray(0, co), start);
  // Copies doubling in length: memmove speed.
  for (let k = co; start + k < end; k *= 2) {
    z.copyWithin(start + k, start, start + Math.min(k, end - start - k));
  }
}

/**
 * One share of a stride-1 convolution's forward pass on grid rows [r0, r1): the rows start from
 * the bias (or zeros), accumulate every tap (gridForwardRows), and their output pixels are copied
 * into y ([b, ho, wo, co]).
 * @example
 * forwardShare(blas, g, { xp, filter, z, y, bias }, { hp, ho, wo }, [0, g.rows], 1024);
 */
export function forwardShare(
  blas: Pick<Blas, "sgemm">,
  g: TapGrid,
  a: {
    xp: Float32Array;
    filter: Float32Array;
    z: Float32Array;
    y: Float32Array;
    bias?: Float32Array;
  },
  out: { hp: number; ho: number; wo: number },
  rows: [number, number],
  block: number,
): void {
  fillRows(a.z, g.co, a.bias, rows);
  gridForwardRows(blas, g, a, rows, block);
  const place = { c: g.co, hp: out.hp, wp: g.wp, top: 0, left: 0, h: out.ho, w: out.wo };
  cropGridRows(a.z, a.y, place, rows);
}

/**
 * One share of a stride-1 convolution's input gradient on grid rows [q0, q1): the rows start
 * from zeros, gather every tap (inputGradRows), and the input's pixels among them are copied into
 * dx ([b, h, w, ci]) from `place` (the input's place in the grid).
 * @example
 * inputGradShare(blas, g, { dz, filter, dxp, dx }, place, [0, total], 4096);
 */
export function inputGradShare(
  blas: Pick<Blas, "sgemm">,
  g: TapGrid,
  a: { dz: Float32Array; filter: Float32Array; dxp: Float32Array; dx: Float32Array },
  place: GridPlace,
  rows: [number, number],
  block: number,
): void {
  a.dxp.fill(0, rows[0] * g.ci, rows[1] * g.ci);
  inputGradRows(blas, g, a, rows, block);
  cropGridRows(a.dxp, a.dx, place, rows);
}

/**
 * Images [b0, b1) of x ([b, h, w, c]) into their padded grid `grid` at `place`, zeros around them:
 * each grid row written once. Ranges of images can be placed on different threads.
 * @example
 * toGridImages(x, xp, { c: ci, hp, wp, top: 1, left: 1, h, w }, [0, b]);
 */
export function toGridImages(
  x: Float32Array,
  grid: Float32Array,
  place: GridPlace,
  images: [number, number],
): void {
  const { c, hp, wp, top, left, h, w } = place;
  const row = w * c, gridRow = wp * c;
  for (let b = images[0]; b < images[1]; b++) {
    const image = b * hp * gridRow;
    grid.fill(0, image, image + top * gridRow);
    for (let y = 0; y < h; y++) {
      const at = image + (y + top) * gridRow, src = (b * h + y) * row;
      grid.fill(0, at, at + left * c);
      grid.set(x.subarray(src, src + row), at + left * c);
      grid.fill(0, at + left * c + row, at + gridRow);
    }
    grid.fill(0, image + (top + h) * gridRow, image + hp * gridRow);
  }
}
