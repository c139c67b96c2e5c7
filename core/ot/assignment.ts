// Exact linear assignment (minimum-cost perfect matching) on a dense n x n cost matrix: the
// Jonker-Volgenant shortest-augmenting-path method with column potentials, started from prices
// found by an epsilon-scaling auction. O(n^3) worst case, far less in practice.
//
// Everything works on column potentials v (one per column): the reduced cost of (i, j) is
// cost[i][j] - v[j]. Invariant of every phase: each assigned row's column minimises that row's
// reduced cost. Then the row potential u[i] = (that minimum) and cost[i][j] - u[i] - v[j] >= 0
// everywhere, with equality on the matching, so a complete matching is optimal (LP duality).
// The auction only proposes prices; optimality comes from the Dijkstra phase alone.

/** The optimal matching: row i is matched to column rowToCol[i]; total is the summed cost. */
export interface Assignment {
  rowToCol: Int32Array;
  total: number;
}

/** The matching plus an optimality certificate: u[i] + v[j] <= cost[i][j], equality on matches. */
export interface AssignmentWithDuals extends Assignment {
  /** Row potentials. */
  u: Float64Array;
  /** Column potentials. */
  v: Float64Array;
}

/** How the starting prices and partial matching are found (the result is optimal either way). */
export interface AssignmentOptions {
  /**
   * "auction" (default): epsilon-scaling auction prices, then each row takes its cheapest column
   * if still free. Near-optimal prices keep the shortest-path searches short, which matters on
   * geometric costs (10x faster at n = 1000 on 2-D point clouds). "reduction": JV's classic
   * column reduction and reduction transfer.
   */
  init?: "auction" | "reduction";
}

/**
 * Rounds of augmenting row reduction. JV use two; each round re-assigns free rows greedily and
 * lowers column prices, which usually leaves only a handful of rows for the augmentation phase.
 */
const ARR_ROUNDS = 2;
/** Auction epsilon schedule, relative to the cost range: from START down to END by FACTOR. */
const AUCTION_START = 1e-2, AUCTION_END = 1e-4, AUCTION_FACTOR = 10;
/** Auction bids allowed per row over all stages; past it the exact phases take over as they are. */
const AUCTION_BIDS_PER_ROW = 100;

/** A list of free rows. */
interface Free {
  rows: Int32Array;
  count: number;
}

function validate(cost: Float64Array, n: number): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`solveAssignment: n must be a non-negative integer, got ${n}`);
  }
  if (!(cost instanceof Float64Array) || cost.length !== n * n) {
    const got = cost instanceof Float64Array ? `length ${cost.length}` : String(cost);
    throw new RangeError(
      `solveAssignment: cost must be a Float64Array of length n*n = ${n * n}, got ${got}`,
    );
  }
  for (let k = 0; k < cost.length; k++) {
    if (!Number.isFinite(cost[k])) {
      const i = Math.floor(k / n), j = k % n;
      throw new RangeError(
        `solveAssignment: cost[${i}][${j}] = ${cost[k]} is not finite; costs must be finite`,
      );
    }
  }
}

/**
 * Solve the linear assignment problem for a row-major n x n cost matrix (minimise the total).
 * For a maximisation, negate the costs.
 * @example
 * const { rowToCol, total } = solveAssignment(new Float64Array([4, 1, 2, 3]), 2); // [1, 0], 3
 */
export function solveAssignment(
  cost: Float64Array,
  n: number,
  opts: AssignmentOptions = {},
): Assignment {
  const { rowToCol, total } = solveAssignmentWithDuals(cost, n, opts);
  return { rowToCol, total };
}

/**
 * As solveAssignment, and also return the dual potentials (u, v), which certify optimality:
 * cost[i][j] - u[i] - v[j] >= 0 for all (i, j), with equality (up to rounding) on the matching.
 * @example
 * const { rowToCol, u, v } = solveAssignmentWithDuals(new Float64Array([4, 1, 2, 3]), 2);
 * // rowToCol: [1, 0]; cost[i][rowToCol[i]] - u[i] - v[rowToCol[i]] ~ 0
 */
