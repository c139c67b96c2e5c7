// A 2-D point cloud sorted into the cells of a square grid: the coarse clusters and the pruning
// boxes of the multiscale Sinkhorn divergence (harness/metrics/sinkhorn-divergence.ts).

/** A point cloud in cell order, with each non-empty cell's range, bounding box and centroid. */
export interface PointCells {
  /** Points, x then y, in cell order (cell 0's points first). */
  xy: Float64Array;
  /** Number of points. */
  n: number;
  /** order[k]: the input index of the point at sorted position k. */
  order: Int32Array;
  /** Number of non-empty cells. */
  cells: number;
  /** Cell c holds sorted points start[c] .. start[c + 1] - 1. */
  start: Int32Array;
  /** Tight bounding box of each cell's points: [xmin, xmax, ymin, ymax] at 4c. */
  box: Float64Array;
  /** Centroid of each cell's points, x then y at 2c. */
  centroid: Float64Array;
}

/**
 * Sort the points of `xy` (2-D, row-major, n = xy.length / 2) into the cells of a grid of square
 * cells of side `side`, keeping the non-empty cells.
 * @example
 * const c = pointCells(new Float64Array([0, 0, 0.1, 0, 5, 5]), 1);
 * c.cells; // 2: {(0, 0), (0.1, 0)} and {(5, 5)}
 */
export function pointCells(xy: Float64Array, side: number): PointCells {
  if (xy.length % 2 !== 0 || xy.length === 0) {
    throw new RangeError(
      `pointCells: xy must hold a positive even count of values, got ${xy.length}`,
    );
  }
  if (!(side > 0) || !Number.isFinite(side)) {
    throw new RangeError(`pointCells: side must be a positive finite number, got ${side}`);
  }
  const n = xy.length / 2;
  let x0 = Infinity, y0 = Infinity;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(xy[2 * i]) || !Number.isFinite(xy[2 * i + 1])) {
      throw new RangeError(
        `pointCells: point ${i} = (${xy[2 * i]}, ${xy[2 * i + 1]}) is not finite`,
      );
    }
    x0 = Math.min(x0, xy[2 * i]);
    y0 = Math.min(y0, xy[2 * i + 1]);
  }
  // Cell key of each point; sort the indices by key (a stable counting sort over used keys).
  const key = new Float64Array(n);
  let cols = 1;
  for (let i = 0; i < n; i++) cols = Math.max(cols, Math.floor((xy[2 * i] - x0) / side) + 1);
  for (let i = 0; i < n; i++) {
    key[i] = Math.floor((xy[2 * i + 1] - y0) / side) * cols + Math.floor((xy[2 * i] - x0) / side);
  }
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    key[a] - key[b] || a - b
  );
  const sorted = new Float64Array(2 * n);
  const starts: number[] = [];
  for (let k = 0; k < n; k++) {
    if (k === 0 || key[order[k]] !== key[order[k - 1]]) starts.push(k);
    sorted[2 * k] = xy[2 * order[k]];
    sorted[2 * k + 1] = xy[2 * order[k] + 1];
  }
  const cells = starts.length;
  const start = new Int32Array(cells + 1);
  start.set(starts);
  start[cells] = n;
  const box = new Float64Array(4 * cells), centroid = new Float64Array(2 * cells);
  for (let c = 0; c < cells; c++) {
    let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity, sx = 0, sy = 0;
    for (let k = start[c]; k < start[c + 1]; k++) {
      const x = sorted[2 * k], y = sorted[2 * k + 1];
      xmin = Math.min(xmin, x);
      xmax = Math.max(xmax, x);
      ymin = Math.min(ymin, y);
      ymax = Math.max(ymax, y);
      sx += x;
      sy += y;
    }
    const count = start[c + 1] - start[c];
    box.set([xmin, xmax, ymin, ymax], 4 * c);
    centroid[2 * c] = sx / count;
    centroid[2 * c + 1] = sy / count;
  }
  return { xy: sorted, n, order, cells, start, box, centroid };
}
