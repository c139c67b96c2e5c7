// Deterministic 2-D toy data sets (moons, 8gaussians, checkerboard, ...) with a held-out split.
import { normals, rng } from "../../core/rng.ts";

export type Toy2dGenerator = (n: number, u: () => number) => Float32Array;

function moons(n: number, u: () => number): Float32Array {
  const out = new Float32Array(2 * n);
  const z = normals(u, 2 * n);
  for (let i = 0; i < n; i++) {
    const th = Math.PI * u();
    const upper = i % 2 === 0;
    const x = upper ? Math.cos(th) : 1 - Math.cos(th);
    const y = upper ? Math.sin(th) : 0.5 - Math.sin(th);
    // Centre and scale to roughly [-3, 3] like the usual CNF benchmarks.
    out[2 * i] = 2 * (x - 0.5) + 0.1 * z[2 * i];
    out[2 * i + 1] = 2 * (y - 0.25) + 0.1 * z[2 * i + 1];
  }
  return out;
}

function eightGaussians(n: number, u: () => number): Float32Array {
  const out = new Float32Array(2 * n);
  const z = normals(u, 2 * n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(u() * 8);
    const a = (k * Math.PI) / 4;
    out[2 * i] = 2 * Math.cos(a) + 0.2 * z[2 * i];
    out[2 * i + 1] = 2 * Math.sin(a) + 0.2 * z[2 * i + 1];
  }
  return out;
}

function checkerboard(n: number, u: () => number): Float32Array {
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    // FFJORD's checkerboard: 8 unit squares alternating over [-2, 2]^2.
    const x1 = u() * 4 - 2;
    const x2 = u() - 2 * Math.floor(u() * 2) + (((Math.floor(x1) % 2) + 2) % 2);
    out[2 * i] = x1;
    out[2 * i + 1] = x2;
  }
  return out;
}

function circles(n: number, u: () => number): Float32Array {
  const out = new Float32Array(2 * n);
  const z = normals(u, 2 * n);
  for (let i = 0; i < n; i++) {
    const r = i % 2 === 0 ? 1 : 2.5;
    const a = 2 * Math.PI * u();
    out[2 * i] = r * Math.cos(a) + 0.08 * z[2 * i];
    out[2 * i + 1] = r * Math.sin(a) + 0.08 * z[2 * i + 1];
  }
  return out;
}

/**
 * Every 2-D data set by name.
 * @example
 * const points = TOY2D["moons"](500, rng(0)); // Float32Array of 500 (x, y) pairs
 */
export const TOY2D: Record<string, Toy2dGenerator> = {
  moons,
  "8gaussians": eightGaussians,
  checkerboard,
  circles,
};

export interface Toy2dSplit {
  name: string;
  train: Float32Array;
  test: Float32Array;
  nTrain: number;
  nTest: number;
}

/**
 * Deterministic train and held-out test sets (different streams of the same seed).
 * @example
 * loadToy2d("moons", 1000, 200, 0).train.length; // 2000 (1000 points, x and y)
 */
export function loadToy2d(name: string, nTrain: number, nTest: number, seed: number): Toy2dSplit {
  const gen = TOY2D[name];
  if (!gen) {
    throw new Error(`unknown toy2d data set "${name}"; valid: ${Object.keys(TOY2D).join(", ")}`);
  }
  return {
    name,
    train: gen(nTrain, rng(seed * 2 + 1)),
    test: gen(nTest, rng(seed * 2 + 2)),
    nTrain,
    nTest,
  };
}
