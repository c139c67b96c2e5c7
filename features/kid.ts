// Kernel inception distance (Binkowski et al.) as clean-fid and torch-fidelity compute it: the
// unbiased MMD^2 with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random
// subsets (100 of min(1000, n) features each, drawn without replacement), with its std over them.
import { rng } from "../core/rng.ts";
import { tf } from "../core/tf.ts";

/** Dot products of the rows of a [m, d] with the rows of b [n, d], row-major [m, n]. */
export type DotProducts = (
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  d: number,
) => Float64Array | Float32Array | Promise<Float64Array | Float32Array>;

/** Options for kid. */
export interface KidOptions {
  /** Number of subsets (default 100, as both libraries). */
  subsets?: number;
  /** Features per subset (default 1000, capped at the smaller feature count, as clean-fid). */
  subsetSize?: number;
  /** Seed of the subset draws (default 0). */
  seed?: number;
  /** How to form the Gram blocks (default: in float64 on the CPU; tfDotProducts uses tfjs). */
  dot?: DotProducts;
}

/** A KID estimate with what it was computed from. */
export interface KidResult {
  /** Mean over subsets of the unbiased MMD^2. */
  mean: number;
  /** Standard deviation over subsets (population std, as torch-fidelity's np.std). */
  std: number;
  subsets: number;
  subsetSize: number;
  nGenerated: number;
  nReference: number;
}

/**
 * Row dot products in float64 on the CPU (exact up to float64 round-off).
 * @example
 * cpuDotProducts(Float32Array.of(1, 2), Float32Array.of(3, 4), 1, 1, 2); // [11]
 */
export const cpuDotProducts: DotProducts = (a, b, m, n, d) => {
  const out = new Float64Array(m * n);
  const a64 = Float64Array.from(a.subarray(0, m * d));
  const b64 = Float64Array.from(b.subarray(0, n * d));
  for (let i = 0; i < m; i++) {
    const ai = i * d;
    for (let j = 0; j < n; j++) {
      const bj = j * d;
      let s0 = 0, s1 = 0;
      let k = 0;
      for (; k + 2 <= d; k += 2) {
        s0 += a64[ai + k] * b64[bj + k];
        s1 += a64[ai + k + 1] * b64[bj + k + 1];
      }
      if (k < d) s0 += a64[ai + k] * b64[bj + k];
      out[i * n + j] = s0 + s1;
    }
  }
  return out;
};

/**
 * Row dot products with a tfjs matMul on the active backend (a GPU when there is one); the
 * products are float32, the kernel and its sums are then taken in float64. The read-back is
 * asynchronous (a synchronous one throws on Deno's webgpu).
 * @example
 * const r = await kid(gen, ref, 2048, { dot: tfDotProducts });
 */
export const tfDotProducts: DotProducts = async (a, b, m, n, d) => {
  const product = tf.tidy(() => {
    const x = tf.tensor2d(a.subarray(0, m * d), [m, d]);
    const y = tf.tensor2d(b.subarray(0, n * d), [n, d]);
    return tf.matMul(x, y, false, true);
  });
  try {
    return await product.data() as Float32Array;
  } finally {
    product.dispose();
  }
};

/** Pick `m` distinct indices of [0, n) (partial Fisher-Yates with the given uniform draw). */
function sampleWithoutReplacement(n: number, m: number, u: () => number): Int32Array {
  const pool = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(u() * (n - i));
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  return pool.slice(0, m);
}

function gather(features: Float32Array, idx: Int32Array, d: number): Float32Array {
  const out = new Float32Array(idx.length * d);
  idx.forEach((r, i) => out.set(features.subarray(r * d, (r + 1) * d), i * d));
  return out;
}

/**
 * Unbiased MMD^2 of two equal-size samples from their dot-product blocks, with the cubic kernel:
 * (sum_{i != j} k(x_i, x_j) + sum_{i != j} k(y_i, y_j)) / (m (m - 1)) - 2 sum_{i, j} k(x_i, y_j) / m^2.
 * @example
 * mmd2Cubic(xx, yy, xy, m, 2048); // xx, yy, xy: [m, m] dot products
 */
export function mmd2Cubic(
  xx: ArrayLike<number>,
  yy: ArrayLike<number>,
  xy: ArrayLike<number>,
  m: number,
  d: number,
): number {
  const k = (dot: number) => {
    const t = dot / d + 1;
    return t * t * t;
  };
  let same = 0, cross = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const o = i * m + j;
      if (i !== j) same += k(xx[o]) + k(yy[o]);
      cross += k(xy[o]);
    }
  }
  return same / (m * (m - 1)) - (2 * cross) / (m * m);
}

/**
 * KID between generated and reference features (row-major [n, d] float32 each).
 * @example
 * const { mean, std } = await kid(generated, reference, 2048); // 100 subsets of min(1000, n)
 */
export async function kid(
  generated: Float32Array,
  reference: Float32Array,
  d: number,
  opts: KidOptions = {},
): Promise<KidResult> {
  const nGenerated = generated.length / d;
  const nReference = reference.length / d;
  if (!Number.isInteger(nGenerated) || !Number.isInteger(nReference)) {
    throw new Error(`KID: feature arrays are not multiples of dimension ${d}`);
  }
  const subsets = opts.subsets ?? 100;
  const m = Math.min(opts.subsetSize ?? 1000, nGenerated, nReference);
  if (m < 2) {
    throw new Error(
      `KID: needs at least 2 features on each side, got ${nGenerated} and ${nReference}`,
    );
  }
  const dot = opts.dot ?? cpuDotProducts;
  const u = rng(opts.seed ?? 0);
  const values: number[] = [];
  for (let s = 0; s < subsets; s++) {
    const x = gather(generated, sampleWithoutReplacement(nGenerated, m, u), d);
    const y = gather(reference, sampleWithoutReplacement(nReference, m, u), d);
    const [xx, yy, xy] = await Promise.all([
      dot(x, x, m, m, d),
      dot(y, y, m, m, d),
      dot(x, y, m, m, d),
    ]);
    values.push(mmd2Cubic(xx, yy, xy, m, d));
  }
  const mean = values.reduce((a, b) => a + b, 0) / subsets;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / subsets);
  return { mean, std, subsets, subsetSize: m, nGenerated, nReference };
}
