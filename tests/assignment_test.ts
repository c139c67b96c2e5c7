// Exact linear assignment: brute force over all permutations on small matrices (with ties), LP
// duality certificates on larger geometric ones, edge cases and input validation.
import assert from "node:assert/strict";
import {
  type AssignmentOptions,
  solveAssignment,
  solveAssignmentWithDuals,
} from "../core/ot/assignment.ts";
import { sqdist } from "../core/ot/sqdist.ts";
import { normals, rng } from "../core/rng.ts";

const INITS: AssignmentOptions["init"][] = ["auction", "reduction"];

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) {
    for (let k = 0; k <= p.length; k++) out.push([...p.slice(0, k), n - 1, ...p.slice(k)]);
  }
  return out;
}
const PERMS6 = permutations(6);

function bruteForce(cost: Float64Array, n: number, perms: number[][]): number {
  let best = Infinity;
  for (const p of perms) {
    let s = 0;
    for (let i = 0; i < n; i++) s += cost[i * n + p[i]];
    if (s < best) best = s;
  }
  return best;
}

function assertPermutation(rowToCol: Int32Array, n: number): void {
  assert.equal(rowToCol.length, n);
  const seen = new Set<number>();
  for (const j of rowToCol) {
    assert.ok(j >= 0 && j < n, `column ${j} out of range`);
    seen.add(j);
  }
  assert.equal(seen.size, n, "rowToCol has duplicates");
}

function check(cost: Float64Array, n: number, label: string): void {
  const best = bruteForce(cost, n, n === 6 ? PERMS6 : permutations(n));
  for (const init of INITS) {
    const { rowToCol, total } = solveAssignment(cost, n, { init });
    assertPermutation(rowToCol, n);
    let s = 0;
    for (let i = 0; i < n; i++) s += cost[i * n + rowToCol[i]];
    assert.ok(Math.abs(s - total) <= 1e-12 * (1 + Math.abs(s)), `${label}: total != its matching`);
    assert.ok(
      Math.abs(total - best) <= 1e-9 * (1 + Math.abs(best)),
      `${label} (${init}): got ${total}, brute force ${best}`,
    );
  }
}

Deno.test("assignment: 720 permutations enumerated", () => {
  assert.equal(PERMS6.length, 720);
  assert.equal(new Set(PERMS6.map((p) => p.join())).size, 720);
});

Deno.test("assignment: equals brute force on random 6x6 continuous costs", () => {
  for (let seed = 0; seed < 150; seed++) {
    const u = rng(seed);
    const scale = seed % 3 === 0 ? 1000 : 1;
    const shift = seed % 5 === 0 ? -0.5 : 0; // negative costs too
    const cost = Float64Array.from({ length: 36 }, () => (u() + shift) * scale);
    check(cost, 6, `seed ${seed}`);
  }
});

Deno.test("assignment: equals brute force with heavy ties (integer costs 0..2)", () => {
  for (let seed = 0; seed < 150; seed++) {
    const u = rng(1000 + seed);
    const cost = Float64Array.from({ length: 36 }, () => Math.floor(u() * 3));
    check(cost, 6, `ties seed ${seed}`);
  }
});

Deno.test("assignment: equals brute force on squared distances of 6 points", () => {
  for (let seed = 0; seed < 100; seed++) {
    const a = normals(rng(2000 + seed), 12), b = normals(rng(3000 + seed), 12);
    check(sqdist(a, b, 6, 6, 2), 6, `points seed ${seed}`);
  }
});

Deno.test("assignment: constant, identity-optimal and anti-diagonal structured matrices", () => {
  check(new Float64Array(36).fill(3.5), 6, "constant");
  // cost[i][j] = i * j: optimal is the anti-diagonal (rearrangement inequality).
  const ij = Float64Array.from({ length: 36 }, (_, k) => Math.floor(k / 6) * (k % 6));
  check(ij, 6, "i*j");
  const r = solveAssignment(ij, 6);
  assert.deepEqual([...r.rowToCol], [5, 4, 3, 2, 1, 0]);
  // |i - j|: identity is optimal with total 0.
  const absd = Float64Array.from({ length: 36 }, (_, k) => Math.abs(Math.floor(k / 6) - (k % 6)));
  assert.equal(solveAssignment(absd, 6).total, 0);
});

Deno.test("assignment: sizes 0 to 5 against brute force", () => {
  assert.equal(solveAssignment(new Float64Array(0), 0).total, 0);
  assert.deepEqual([...solveAssignment(new Float64Array([7]), 1).rowToCol], [0]);
  assert.deepEqual([...solveAssignment(new Float64Array([4, 1, 2, 3]), 2).rowToCol], [1, 0]);
  for (let n = 2; n <= 5; n++) {
    for (let seed = 0; seed < 30; seed++) {
      const u = rng(n * 100 + seed);
      check(Float64Array.from({ length: n * n }, () => Math.floor(u() * 4)), n, `n=${n}`);
    }
  }
});

Deno.test("assignment: duality certificate on 150-point geometric problems", () => {
  const n = 150;
  for (const [d, seed] of [[2, 1], [2, 2], [16, 3]]) {
    const a = normals(rng(seed), n * d);
    const b = normals(rng(seed + 50), n * d).map((v, k) => 0.5 * v + (k % d === 0 ? 2 : 0));
    const cost = sqdist(a, b, n, n, d);
    const totals: number[] = [];
    for (const init of INITS) {
      const { rowToCol, total, u, v } = solveAssignmentWithDuals(cost, n, { init });
      assertPermutation(rowToCol, n);
      let minReduced = Infinity, dual = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          minReduced = Math.min(minReduced, cost[i * n + j] - u[i] - v[j]);
        }
        dual += u[i] + v[i];
      }
      assert.ok(minReduced > -1e-9, `${init}: dual infeasible by ${minReduced}`);
      assert.ok(Math.abs(total - dual) < 1e-9 * total, `${init}: gap ${total - dual}`);
      totals.push(total);
    }
    assert.ok(Math.abs(totals[0] - totals[1]) < 1e-9 * totals[0]);
  }
});

Deno.test("assignment: rejects bad inputs with clear messages", () => {
  assert.throws(() => solveAssignment(new Float64Array(5), 2), /length n\*n = 4, got length 5/);
  assert.throws(() => solveAssignment(new Float64Array([1, NaN, 2, 3]), 2), /cost\[0\]\[1\] = NaN/);
  assert.throws(() => solveAssignment(new Float64Array(4), 1.5), /non-negative integer/);
  assert.throws(
    () => solveAssignment(new Float64Array(4), 2, { init: "x" as "auction" }),
    /init must be "auction" or "reduction"/,
  );
});
