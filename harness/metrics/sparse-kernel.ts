// A row-compressed sparse matrix (the truncated Gibbs kernel of harness/metrics/sinkhorn-divergence.ts),
// built row by row, with products by a vector and by its transpose.

/** Rows of a sparse matrix: row i holds entries rowStart[i] .. rowStart[i + 1] - 1. */
export interface SparseRows {
  rows: number;
  cols: number;
  rowStart: Int32Array;
  col: Int32Array;
  val: Float64Array;
}

/** Builds a SparseRows row by row; refuses to grow beyond `maxEntries` (then `full` is true). */
export class SparseRowsBuilder {
  #col: Int32Array;
  #val: Float64Array;
  #rowStart: number[] = [0];
  #rowValue: number[] = [];
  #size = 0;
  /** True once a row was refused: the matrix would exceed maxEntries. */
  full = false;

  /**
   * An empty matrix with `cols` columns.
   * @example
   * const b = new SparseRowsBuilder(3, 1000);
   */
  constructor(readonly cols: number, readonly maxEntries: number) {
    const cap = Math.max(16, Math.min(maxEntries, 1 << 16));
    this.#col = new Int32Array(cap);
    this.#val = new Float64Array(cap);
  }

  /**
   * Append a row of `count` entries (columns col[0..count), values val[0..count)) and a number
   * kept with it (e.g. the row's offset); nothing is stored once full.
   * @example
   * b.addRow(Int32Array.of(0, 2), Float64Array.of(0.5, 1), 2, 0);
   */
  addRow(col: Int32Array, val: Float64Array, count: number, value: number): void {
    if (this.full) return;
    const need = this.#size + count;
    if (need > this.maxEntries) {
      this.full = true;
      return;
    }
    if (need > this.#col.length) {
      const cap = Math.min(this.maxEntries, Math.max(need, 2 * this.#col.length));
      const c = new Int32Array(cap), v = new Float64Array(cap);
      c.set(this.#col.subarray(0, this.#size));
      v.set(this.#val.subarray(0, this.#size));
      this.#col = c;
      this.#val = v;
    }
    const c = this.#col, v = this.#val, at = this.#size;
    for (let k = 0; k < count; k++) {
      c[at + k] = col[k];
      v[at + k] = val[k];
    }
    this.#size = need;
    this.#rowStart.push(need);
    this.#rowValue.push(value);
  }

  /**
   * The matrix (its arrays trimmed to size) and the number kept with each row.
   * @example
   * const { K, rowValue } = b.build(); // K.rows: the rows added so far
   */
  build(): { K: SparseRows; rowValue: Float64Array } {
    return {
      K: {
        rows: this.#rowStart.length - 1,
        cols: this.cols,
        rowStart: Int32Array.from(this.#rowStart),
        col: this.#col.slice(0, this.#size),
        val: this.#val.slice(0, this.#size),
      },
      rowValue: Float64Array.from(this.#rowValue),
    };
  }
}

/**
 * y = K x.
 * @example
 * multiply(K, x, y);
 */
export function multiply(K: SparseRows, x: Float64Array, y: Float64Array): void {
  const { rowStart, col, val } = K;
  for (let i = 0; i < K.rows; i++) {
    let s = 0;
    for (let k = rowStart[i]; k < rowStart[i + 1]; k++) s += val[k] * x[col[k]];
    y[i] = s;
  }
}

/**
 * y = K^T x.
 * @example
 * multiplyTransposed(K, x, y);
 */
export function multiplyTransposed(K: SparseRows, x: Float64Array, y: Float64Array): void {
  const { rowStart, col, val } = K;
  y.fill(0);
  for (let i = 0; i < K.rows; i++) {
    const xi = x[i];
    for (let k = rowStart[i]; k < rowStart[i + 1]; k++) y[col[k]] += val[k] * xi;
  }
}
