// Pairwise squared Euclidean distances between two point sets, on the CPU in float64 (exact up to
// rounding, no |a|^2 + |b|^2 - 2ab cancellation) or on the tfjs backend in float32 (fast, GPU).
import { type Tensor, tf } from "../tf.ts";

function rows(name: string, x: Float32Array, count: number, d: number): void {
  if (x.length !== count * d) {
    throw new RangeError(
      `sqdist: ${name} has length ${x.length}, expected ${count} rows x ${d} dims = ${count * d}`,
    );
  }
}

/**
 * Squared distances D[i * m + j] = |a_i - b_j|^2 for row-major a (n x d) and b (m x d).
 * Accumulates differences in float64, so identical points give exactly 0.
 * @example
 * const D = sqdist(new Float32Array([0, 0]), new Float32Array([3, 4, 1, 0]), 1, 2, 2); // [25, 1]
 */
export function sqdist(
  a: Float32Array,
  b: Float32Array,
  n: number,
  m: number,
  d: number,
): Float64Array {
  if (!Number.isInteger(d) || d < 1) {
    throw new RangeError(`sqdist: d must be a positive integer, got ${d}`);
  }
  rows("a", a, n, d);
  rows("b", b, m, d);
  const out = new Float64Array(n * m);
  if (d === 2) { // the common 2-D case, unrolled
    for (let i = 0; i < n; i++) {
      const a0 = a[2 * i], a1 = a[2 * i + 1], o = i * m;
      for (let j = 0; j < m; j++) {
        const e0 = a0 - b[2 * j], e1 = a1 - b[2 * j + 1];
        out[o + j] = e0 * e0 + e1 * e1;
      }
    }
    return out;
  }
  // Four rows of a at a time: each b value loaded once serves four accumulators, which roughly
  // halves the time for large d (the b rows are streamed from memory n/4 times instead of n).
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const a0 = i * d, a1 = a0 + d, a2 = a1 + d, a3 = a2 + d;
    for (let j = 0; j < m; j++) {
      const bj = j * d;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < d; k++) {
        const bk = b[bj + k];
        const e0 = a[a0 + k] - bk, e1 = a[a1 + k] - bk;
        const e2 = a[a2 + k] - bk, e3 = a[a3 + k] - bk;
        s0 += e0 * e0;
        s1 += e1 * e1;
        s2 += e2 * e2;
        s3 += e3 * e3;
      }
      out[i * m + j] = s0;
      out[(i + 1) * m + j] = s1;
      out[(i + 2) * m + j] = s2;
      out[(i + 3) * m + j] = s3;
    }
  }
  for (; i < n; i++) {
    const ai = i * d;
    for (let j = 0; j < m; j++) {
      const bj = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) {
        const e = a[ai + k] - b[bj + k];
        s += e * e;
      }
      out[i * m + j] = s;
    }
  }
  return out;
}

/**
 * Squared distances between the examples of two batches (each example flattened), as an n x m
 * row-major Float64Array. On accelerated backends (wasm, webgpu, tensorflow) it is one matmul:
 * |a|^2 + |b|^2 - 2 a.b in float32, clamped at 0, with absolute error about 1e-7 times the
 * squared norms (harmless for pairing, not for exact-zero tests). On the "cpu" backend it reads
 * the data back and uses sqdist() (float64), which is faster there than tfjs's cpu matmul.
 * Does not dispose its inputs and leaves no tensors behind.
 * @example
 * const d = await sqdistTensor(tf.tensor2d([[0, 0], [1, 1]]), tf.tensor2d([[1, 0]]));
 * // Float64Array [1, 1]
 */
export async function sqdistTensor(a: Tensor, b: Tensor): Promise<Float64Array> {
  const n = a.shape[0] ?? 0, m = b.shape[0] ?? 0;
  const da = a.size / Math.max(n, 1), db = b.size / Math.max(m, 1);
  if (a.rank < 1 || b.rank < 1 || (n > 0 && m > 0 && da !== db)) {
    throw new RangeError(
      `sqdistTensor: examples must have the same size; got shapes [${a.shape}] and [${b.shape}]`,
    );
  }
  if (n === 0 || m === 0) return new Float64Array(0);
  if (tf.getBackend() === "cpu") {
    // tfjs's cpu matmul is slower than the float64 loop above (and less exact): use the loop.
    const [va, vb] = await Promise.all([a.data(), b.data()]);
    return sqdist(Float32Array.from(va), Float32Array.from(vb), n, m, da);
  }
  const c = tf.tidy(() => {
    const fa = tf.reshape(a, [n, da]).toFloat();
    const fb = tf.reshape(b, [m, db]).toFloat();
    const na = tf.sum(tf.square(fa), 1, true); // [n, 1]
    const nb = tf.reshape(tf.sum(tf.square(fb), 1), [1, m]); // [1, m]
    const cross = tf.matMul(fa, tf.transpose(fb)); // explicit transpose: fast on every backend
    return tf.relu(tf.sub(tf.add(na, nb), tf.mul(cross, 2)));
  });
  try {
    return Float64Array.from(await c.data() as Float32Array);
  } finally {
    c.dispose();
  }
}