export function solveAssignmentWithDuals(
  cost: Float64Array,
  n: number,
  opts: AssignmentOptions = {},
): AssignmentWithDuals {
  validate(cost, n);
  const init = opts.init ?? "auction";
  if (init !== "auction" && init !== "reduction") {
    throw new RangeError(`solveAssignment: init must be "auction" or "reduction", got "${init}"`);
  }
  const x = new Int32Array(n).fill(-1); // x[i]: column of row i (-1: free)
  const y = new Int32Array(n).fill(-1); // y[j]: row of column j (-1: free)
  const v = new Float64Array(n); // column potentials

  let cmin = Infinity, cmax = -Infinity;
  for (let k = 0; k < cost.length; k++) {
    if (cost[k] < cmin) cmin = cost[k];
    if (cost[k] > cmax) cmax = cost[k];
  }
  let free: Free;
  if (init === "auction" && n > 1 && cmax > cmin) {
    auctionPrices(cost, n, v, cmax - cmin);
    free = cheapestColumnInit(cost, n, x, y, v);
  } else {
    free = reductionInit(cost, n, x, y, v);
  }
  free = augmentingRowReduction(cost, n, x, y, v, free);
  augment(cost, n, x, y, v, free);

  let total = 0;
  const u = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = cost[i * n + x[i]];
    total += c;
    u[i] = c - v[x[i]];
  }
  return { rowToCol: x, total, u, v };
}

/**
 * JV's start. Column reduction: v[j] = min_i cost[i][j], and column j goes to its cheapest row if
 * that row has none yet (columns from last to first, as JV do). Reduction transfer: a row matched
 * exactly once hands its slack to its column, lowering v[j] so that the row's reduced cost there
 * equals its second-best reduced cost. Rows with no column are returned free.
 */
function reductionInit(
  cost: Float64Array,
  n: number,
  x: Int32Array,
  y: Int32Array,
  v: Float64Array,
): Free {
  const matches = new Int32Array(n);
  for (let j = n - 1; j >= 0; j--) {
    let min = cost[j], imin = 0;
    for (let i = 1; i < n; i++) {
      const c = cost[i * n + j];
      if (c < min) {
        min = c;
        imin = i;
      }
    }
    v[j] = min;
    if (++matches[imin] === 1) {
      x[imin] = j;
      y[j] = imin;
    }
  }
  const rows = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (matches[i] === 0) {
      rows[count++] = i;
    } else if (matches[i] === 1) {
      const j1 = x[i], row = i * n;
      let min = Infinity;
      for (let j = 0; j < n; j++) {
        if (j !== j1) {
          const h = cost[row + j] - v[j];
          if (h < min) min = h;
        }
      }
      if (min < Infinity) v[j1] -= min;
    }
  }
  return { rows, count };
}

/**
 * Epsilon-scaling forward auction (Bertsekas), used only for its prices (written into v). In a
 * stage with step eps, a free row bids for its cheapest column j1 by reduced cost, lowering
 * v[j1] by (second cheapest - cheapest) + eps, and takes it, freeing its previous holder. A stage
 * ends when every row holds a column; eps then shrinks, the matching is dropped and prices kept.
 * Bids are capped, so it always ends; any prices are a valid start for the exact phases.
 */
function auctionPrices(cost: Float64Array, n: number, v: Float64Array, range: number): void {
  const owner = new Int32Array(n);
  const queue = new Int32Array(n); // circular queue of free rows
  let bidsLeft = AUCTION_BIDS_PER_ROW * n;
  const end = AUCTION_END * range;
  for (let eps = AUCTION_START * range; bidsLeft > 0; eps = Math.max(eps / AUCTION_FACTOR, end)) {
    owner.fill(-1);
    for (let i = 0; i < n; i++) queue[i] = i;
    let head = 0, count = n;
    while (count > 0 && bidsLeft-- > 0) {
      const i = queue[head];
      head = head + 1 === n ? 0 : head + 1;
      count--;
      const row = i * n;
      let w1 = Infinity, w2 = Infinity, j1 = 0;
      for (let j = 0; j < n; j++) {
        const h = cost[row + j] - v[j];
        if (h < w2) {
          if (h < w1) {
            w2 = w1;
            w1 = h;
            j1 = j;
          } else {
            w2 = h;
          }
        }
      }
      v[j1] -= w2 - w1 + eps;
      const prev = owner[j1];
      owner[j1] = i;
      if (prev >= 0) {
        queue[(head + count) % n] = prev;
        count++;
      }
    }
    if (eps <= end) break;
  }
}

/** Given prices v, each row in turn takes its cheapest column if no earlier row took it. */
function cheapestColumnInit(
  cost: Float64Array,
  n: number,
  x: Int32Array,
  y: Int32Array,
  v: Float64Array,
): Free {
  const rows = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let best = Infinity, jb = 0;
    for (let j = 0; j < n; j++) {
      const h = cost[row + j] - v[j];
      if (h < best) {
        best = h;
        jb = j;
      }
    }
    if (y[jb] < 0) {
      y[jb] = i;
      x[i] = jb;
    } else {
      rows[count++] = i;
    }
  }
  return { rows, count };
}

/**
 * JV's augmenting row reduction: each free row takes its cheapest column, evicting that column's
 * row; the column's price drops by the gap to the row's second-cheapest so the evicted row may
 * go elsewhere (an auction step with eps = 0, which keeps the invariant exact). A step cap keeps
 * floating-point near-ties from cycling for long; rows left free go to the Dijkstra phase.
 */
