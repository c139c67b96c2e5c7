// Nearest-neighbour geometry of feature sets for precision/recall and density/coverage: k-th
// neighbour radii and ball-membership tests, from blocked Gram products on the tfjs backend with
// every decision that float32 round-off could flip re-decided exactly in float64.
import { tf } from "../core/tf.ts";

/**
 * A set of feature vectors: row-major [n, dim] float32.
 * @example
 * const set: FeatureRows = { data: Float32Array.of(0, 0, 3, 4), dim: 2 }; // two 2-d rows
 */
export interface FeatureRows {
  data: Float32Array;
  dim: number;
}

/** Options of the blocked distance passes. */
export interface NeighbourOptions {
  /**
   * Bound on the relative error of one float32 Gram entry, in units of |a|^2 + |b|^2 (of the
   * centred rows): a decision whose approximate squared distance is within this of the threshold
   * is re-decided from the exact float64 distance. Default 2e-3 (covers float32 and TF32 products).
   */
  relTol?: number;
  /** Cap on the float32 values of one Gram block (rows x columns); default 16M (64 MB). */
  blockValues?: number;
}

/** Number of rows of a feature set, with its shape checked. */
export function rowCount(x: FeatureRows, what = "features"): number {
  const n = x.data.length / x.dim;
  if (!Number.isInteger(x.dim) || x.dim < 1 || !Number.isInteger(n)) {
    throw new Error(
      `${what}: ${x.data.length} values is not a whole number of rows of dimension ${x.dim}`,
    );
  }
  return n;
}

/** The float64 mean of the rows. */
function meanRow(x: FeatureRows, n: number): Float64Array {
  const d = x.dim;
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) mu[k] += x.data[i * d + k];
  }
  for (let k = 0; k < d; k++) mu[k] /= n;
  return mu;
}

/** Rows minus `mu` (float32, for the Gram products) and their float64 squared norms. */
function centred(x: FeatureRows, n: number, mu: Float64Array): {
  rows: Float32Array;
  norms: Float64Array;
} {
  const d = x.dim;
  const rows = new Float32Array(n * d);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) {
      const v = Math.fround(x.data[i * d + k] - mu[k]);
      rows[i * d + k] = v;
      s += v * v;
    }
    norms[i] = s;
  }
  return { rows, norms };
}

/**
 * Squared Euclidean distance between row i of a and row j of b, in float64 from the original
 * float32 values (the exact value up to float64 round-off).
 * @example
 * exactSquaredDistance(Float32Array.of(0, 0), 0, Float32Array.of(3, 4), 0, 2); // 25
 */
export function exactSquaredDistance(
  a: Float32Array,
  i: number,
  b: Float32Array,
  j: number,
  d: number,
): number {
  const ai = i * d, bj = j * d;
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = a[ai + k] - b[bj + k];
    s += t * t;
  }
  return s;
}

/**
 * Visit the float32 Gram matrix a b^T (centred rows) block of rows by block of rows, on the tfjs
 * backend: b is uploaded once, each block of a's rows once.
 */
async function forEachGramBlock(
  a: Float32Array,
  na: number,
  b: Float32Array,
  nb: number,
  d: number,
  blockValues: number,
  visit: (gram: Float32Array, row0: number, rows: number) => void,
): Promise<void> {
  const rowsPerBlock = Math.max(1, Math.min(na, Math.floor(blockValues / Math.max(nb, 1))));
  const bt = tf.tensor2d(b, [nb, d]);
  try {
    for (let row0 = 0; row0 < na; row0 += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, na - row0);
      const product = tf.tidy(() => {
        const at = tf.tensor2d(a.subarray(row0 * d, (row0 + rows) * d), [rows, d]);
        return tf.matMul(at, bt, false, true);
      });
      let gram: Float32Array;
      try {
        gram = await product.data() as Float32Array;
      } finally {
        product.dispose();
      }
      visit(gram, row0, rows);
    }
  } finally {
    bt.dispose();
  }
}

