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
   * Bound on the error of one approximate squared distance |a|^2 + |b|^2 - 2 a.b (centred rows,
   * float32 dot product), in units of |a|^2 + |b|^2: a decision within it of a threshold is
   * re-decided from the exact float64 distance. Default: see defaultRelTol.
   */
  relTol?: number;
  /** Cap on the float32 values of one Gram block (rows x columns); default 16M (64 MB). */
  blockValues?: number;
}

/**
 * The default bound on a float32 dot product's error relative to |a|^2 + |b|^2: (d + 8) u with
 * u = 2^-24 (IEEE float32 products summed in any order, their rounding to float32, the rounding
 * of the centred inputs), 5% over; 2e-3 on the tensorflow backend, whose GPU matrix products may
 * run in TF32 (10-bit mantissas).
 * @example
 * defaultRelTol(2048); // 1.29e-4 on the CPU and WebGPU backends
 */
export function defaultRelTol(d: number): number {
  return tf.getBackend() === "tensorflow" ? 2e-3 : 1.05 * (d + 8) * 2 ** -24;
}

/**
 * Number of rows of a feature set, with its shape checked (an error names the sizes).
 * @example
 * rowCount({ data: new Float32Array(6), dim: 2 }); // 3
 */
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
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new Error(`kNearestRadii: k must be positive integers, got [${ks}]`);
  }
  // The reference set is the same array for every evaluation of a run: its neighbours are
  // found once (up to k = 8, or the largest k asked) and kept while the array lives.
  const want = Math.max(...ks);
  const n = rowCount(x);
  if (want + 1 > n) {
    throw new Error(`kNearestRadii: k = ${want} needs at least ${want + 1} rows, got ${n}`);
  }
  const kmax = Math.min(Math.max(want, 8), n - 1);
  const cached = RADII_CACHE.get(x.data);
  if (cached && cached.dim === x.dim && cached.kmax >= want) {
    return ks.map((k) => cached.radii[k - 1]);
  }
  const all = await kNearestRadiiUncached(x, Array.from({ length: kmax }, (_, i) => i + 1), opts);
  RADII_CACHE.set(x.data, { dim: x.dim, kmax, radii: all });
  return ks.map((k) => all[k - 1]);
}

/** Radii for k = 1..kmax per feature array (weakly held: dropped with the array). */
const RADII_CACHE = new WeakMap<
  Float32Array,
  { dim: number; kmax: number; radii: Float64Array[] }
>();

async function kNearestRadiiUncached(
  x: FeatureRows,
  ks: number[],
  opts: NeighbourOptions,
): Promise<Float64Array[]> {
  const n = rowCount(x);
  const d = x.dim;
  const kmax = Math.max(...ks);
  const relTol = opts.relTol ?? defaultRelTol(d);
  const q = kmax + 1; // rank needed, counting the row itself
  const keep = Math.min(n, q + 4); // candidates kept per row
  const { rows, norms } = centred(x, n, meanRow(x, n));
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
    // A row j not kept has approximate value a >= A, the last kept one, and exact value
    // e >= a - relTol (n_i + n_j); with n_j <= 2 e + 2 n_i (triangle inequality) that gives
    // e >= (A - 3 relTol n_i) / (1 + 2 relTol). If that cannot undercut the q-th exact value,
    // the candidates hold the q nearest; otherwise (near-ties at the cut) take the whole row.
    const floor = (candVal[base + keep - 1] - 3 * relTol * norms[i]) / (1 + 2 * relTol);
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

/** Balls around the rows of one set, tested against the rows of the other. */
export interface BallTest {
  /** Which set the balls are centred on; the points tested are the other set's rows. */
  centres: "reference" | "generated";
  /** A radius per centre row. */
  radii: Float64Array;
  rule: BallRule;
}

/** What one BallTest finds. */
export interface BallCounts {
  /** Per row of the other set: how many of the balls contain it. */
  pointCounts: Int32Array;
  /** Per centre row: whether its ball contains some row of the other set. */
  occupied: Uint8Array;
}

/** Options of crossBallTests. */
export interface CrossBallOptions extends NeighbourOptions {
  reference: FeatureRows;
  generated: FeatureRows;
  tests: BallTest[];
}

/**
 * Ball-membership tests between the reference and generated sets over every pair, all tests in
 * one pass of blocked float32 Gram products on the tfjs backend; pairs within the round-off bound
 * of a radius are re-decided from the exact float64 distance (compared with the radius itself,
 * as the references compare distances), so the answer is that of exact arithmetic.
 * @example
 * const [inRef] = await crossBallTests({ reference, generated, tests: [{ centres: "reference", radii: r3, rule: "inclusive" }] });
 * inRef.pointCounts; // Int32Array: reference balls around each generated row
 */
export async function crossBallTests(
  opts: CrossBallOptions,
): Promise<BallCounts[] & { rechecked: number }> {
  const { reference, generated } = opts;
  const nr = rowCount(reference, "reference features");
  const ng = rowCount(generated, "generated features");
  const d = reference.dim;
  if (generated.dim !== d) {
    throw new Error(`feature dimensions differ: reference ${d}, generated ${generated.dim}`);
  }
  for (const t of opts.tests) {
    const want = t.centres === "reference" ? nr : ng;
    if (t.radii.length !== want) {
      throw new Error(`radii: ${t.radii.length} for ${want} ${t.centres} rows`);
    }
  }
  const relTol = opts.relTol ?? defaultRelTol(d);
  const mu = meanRow(reference, nr);
  const ref = centred(reference, nr, mu);
  const gen = centred(generated, ng, mu);
  const tests = opts.tests.map((t) => ({
    onReference: t.centres === "reference",
    inclusive: t.rule === "inclusive",
    radii: t.radii,
    squared: t.radii.map((r) => r * r),
    pointCounts: new Int32Array(t.centres === "reference" ? ng : nr),
    occupied: new Uint8Array(t.centres === "reference" ? nr : ng),
  }));
  let rechecked = 0;
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
        const g = r * ng;
        for (let j = 0; j < ng; j++) {
          const nj = gen.norms[j];
          const approx = ni + nj - 2 * gram[g + j];
          const margin = relTol * (ni + nj);
          let exact = -1; // the exact distance, once needed
          for (const t of tests) {
            const c = t.onReference ? i : j; // the centre's row
            const t2 = t.squared[c];
            let inside: boolean;
            if (approx < t2 - margin) inside = true;
            else if (approx > t2 + margin) inside = false;
            else {
              if (exact < 0) {
                rechecked++;
                exact = Math.sqrt(exactSquaredDistance(reference.data, i, generated.data, j, d));
              }
              inside = t.inclusive ? exact <= t.radii[c] : exact < t.radii[c];
            }
            if (inside) {
              t.pointCounts[t.onReference ? j : i]++;
              t.occupied[c] = 1;
            }
          }
        }
      }
    },
  );
  const out = tests.map((t) => ({ pointCounts: t.pointCounts, occupied: t.occupied }));
  return Object.assign(out, { rechecked });
}
