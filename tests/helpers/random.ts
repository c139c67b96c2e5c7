// Seeded uniform test inputs, the same on every backend and every run.
import { rng } from "../../core/rng.ts";

/**
 * n values (u - 0.5) * scale + shift with u uniform in [0, 1) from core/rng's generator.
 * @example
 * randomArray(4, 1); // four values in [-0.5, 0.5), the same for seed 1 every time
 */
export function randomArray(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => (u() - 0.5) * scale + shift);
}