/**
 * For each row, the distance to its k-th nearest neighbour in the same set, for each k in `ks`:
 * the (k+1)-th smallest of its distances to every row including itself (torch-fidelity's
 * `kthvalue(k + 1)`, prdc's `get_kth_value(k + 1)`). Float32 Gram blocks on the tfjs backend pick
 * a few candidates per row; their distances are then recomputed exactly in float64, and a row
 * whose candidates cannot be proven to contain its neighbours is recomputed in full.
 * @example
 * const [r3, r5] = await kNearestRadii({ data: feats, dim: 2048 }, [3, 5]); // Float64Array(n) each
 */
export async function kNearestRadii(
  x: FeatureRows,
  ks: number[],
  opts: NeighbourOptions = {},
): Promise<Float64Array[]> {
  const n = rowCount(x);
  const d = x.dim;
  const kmax = Math.max(...ks);
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new Error(`kNearestRadii: k must be positive integers, got [${ks}]`);
  }
  if (kmax + 1 > n) {
    throw new Error(`kNearestRadii: k = ${kmax} needs at least ${kmax + 1} rows, got ${n}`);
  }
  const relTol = opts.relTol ?? 2e-3;
  const q = kmax + 1; // rank needed, counting the row itself
  const keep = Math.min(n, q + 4); // candidates kept per row
  const { rows, norms } = centred(x, n, meanRow(x, n));
  let maxNorm = 0;
  for (let j = 0; j < n; j++) maxNorm = Math.max(maxNorm, norms[j]);
  const candVal = new Float64Array(n * keep).fill(Infinity);
  const candIdx = new Int32Array(n * keep).fill(-1);
  await forEachGramBlock(rows, n, rows, n, d, opts.blockValues ?? 16e6, (gram, row0, count) => {
    for (let r = 0; r < count; r++) {
      const i = row0 + r;
      const base = i * keep;
      const ni = norms[i];
      let worst = Infinity; // the largest kept value once the list is full
      let filled = 0;
      const g = r * n;
      for (let j = 0; j < n; j++) {
        const v = ni + norms[j] - 2 * gram[g + j];
        if (filled === keep && v >= worst) continue;
        // Insert into the sorted list (ascending), dropping the last when full.
        let p = filled < keep ? filled++ : keep - 1;
        while (p > 0 && candVal[base + p - 1] > v) {
          candVal[base + p] = candVal[base + p - 1];
          candIdx[base + p] = candIdx[base + p - 1];
          p--;
        }
        candVal[base + p] = v;
        candIdx[base + p] = j;
        if (filled === keep) worst = candVal[base + keep - 1];
      }
    }
  });
  const out = ks.map(() => new Float64Array(n));
  const exact = new Float64Array(keep);
  for (let i = 0; i < n; i++) {
    const base = i * keep;
    for (let c = 0; c < keep; c++) {
      const j = candIdx[base + c];
      exact[c] = j === i ? 0 : exactSquaredDistance(x.data, i, x.data, j, d);
    }
    const sorted = Array.from(exact).sort((p, r) => p - r);
    // Rows not kept have an approximate value >= the last kept one, so an exact value >= that
    // minus the error bound; if that cannot undercut the q-th exact value, the candidates hold
    // the q nearest. Otherwise (near-ties at the cut) take every distance of the row exactly.
    const floor = candVal[base + keep - 1] - relTol * (norms[i] + maxNorm);
    const full = keep < n && !(sorted[q - 1] <= floor) ? fullRow(x, i, n) : sorted;
    ks.forEach((k, t) => out[t][i] = Math.sqrt(full[k]));
  }
  return out;
}

/** Every squared distance of row i to the rows of x, sorted (the rare fallback). */
function fullRow(x: FeatureRows, i: number, n: number): number[] {
  const all: number[] = new Array(n);
  for (let j = 0; j < n; j++) {
    all[j] = j === i ? 0 : exactSquaredDistance(x.data, i, x.data, j, x.dim);
  }
  return all.sort((p, r) => p - r);
}

/** How a distance is compared with a radius: `<=` (torch-fidelity) or `<` (prdc). */
export type BallRule = "inclusive" | "strict";

