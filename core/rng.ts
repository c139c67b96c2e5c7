// Small seeded PRNG (mulberry32) and helpers, so every run is reproducible from its seed.

/**
 * A seeded uniform generator on [0, 1).
 * @example
 * const u = rng(0);
 * u(); // 0.26642920868471265
 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Standard normal draws by Box-Muller from a uniform generator.
 * @example
 * const z = normals(rng(0), 3); // Float32Array [0.787..., 0.0016..., 0.431...]
 */
export function normals(u: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const th = 2 * Math.PI * u();
    out[i] = r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

/**
 * Derive a sub-seed from a seed and a label (stable string hash mixing).
 * @example
 * const u = rng(subSeed(seed, "train")); // subSeed(0, "train") = 929808997
 */
export function subSeed(seed: number, label: string | number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  const s = String(label);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * n values in [-1, 1) from the LCG s <- 1664525 s + 1013904223 (mod 2^32), started at `seed`:
 * varied, reproducible values that a few lines of any language regenerate exactly (the native
 * kernels' start-up check; bench/torch_reference.py's det_uniform builds the same weights).
 * @example
 * lcgUniform(3, 1000); // three values in [-1, 1)
 */
export function lcgUniform(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    out[i] = 2 * (s / 4294967296) - 1;
  }
  return out;
}
