// Tests for core/solve/time-grid.ts: endpoints, monotonicity, EDM density and errors.
import assert from "node:assert/strict";
import { EDM_RHO, GRID_KINDS, isGridKind, timeGrid } from "../core/solve/time-grid.ts";
import { resolveGrid } from "../core/solve/fixed-step.ts";
import type { SolveOptions } from "../core/types.ts";

function diffs(g: number[]): number[] {
  return g.slice(1).map((t, i) => t - g[i]);
}

Deno.test("uniform grid: exact endpoints and equal steps, both directions", () => {
  for (const [t0, t1] of [[0, 1], [1, 0], [0.1, 0.7]]) {
    const g = timeGrid("uniform", 7, t0, t1);
    assert.equal(g.length, 8);
    assert.equal(g[0], t0);
    assert.equal(g[7], t1);
    for (const d of diffs(g)) assert.ok(Math.abs(d - (t1 - t0) / 7) < 1e-12);
  }
});

Deno.test("edm grid: exact endpoints, strictly monotone, steps shrink toward t = 1", () => {
  for (const [t0, t1] of [[0, 1], [1, 0], [0.05, 0.95], [0.9, 0.2]]) {
    for (const steps of [1, 2, 5, 16]) {
      const g = timeGrid("edm", steps, t0, t1);
      assert.equal(g.length, steps + 1);
      assert.equal(g[0], t0);
      assert.equal(g[steps], t1);
      const d = diffs(g);
      const dir = Math.sign(t1 - t0);
      for (const x of d) assert.ok(x * dir > 0, `not monotone: ${g}`);
      // Step length as a function of the step's distance to t = 1 must grow with that distance.
      const byDistance = d.map((x, i) => ({ len: Math.abs(x), far: 1 - Math.max(g[i], g[i + 1]) }))
        .sort((a, b) => a.far - b.far);
      for (let i = 1; i < byDistance.length; i++) {
        assert.ok(byDistance[i].len > byDistance[i - 1].len, `not denser near 1: ${g}`);
      }
    }
  }
  const g = timeGrid("edm", 8, 0, 1);
  assert.ok(Math.abs(g[8] - g[7]) < 0.01 * Math.abs(g[1] - g[0]));
  assert.equal(EDM_RHO, 7);
});

Deno.test("edm grid follows the rho-polynomial on 1 - t; rho = 1 is uniform", () => {
  const g = timeGrid("edm", 4, 0, 1);
  for (let i = 0; i <= 4; i++) assert.ok(Math.abs(g[i] - (1 - Math.pow(1 - i / 4, 7))) < 1e-12);
  const u = timeGrid("edm", 5, 0.2, 0.8, 1);
  const w = timeGrid("uniform", 5, 0.2, 0.8);
  for (let i = 0; i <= 5; i++) assert.ok(Math.abs(u[i] - w[i]) < 1e-12);
});

Deno.test("bad kinds and arguments give errors naming the valid choices", () => {
  assert.deepEqual([...GRID_KINDS], ["uniform", "edm"]);
  assert.ok(isGridKind("edm") && !isGridKind("cosine"));
  assert.throws(() => timeGrid("cosine", 4, 0, 1), (e: Error) => {
    return /"cosine"/.test(e.message) && /uniform/.test(e.message) && /edm/.test(e.message);
  });
  assert.throws(() => timeGrid("uniform", 0, 0, 1), /positive integer, got 0/);
  assert.throws(() => timeGrid("uniform", 2.5, 0, 1), /positive integer, got 2.5/);
  assert.throws(() => timeGrid("uniform", 3, 0.5, 0.5), /distinct/);
  assert.throws(() => timeGrid("edm", 3, 0, 1.5), /\[0, 1\]/);
});

Deno.test("resolveGrid: steps + gridKind, explicit grids and their validation", () => {
  assert.deepEqual(
    resolveGrid("euler", { t0: 0, t1: 1, steps: 3, gridKind: "edm" }),
    timeGrid("edm", 3, 0, 1),
  );
  assert.deepEqual(resolveGrid("euler", { t0: 1, t1: 0, grid: [1, 0.4, 0] }), [1, 0.4, 0]);
  assert.throws(() => resolveGrid("euler", { t0: 0, t1: 1 }), /euler: .*steps/);
  assert.throws(() => resolveGrid("rk4", { t0: 0, t1: 1, grid: [0, 0.7, 0.5, 1] }), /increasing/);
  assert.throws(() => resolveGrid("rk4", { t0: 0, t1: 1, grid: [0, 0.5] }), /from t0=0 to t1=1/);
  // An untyped caller (e.g. a plugin written in JavaScript) may still pass an unknown kind.
  const unknownKind = { t0: 0, t1: 1, steps: 2, gridKind: "x" } as unknown as SolveOptions;
  assert.throws(() => resolveGrid("rk4", unknownKind), /valid/);
});