/** Options of crossBallTests. */
export interface CrossBallOptions extends NeighbourOptions {
  /** The reference rows (the balls' centres for `referenceRadii`). */
  reference: FeatureRows;
  /** The generated rows (the balls' centres for `generatedRadii`). */
  generated: FeatureRows;
  /** A radius per reference row: balls around the reference rows. */
  referenceRadii: Float64Array;
  /** A radius per generated row, if generated balls are tested too. */
  generatedRadii?: Float64Array;
  rule: BallRule;
}

/** What crossBallTests finds. */
export interface CrossBalls {
  /** Per generated row: how many reference balls contain it. */
  generatedInReferenceBalls: Int32Array;
  /** Per reference row: whether its ball contains some generated row. */
  referenceBallOccupied: Uint8Array;
  /** Per reference row: whether it lies in some generated ball (when generatedRadii is given). */
  referenceInGeneratedBalls?: Uint8Array;
  /** Pair decisions re-decided exactly because float32 round-off could have flipped them. */
  rechecked: number;
}

/**
 * Ball-membership tests between the reference and generated sets over every pair, from blocked
 * float32 Gram products on the tfjs backend; pairs within the round-off bound of a radius are
 * re-decided from the exact float64 distance, so the answer is that of exact arithmetic.
 * @example
 * const t = await crossBallTests({ reference, generated, referenceRadii: r3, rule: "inclusive" });
 * t.generatedInReferenceBalls; // Int32Array: reference balls around each generated row
 */
export async function crossBallTests(opts: CrossBallOptions): Promise<CrossBalls> {
  const { reference, generated } = opts;
  const nr = rowCount(reference, "reference features");
  const ng = rowCount(generated, "generated features");
  const d = reference.dim;
  if (generated.dim !== d) {
    throw new Error(`feature dimensions differ: reference ${d}, generated ${generated.dim}`);
  }
  const rr = opts.referenceRadii;
  const gr = opts.generatedRadii;
  if (rr.length !== nr || (gr && gr.length !== ng)) {
    throw new Error(
      `radii: ${rr.length} for ${nr} reference rows` + (gr ? `, ${gr.length} for ${ng}` : ""),
    );
  }
  const relTol = opts.relTol ?? 2e-3;
  const inclusive = opts.rule === "inclusive";
  const mu = meanRow(reference, nr);
  const ref = centred(reference, nr, mu);
  const gen = centred(generated, ng, mu);
  const rr2 = rr.map((r) => r * r);
  const gr2 = gr?.map((r) => r * r);
  const counts = new Int32Array(ng);
  const occupied = new Uint8Array(nr);
  const covered = gr ? new Uint8Array(nr) : undefined;
  let rechecked = 0;
  // Inside, outside, or too close to call from the float32 value: then the exact distance is
  // compared with the radius itself (as the references compare distances, not squares).
  const inside = (
    approx: number,
    radius: number,
    t2: number,
    margin: number,
    i: number,
    j: number,
  ) => {
    if (approx < t2 - margin) return true;
    if (approx > t2 + margin) return false;
    rechecked++;
    const e = Math.sqrt(exactSquaredDistance(reference.data, i, generated.data, j, d));
    return inclusive ? e <= radius : e < radius;
  };
  await forEachGramBlock(
    ref.rows,
    nr,
    gen.rows,
    ng,
    d,
    opts.blockValues ?? 16e6,
    (gram, row0, rows) => {
      for (let r = 0; r < rows; r++) {
        const i = row0 + r;
        const ni = ref.norms[i];
        const t2 = rr2[i];
        const g = r * ng;
        let hit = 0;
        let cov = covered ? covered[i] : 1;
        for (let j = 0; j < ng; j++) {
          const nj = gen.norms[j];
          const approx = ni + nj - 2 * gram[g + j];
          const margin = relTol * (ni + nj);
          if (inside(approx, rr[i], t2, margin, i, j)) {
            counts[j]++;
            hit = 1;
          }
          if (!cov && inside(approx, gr![j], gr2![j], margin, i, j)) cov = 1;
        }
        occupied[i] = hit;
        if (covered) covered[i] = cov;
      }
    },
  );
  return {
    generatedInReferenceBalls: counts,
    referenceBallOccupied: occupied,
    ...(covered ? { referenceInGeneratedBalls: covered } : {}),
    rechecked,
  };
}