function augmentingRowReduction(
  cost: Float64Array,
  n: number,
  x: Int32Array,
  y: Int32Array,
  v: Float64Array,
  start: Free,
): Free {
  let free = start.rows, nFree = start.count;
  const cap = 4 * n + 16;
  for (let round = 0; round < ARR_ROUNDS && nFree > 0; round++) {
    const next = new Int32Array(n);
    let nNext = 0;
    let k = 0, steps = 0;
    while (k < nFree) {
      const i = free[k++];
      if (++steps > cap) { // give up on this round: keep the row free for later
        next[nNext++] = i;
        continue;
      }
      const row = i * n;
      let u1 = cost[row] - v[0], u2 = Infinity, j1 = 0, j2 = -1;
      for (let j = 1; j < n; j++) {
        const h = cost[row + j] - v[j];
        if (h < u2) {
          if (h >= u1) {
            u2 = h;
            j2 = j;
          } else {
            u2 = u1;
            u1 = h;
            j2 = j1;
            j1 = j;
          }
        }
      }
      let i0 = y[j1];
      if (u1 < u2) {
        v[j1] -= u2 - u1; // strict: make j1 exactly as dear as the second best for row i
      } else if (i0 >= 0 && j2 >= 0) {
        j1 = j2; // tie and j1 taken: take the equally cheap j2 instead
        i0 = y[j1];
      }
      x[i] = j1;
      y[j1] = i;
      if (i0 >= 0) {
        x[i0] = -1;
        if (u1 < u2) free[--k] = i0; // retry the evicted row now (its prices just changed)
        else next[nNext++] = i0;
      }
    }
    free = next;
    nFree = nNext;
  }
  return { rows: free, count: nFree };
}

/**
 * Shortest augmenting paths. For each free row, grow a shortest-path tree over columns on the
 * reduced costs (Dijkstra) until it reaches a free column; lower the prices of the columns it
 * finished by how much farther the free column was (keeps the invariant), and flip the
 * alternating path. Each step relaxes the unfinished columns through the row of the column just
 * finished and finds the next closest in the same pass. Unfinished columns are kept compacted
 * (position k holds column col[k], its distance dist[k], price vk[k] and predecessor row pk[k])
 * so the pass reads memory in order; a finished column is swapped out past the live range.
 */
function augment(
  cost: Float64Array,
  n: number,
  x: Int32Array,
  y: Int32Array,
  v: Float64Array,
  free: Free,
): void {
  const col = new Int32Array(n), pk = new Int32Array(n);
  const dist = new Float64Array(n), vk = new Float64Array(n);
  const doneCol = new Int32Array(n), doneDist = new Float64Array(n);
  const pred = new Int32Array(n); // predecessor row of each finished column
  for (let f = 0; f < free.count; f++) {
    const start = free.rows[f];
    const srow = start * n;
    let best = Infinity, kb = 0;
    for (let j = 0; j < n; j++) {
      const h = cost[srow + j] - v[j];
      col[j] = j;
      vk[j] = v[j];
      dist[j] = h;
      pk[j] = start;
      if (h < best || (h === best && y[j] < 0)) { // on ties prefer a free column: path ends
        best = h;
        kb = j;
      }
    }
    let live = n, nDone = 0, end = -1, min = 0;
    for (;;) {
      // Finish the closest unfinished column (position kb).
      const j1 = col[kb];
      min = dist[kb];
      pred[j1] = pk[kb];
      if (y[j1] < 0) {
        end = j1;
        break;
      }
      doneCol[nDone] = j1;
      doneDist[nDone++] = min;
      const last = --live;
      col[kb] = col[last];
      dist[kb] = dist[last];
      vk[kb] = vk[last];
      pk[kb] = pk[last];
      // Relax through j1's row and pick the next closest column.
      const i = y[j1], row = i * n;
      const u1 = cost[row + j1] - v[j1] - min;
      best = Infinity;
      for (let k = 0; k < live; k++) {
        let dk = dist[k];
        const h = cost[row + col[k]] - vk[k] - u1;
        if (h < dk) {
          dk = h;
          dist[k] = h;
          pk[k] = i;
        }
        if (dk < best || (dk === best && y[col[k]] < 0)) {
          best = dk;
          kb = k;
        }
      }
    }
    for (let k = 0; k < nDone; k++) v[doneCol[k]] += doneDist[k] - min;
    // Flip the alternating path back to the start row.
    for (;;) {
      const i = pred[end];
      y[end] = i;
      const next = x[i];
      x[i] = end;
      if (i === start) break;
      end = next;
    }
  }
}
