// NumPy's legacy RandomState(seed).permutation(n): the Mersenne Twister MT19937 seeded by
// init_genrand, and the Fisher-Yates shuffle with NumPy's masked rejection draw, so a shuffle
// here orders samples exactly as torch-fidelity's does.

/**
 * The 32-bit Mersenne Twister (Matsumoto and Nishimura 1998), seeded as NumPy's RandomState(int).
 * @example
 * new Mt19937(5489).next(); // 3499211612, the reference generator's first output
 */
export class Mt19937 {
  private readonly mt = new Uint32Array(624);
  private index = 624;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`Mt19937: seed must be an integer in [0, 2^32), got ${seed}`);
    }
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      // 1812433253 * prev + i, modulo 2^32, without losing bits to float rounding.
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < 624; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
      mt[i] = mt[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }

  /** The next 32-bit output (tempered). */
  next(): number {
    if (this.index >= 624) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A uniform integer in [0, max] by NumPy's masked rejection (random_interval), max < 2^32. */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do v = (this.next() & mask) >>> 0; while (v > max);
    return v;
  }
}

/**
 * NumPy's `np.random.RandomState(seed).permutation(n)`: arange(n) shuffled from the last index
 * down, swapping i with a uniform draw from [0, i].
 * @example
 * numpyPermutation(10, 2020); // the order torch-fidelity's ISC visits 10 samples in
 */
export function numpyPermutation(n: number, seed: number): Int32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new Error(`numpyPermutation: n must be a non-negative integer, got ${n}`);
  }
  const out = Int32Array.from({ length: n }, (_, i) => i);
  const g = new Mt19937(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = g.interval(i);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
