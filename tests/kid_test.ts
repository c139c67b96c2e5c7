// Tests for KID: against a direct O(n^2) evaluation of the kernel (clean-fid's formula), the
// tfjs route, subset handling, unbiasedness on equal distributions, and bad input.
import assert from "node:assert/strict";
import { normals, rng } from "../core/rng.ts";
import { selectBackend } from "../backend/select.ts";
import { cpuDotProducts, kid, tfDotProducts } from "../features/kid.ts";

await selectBackend("cpu");

/** n Gaussian feature rows of dimension d, shifted by `shift` and scaled by `scale`. */
function features(n: number, d: number, seed: number, shift = 0, scale = 1): Float32Array {
  return Float32Array.from(normals(rng(seed), n * d), (z) => shift + scale * Math.abs(z));
}

/**
 * clean-fid's kernel_distance for one subset holding all rows, written out term by term:
 * a = k(x, x') + k(y, y'), b = k(x, y); ((sum a - trace a) / (m - 1) - 2 sum b / m) / m.
 */
function direct(x: Float32Array, y: Float32Array, d: number): number {
  const m = x.length / d;
  const k = (p: Float32Array, i: number, q: Float32Array, j: number) => {
    let dot = 0;
    for (let t = 0; t < d; t++) dot += p[i * d + t] * q[j * d + t];
    return (dot / d + 1) ** 3;
  };
  let a = 0, diag = 0, b = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const v = k(x, i, x, j) + k(y, i, y, j);
      a += v;
      if (i === j) diag += v;
      b += k(x, i, y, j);
    }
  }
  return ((a - diag) / (m - 1) - (b * 2) / m) / m;
}

Deno.test("kid: one subset of all rows equals the direct O(n^2) computation", async () => {
  const d = 6, n = 40;
  const x = features(n, d, 1);
  const y = features(n, d, 2, 0.3, 1.2);
  const want = direct(x, y, d);
  const r = await kid(x, y, d, { subsets: 1, subsetSize: n });
  assert.ok(Math.abs(r.mean - want) <= 1e-12 * Math.abs(want), `${r.mean} vs ${want}`);
  assert.equal(r.std, 0);
  assert.equal(r.subsetSize, n);
  assert.ok(want > 0.01, "the shifted sample is far");
  // The tfjs route (float32 products, float64 kernel sums) agrees to float32 precision.
  const t = await kid(x, y, d, { subsets: 1, subsetSize: n, dot: tfDotProducts });
  assert.ok(Math.abs(t.mean - want) <= 1e-5 * Math.abs(want), `${t.mean} vs ${want}`);
});

Deno.test("kid: subsets, their std, defaults and the subset-size cap", async () => {
  const d = 4;
  const x = features(300, d, 3);
  const y = features(120, d, 4, 0.2);
  const r = await kid(x, y, d, { subsets: 20, subsetSize: 50, seed: 7 });
  assert.equal(r.subsets, 20);
  assert.equal(r.subsetSize, 50);
  assert.equal(r.nGenerated, 300);
  assert.equal(r.nReference, 120);
  assert.ok(r.std > 0);
  // Same seed, same draws; another seed, other draws.
  assert.deepEqual(await kid(x, y, d, { subsets: 20, subsetSize: 50, seed: 7 }), r);
  assert.notEqual((await kid(x, y, d, { subsets: 20, subsetSize: 50, seed: 8 })).mean, r.mean);
  // Defaults: 100 subsets of min(1000, n_gen, n_ref) = 120 (clean-fid's cap).
  const def = await kid(x, y, d, { dot: cpuDotProducts });
  assert.equal(def.subsets, 100);
  assert.equal(def.subsetSize, 120);
});

Deno.test("kid: unbiased: equal distributions average to 0 within the subset noise", async () => {
  const d = 8;
  const x = features(400, d, 5);
  const y = features(400, d, 6);
  const r = await kid(x, y, d, { subsets: 100, subsetSize: 100, seed: 1 });
  // The mean of 100 subset values: its standard error is about std / 10 (subsets overlap, so
  // allow 4 of them).
  assert.ok(Math.abs(r.mean) < 4 * r.std / 10, `mean ${r.mean}, std ${r.std}`);
  const far = await kid(x, features(400, d, 7, 0.5), d, { subsets: 100, subsetSize: 100, seed: 1 });
  assert.ok(far.mean > 10 * far.std / 10 + Math.abs(r.mean), `far ${far.mean}`);
});

Deno.test("kid: bad input is rejected", async () => {
  await assert.rejects(
    () => kid(new Float32Array(7), new Float32Array(8), 4),
    /not multiples of dimension 4/,
  );
  await assert.rejects(
    () => kid(new Float32Array(4), new Float32Array(8), 4),
    /at least 2 features/,
  );
});
