// Tests for precision/recall, density/coverage and the Inception Score: the values torch-fidelity
// and clovaai/prdc give on the same features (fixture by bench/metrics_reference.py), brute-force
// definitions on small sets, NumPy's permutation, and bad input.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { selectBackend } from "../backend/select.ts";
import { readSafetensors } from "../store/safetensors.ts";
import { improvedPrecisionRecall } from "../features/precision-recall.ts";
import { densityCoverage } from "../features/density-coverage.ts";
import { inceptionScore } from "../features/inception-score.ts";
import { crossBallTests, kNearestRadii } from "../features/neighbours.ts";
import { numpyPermutation } from "../features/mt19937.ts";
import { manifoldMetrics } from "../features/manifold-metrics.ts";
import { normals, rng } from "../core/rng.ts";

await selectBackend("cpu");

const FIXTURE = fileURLToPath(
  new URL("./fixtures/sample-metrics-reference.safetensors", import.meta.url),
);
const file = await readSafetensors(FIXTURE);
const want: Record<string, number> = JSON.parse(file.metadata.values);
const dim = file.entry("reference")!.shape[1];
const reference = { data: file.float32("reference"), dim };
const generated = { data: file.float32("generated"), dim };

const close = (got: number, ref: number, what: string, tol = 1e-6) =>
  assert.ok(Math.abs(got - ref) <= tol, `${what}: ${got} vs reference ${ref}`);

Deno.test("precision/recall (k = 3) equal torch-fidelity's on the same features", async () => {
  const pr = await improvedPrecisionRecall({ generated, reference });
  close(pr.precision, want.tf_precision, "precision");
  close(pr.recall, want.tf_recall, "recall");
  close(pr.precision, want.tf64_precision, "precision (float64 reference)");
  assert.equal(pr.k, 3);
  assert.equal(pr.nGenerated, 260);
  assert.equal(pr.nReference, 300);
  // The fixture is not degenerate: both values are away from 0 and 1.
  assert.ok(pr.precision > 0.5 && pr.precision < 1 && pr.recall > 0.2 && pr.recall < 0.9);
});

Deno.test("density/coverage (k = 5) equal prdc's on the same features", async () => {
  const dc = await densityCoverage({ generated, reference });
  close(dc.density, want.prdc_density, "density");
  close(dc.coverage, want.prdc_coverage, "coverage");
  // prdc's precision/recall with k = 5 and '<' follow from the same radii.
  const [r5] = await kNearestRadii(reference, [5]);
  const [g5] = await kNearestRadii(generated, [5]);
  const [inRef, inGen] = await crossBallTests({
    reference,
    generated,
    tests: [
      { centres: "reference", radii: r5, rule: "strict" },
      { centres: "generated", radii: g5, rule: "strict" },
    ],
  });
  const p = inRef.pointCounts.filter((c) => c > 0).length / 260;
  const r = inGen.pointCounts.filter((c) => c > 0).length / 300;
  close(p, want.prdc_precision, "prdc precision");
  close(r, want.prdc_recall, "prdc recall");
});

Deno.test("Inception Score equals torch-fidelity's ISC (shuffled, 10 splits; uneven; unshuffled)", () => {
  const logits = file.float32("logits");
  const classes = file.entry("logits")!.shape[1];
  const is = inceptionScore(logits, classes);
  close(is.mean, want.isc_mean, "IS mean", 1e-6 * want.isc_mean);
  close(is.std, want.isc_std, "IS std", 1e-6 * want.isc_mean);
  const odd = inceptionScore(logits.subarray(0, 97 * classes), classes);
  close(odd.mean, want.isc97_mean, "IS mean, 97 rows", 1e-6 * want.isc97_mean);
  close(odd.std, want.isc97_std, "IS std, 97 rows", 1e-6 * want.isc97_mean);
  const plain = inceptionScore(logits, classes, { splits: 3, shuffle: false });
  close(plain.mean, want.isc_noshuffle3_mean, "IS unshuffled", 1e-6 * plain.mean);
  close(plain.std, want.isc_noshuffle3_std, "IS unshuffled std", 1e-6 * plain.mean);
});

Deno.test("Inception Score: analytic values", () => {
  // Every sample certain of its own class, classes balanced: IS = number of classes.
  const c = 4, n = 40;
  const logits = new Float64Array(n * c);
  for (let i = 0; i < n; i++) logits[i * c + (i % c)] = 200;
  const is = inceptionScore(logits, c, { splits: 1 });
  assert.ok(Math.abs(is.mean - c) < 1e-9, `${is.mean}`);
  // Identical rows: KL to the marginal is 0, IS = 1 in every split.
  const same = new Float64Array(n * c).map((_, i) => i % c);
  const one = inceptionScore(same, c);
  assert.ok(Math.abs(one.mean - 1) < 1e-12 && one.std < 1e-12);
});

