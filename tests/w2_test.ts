// Exact W2 between empirical measures: identities, translations, point masses, symmetry, the 1-D
// sorted-matching formula, brute force, and the seeded subsampling variant.
import assert from "node:assert/strict";
import { w2, w2Subsampled } from "../harness/metrics/w2.ts";
import { sqdist } from "../core/ot/sqdist.ts";
import { normals, rng } from "../core/rng.ts";

const close = (a: number, b: number, tol: number, msg = "") =>
  assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);

Deno.test("sqdist: matches a direct computation and is exactly 0 on identical rows", () => {
  for (const d of [1, 2, 3, 7]) {
    const n = 9, m = 6;
    const a = normals(rng(d), n * d), b = normals(rng(d + 10), m * d);
    const D = sqdist(a, b, n, m, d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += (a[i * d + k] - b[j * d + k]) ** 2;
        close(D[i * m + j], s, 1e-12 * (1 + s));
      }
    }
    const self = sqdist(a, a, n, n, d);
    for (let i = 0; i < n; i++) assert.equal(self[i * n + i], 0);
  }
  assert.throws(() => sqdist(new Float32Array(5), new Float32Array(4), 2, 2, 2), /a has length 5/);
});

Deno.test("w2: identical sets (in any order) are at distance 0", () => {
  const n = 50, d = 3;
  const a = normals(rng(1), n * d);
  assert.equal(w2(a, a, n, d), 0);
  const shuffled = new Float32Array(n * d);
  for (let i = 0; i < n; i++) shuffled.set(a.subarray(i * d, i * d + d), ((i * 7) % n) * d);
  assert.equal(w2(a, shuffled, n, d), 0);
});

Deno.test("w2: a set and its translate by c are at distance |c|", () => {
  const n = 60, d = 2;
  const a = normals(rng(2), n * d);
  for (const c of [[3, -4], [0.1, 0.2], [-10, 0]]) {
    const b = a.map((v, k) => v + c[k % d]);
    close(w2(a, b, n, d), Math.hypot(...c), 1e-5 * (1 + Math.hypot(...c)), `c=${c}`);
  }
});

Deno.test("w2: point masses at p and q are at distance |p - q|", () => {
  const n = 20, d = 3, p = [1, 2, 3], q = [-1, 0, 4];
  const a = Float32Array.from({ length: n * d }, (_, k) => p[k % d]);
  const b = Float32Array.from({ length: n * d }, (_, k) => q[k % d]);
  close(w2(a, b, n, d), Math.hypot(2, 2, -1), 1e-6);
  // A point mass against a spread set: W2^2 = mean |b_i - p|^2.
  const s = normals(rng(3), n * d);
  let ms = 0;
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) ms += (s[i * d + k] - p[k]) ** 2 / n;
  close(w2(a, s, n, d), Math.sqrt(ms), 1e-6);
});

Deno.test("w2: symmetric, and the 1-D value is the sorted matching", () => {
  for (let seed = 0; seed < 5; seed++) {
    const n = 40;
    const a = normals(rng(10 + seed), n * 2), b = normals(rng(20 + seed), n * 2).map((v) => v + 1);
    close(w2(a, b, n, 2), w2(b, a, n, 2), 1e-12);
    const x = normals(rng(30 + seed), n), y = normals(rng(40 + seed), n).map((v) => 2 * v);
    const xs = [...x].sort((p, q) => p - q), ys = [...y].sort((p, q) => p - q);
    let s = 0;
    for (let i = 0; i < n; i++) s += (xs[i] - ys[i]) ** 2;
    close(w2(x, y, n, 1), Math.sqrt(s / n), 1e-9);
  }
});

Deno.test("w2: equals brute force over permutations for 5 points in 3-D", () => {
  const perms: number[][] = [];
  const rec = (p: number[]) => {
    if (p.length === 5) perms.push(p);
    for (let j = 0; j < 5; j++) if (!p.includes(j)) rec([...p, j]);
  };
  rec([]);
  for (let seed = 0; seed < 20; seed++) {
    const a = normals(rng(100 + seed), 15), b = normals(rng(200 + seed), 15);
    const D = sqdist(a, b, 5, 5, 3);
    const best = Math.min(...perms.map((p) => p.reduce((s, j, i) => s + D[i * 5 + j], 0)));
    close(w2(a, b, 5, 3), Math.sqrt(best / 5), 1e-12);
  }
});

Deno.test("w2Subsampled: full size equals w2; seeded; unequal sizes; validation", () => {
  const d = 2;
  const a = normals(rng(5), 30 * d), b = normals(rng(6), 30 * d);
  assert.equal(w2Subsampled(a, b, d, 100, 1), w2(a, b, 30, d));
  const big = normals(rng(7), 80 * d);
  const s1 = w2Subsampled(big, b, d, 20, 3), s2 = w2Subsampled(big, b, d, 20, 3);
  assert.equal(s1, s2);
  assert.notEqual(w2Subsampled(big, b, d, 20, 4), s1);
  // Unequal sizes: both sides are cut to min(80, 30, cap) points.
  assert.ok(w2Subsampled(big, b, d, 1000, 9) > 0);
  assert.throws(() => w2Subsampled(a, new Float32Array(3), d, 10, 1), /multiples of d = 2/);
  assert.throws(() => w2Subsampled(a, b, d, 0, 1), /cap must be a positive integer/);
  assert.throws(() => w2(a, b, 31, d), /n\*d = 31\*2 = 62/);
});