Deno.test("NumPy's RandomState(2020).permutation, recorded from numpy 1.24", () => {
  assert.deepEqual(Array.from(numpyPermutation(10, 2020)), [2, 4, 9, 1, 5, 7, 6, 3, 8, 0]);
  assert.deepEqual(Array.from(numpyPermutation(1000, 2020).slice(0, 6)), [
    725,
    986,
    815,
    656,
    469,
    76,
  ]);
});

/** Brute force: all pairwise distances in float64, the definitions written out. */
function bruteForce(ref: Float32Array, gen: Float32Array, d: number, k: number) {
  const dist = (a: Float32Array, i: number, b: Float32Array, j: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += (a[i * d + t] - b[j * d + t]) ** 2;
    return Math.sqrt(s);
  };
  const radii = (x: Float32Array) => {
    const n = x.length / d;
    return Array.from({ length: n }, (_, i) => {
      const all = Array.from({ length: n }, (_, j) => dist(x, i, x, j)).sort((p, q) => p - q);
      return all[k];
    });
  };
  const nr = ref.length / d, ng = gen.length / d;
  const rr = radii(ref), gr = radii(gen);
  let precision = 0, recall = 0, density = 0, coverage = 0;
  for (let j = 0; j < ng; j++) {
    let inAny = false;
    for (let i = 0; i < nr; i++) {
      const e = dist(ref, i, gen, j);
      if (e <= rr[i]) inAny = true;
      if (e < rr[i]) density++;
    }
    if (inAny) precision++;
  }
  for (let i = 0; i < nr; i++) {
    let covered = false, inGen = false;
    for (let j = 0; j < ng; j++) {
      const e = dist(ref, i, gen, j);
      if (e < rr[i]) covered = true;
      if (e <= gr[j]) inGen = true;
    }
    if (covered) coverage++;
    if (inGen) recall++;
  }
  return {
    precision: precision / ng,
    recall: recall / nr,
    density: density / (k * ng),
    coverage: coverage / nr,
  };
}

Deno.test("blocked passes equal brute force (small blocks, a huge common offset, near-ties)", async () => {
  const d = 5;
  // A common offset of 1e3 makes float32 Gram products useless for these distances unless
  // the rows are centred; duplicates and grid points make exact ties.
  const u = rng(11);
  const ref = Float32Array.from(normals(u, 120 * d), (z) => 1000 + Math.round(4 * z) / 4);
  const gen = Float32Array.from(normals(u, 90 * d), (z) => 1000.1 + Math.round(3 * z) / 4);
  gen.set(ref.subarray(0, 10 * d), 0); // exact duplicates of reference rows
  for (const k of [3, 5]) {
    const want = bruteForce(ref, gen, d, k);
    const opts = {
      reference: { data: ref, dim: d },
      generated: { data: gen, dim: d },
      k,
      blockValues: 700,
    };
    const pr = await improvedPrecisionRecall(opts);
    const dc = await densityCoverage(opts);
    const both = await manifoldMetrics({ ...opts, kPrecisionRecall: k, kDensityCoverage: k });
    assert.deepEqual(both.precisionRecall, pr);
    assert.deepEqual(both.densityCoverage, dc);
    assert.equal(pr.precision, want.precision, `precision k=${k}`);
    assert.equal(pr.recall, want.recall, `recall k=${k}`);
    assert.equal(dc.density, want.density, `density k=${k}`);
    assert.equal(dc.coverage, want.coverage, `coverage k=${k}`);
  }
});

Deno.test("bad input: ragged features, k too large, mismatched dimensions, bad logits", async () => {
  const x = { data: new Float32Array(10), dim: 3 };
  await assert.rejects(
    kNearestRadii(x, [3]),
    /10 values is not a whole number of rows of dimension 3/,
  );
  const small = { data: new Float32Array(6), dim: 2 };
  await assert.rejects(kNearestRadii(small, [3]), /k = 3 needs at least 4 rows, got 3/);
  await assert.rejects(
    improvedPrecisionRecall({
      reference: { data: new Float32Array(40), dim: 4 },
      generated: { data: new Float32Array(50), dim: 5 },
    }),
    /dimensions differ: reference 4, generated 5/,
  );
  assert.throws(() => inceptionScore(new Float32Array(7), 3), /not a whole number of rows of 3/);
  assert.throws(
    () => inceptionScore(new Float32Array(9), 3),
    /splits must be an integer in \[1, 3\]/,
  );
  assert.throws(
    () => inceptionScore(Float32Array.of(0, NaN, 1, 1), 2, { splits: 1 }),
    /non-finite/,
  );
});
