// Seeds: --seed/--seeds parsing, one run per seed in the plan (teacher and student together), and
// the report's mean ± standard deviation, best-mark rule and seed spread in the charts.
import assert from "node:assert/strict";
import { parseSeeds, UsageError } from "../cli/flags.ts";
import { planGroups, planRuns, runHash } from "../harness/plan.ts";
import type { SuiteConfig } from "../harness/suites/types.ts";
import { TOY2D_EVAL, TOY2D_TRAIN } from "../harness/suites/toy2d.ts";
import type { ResultsFile, RunRecord } from "../results/schema.ts";
import { qualityVsNfeChart, trainingChart } from "../reports/charts.ts";
import { renderReport } from "../reports/render.ts";
import { bestIndex, bestMargin, meanSd, seedsUncertainty } from "../reports/seeds.ts";
import { summaryRows } from "../reports/summary.ts";
import { buildTables } from "../reports/table.ts";
import { buildFixture } from "./fixtures.ts";

Deno.test("--seeds takes a count or a list; --seed one seed; both at once is an error", () => {
  assert.deepEqual(parseSeeds(undefined, "3"), [0, 1, 2]);
  assert.deepEqual(parseSeeds(undefined, "0,4,7"), [0, 4, 7]);
  assert.deepEqual(parseSeeds(undefined, "5,"), [5], "a trailing comma makes a one-seed list");
  assert.deepEqual(parseSeeds("5", undefined), [5]);
  assert.equal(parseSeeds(undefined, undefined), undefined);
  for (const bad of ["0", "1,1", "a", "-1", "1.5", "", ","]) {
    assert.throws(() => parseSeeds(undefined, bad), UsageError, `--seeds ${bad}`);
  }
  assert.throws(() => parseSeeds("1", "3"), /not both/);
});

function config(seeds: number[]): SuiteConfig {
  return {
    suite: "toy2d",
    datasets: ["moons", "8gaussians"],
    methods: [
      { label: "1-RF", path: "linear", coupling: "independent", loss: "cfm", family: "rectified" },
      {
        label: "2-RF",
        path: "linear",
        coupling: "reflow",
        loss: "cfm",
        family: "rectified",
        teacher: "1-RF",
      },
      { label: "FM w/ OT", path: "cond-ot", coupling: "independent", loss: "cfm", family: "ot" },
    ],
    models: [{ name: "mlp", preset: "default" }],
    solvers: [{ name: "dopri5", settings: [{ rtol: 1e-5, atol: 1e-5 }] }],
    adaptiveSolver: "dopri5",
    train: TOY2D_TRAIN,
    eval: TOY2D_EVAL,
    seeds,
    data: { budget: "default" },
  };
}

Deno.test("the plan runs every (data set, method, model) once per seed; reflow stays with its teacher", () => {
  const one = planRuns(config([0]));
  assert.equal(one.length, 6);
  assert.ok(one.every((r) => !r.id.includes("__s")), "one seed keeps the plain run ids");
  const cfg = config([0, 1, 2]);
  assert.deepEqual([...new Set(planRuns(cfg).map((r) => r.seed))], [0, 1, 2]);
  const runs = planRuns(cfg);
  assert.equal(runs.length, 18);
  assert.equal(new Set(runs.map((r) => r.id)).size, 18);
  assert.ok(runs.every((r) => r.id.endsWith(`__s${r.seed}`)));
  for (const g of planGroups(cfg)) {
    assert.equal(new Set(g.map((r) => r.seed)).size, 1, "a group has one seed");
    const student = g.find((r) => r.method.teacher);
    if (student) assert.ok(g.some((r) => r.method.label === student.method.teacher));
  }
  // The config hash of a run covers its seed.
  const [a, b] = [runs.find((r) => r.seed === 0)!, runs.find((r) => r.seed === 1)!];
  assert.notEqual(runHash(cfg, a), runHash(cfg, { ...a, seed: 1 }));
  assert.equal(a.method.label, b.method.label);
  // Shards split by group and keep every student with its teacher of the same seed.
  const shards = [0, 1, 2].map((index) => planRuns(cfg, { index, count: 3 }));
  assert.equal(shards.flat().length, 18);
  for (const s of shards) {
    for (const r of s.filter((r) => r.method.teacher)) {
      assert.ok(s.some((t) => t.method.label === r.method.teacher && t.seed === r.seed));
    }
  }
});

/** The fixture with three seeds: seed k scales W2, NFE, straightness and NLL by 0.9, 1, 1.1. */
function threeSeeds(): ResultsFile {
  const base = buildFixture();
  const runs: RunRecord[] = [];
  [0.9, 1, 1.1].forEach((f, seed) => {
    for (const r of structuredClone(base.runs)) {
      for (const e of r.evals) {
        if (typeof e.metrics.w2 === "number") e.metrics.w2 *= f;
        e.nfe *= f;
      }
      for (const n of r.nll) if (n.nats !== null) n.nats *= f;
      if (typeof r.straightness === "number") r.straightness *= f;
      runs.push({ ...r, id: `${r.id}__s${seed}`, seed });
    }
  });
  return { ...base, runs, manifest: { ...base.manifest, seed: 0 } };
}

Deno.test("table: mean ± standard deviation over seeds, and the best mark only beyond the spread", () => {
  const res = threeSeeds();
  const moons = buildTables(res)[0];
  assert.equal(moons.rows.length, 3, "one row per method, not per seed");
  const fmOt = moons.rows.find((r) => r.methodLabel === "fm-ot")!;
  assert.deepEqual(fmOt.seeds, [0, 1, 2]);
  const w2 = [0.9, 1, 1.1].map((f) => 0.0412 * f);
  const { mean, sd } = meanSd(w2);
  assert.ok(Math.abs(fmOt.cells.quality.value! - mean) < 1e-12);
  assert.ok(Math.abs(fmOt.cells.quality.spread! - sd) < 1e-12);
  assert.equal(fmOt.cells.quality.text, "0.0412 ± 0.0041");
  assert.match(fmOt.cells.quality.detail!, /mean ± standard deviation over 3 of 3 seeds/);
  // W2: 0.0412 ± 0.0041 vs the runner-up 0.0468 ± 0.0047 (sd over 3 seeds): the gap (0.0056)
  // is inside 2 combined standard errors of the means (2 √(0.0041² + 0.0047²) / √3 = 0.0072),
  // so no star, although fm-ot has the lowest mean.
  assert.ok(!moons.rows.some((r) => r.cells.quality.best));
  // NFE: 32 ± 3.2 vs 62 ± 6.2 is far beyond the spread: starred.
  const hostile = moons.rows.find((r) => r.cells.nfe.value === meanSd([28.8, 32, 35.2]).mean)!;
  assert.ok(hostile.cells.nfe.best);
  // The failed dopri5 of 8gaussians/diffusion-vp fails in every seed: n/a with the reason.
  const g = buildTables(res)[1].rows.find((r) => r.methodLabel === "diffusion-vp")!;
  assert.equal(g.cells.quality.text, "n/a");
  assert.match(g.cells.quality.reason!, /^every seed: dopri5 \(rtol=1e-5, atol=1e-5\) failed/);
  // The report states the rule and the seeds.
  const page = renderReport(res);
  assert.match(page, /mean ± standard deviation over 3 seeds \(0, 1, 2\)/);
  assert.match(page, /by more than 2√\(u₁² \+ u₂²\)/);
});

Deno.test("a seed without a value is left out of the mean and said so", () => {
  const res = threeSeeds();
  const r = res.runs.find((r) => r.seed === 2 && r.dataset === "moons" && r.method === "fm-ot")!;
  const e = r.evals.find((e) => e.solver === "dopri5" && e.setting.rtol === 1e-5)!;
  Object.assign(e, { status: "failed", error: "step size underflow", metrics: {} });
  const row = buildTables(res)[0].rows.find((r) => r.methodLabel === "fm-ot")!;
  assert.ok(Math.abs(row.cells.quality.value! - meanSd([0.0412 * 0.9, 0.0412]).mean) < 1e-12);
  assert.match(row.cells.quality.detail!, /over 2 of 3 seeds.*1 seed\(s\) n\/a: .*underflow/);
});

Deno.test("bestIndex: lowest value beyond 2 combined standard errors; unmeasured, ties and close calls unmarked", () => {
  assert.equal(bestIndex([{ value: 2, uncertainty: 0 }, { value: 1, uncertainty: 0 }]), 1);
  assert.equal(bestIndex([{ value: 1, uncertainty: 0 }, { value: 1, uncertainty: 0 }]), -1);
  // Gap 0.5 against 2 x √(0.1² + 0.2²) = 0.447: marked; against 2 x √(0.2² + 0.2²) = 0.566: not.
  assert.equal(bestIndex([{ value: 1, uncertainty: 0.1 }, { value: 1.5, uncertainty: 0.2 }]), 0);
  assert.equal(bestIndex([{ value: 1, uncertainty: 0.2 }, { value: 1.5, uncertainty: 0.2 }]), -1);
  assert.equal(
    bestIndex([{ value: 9, uncertainty: 0 }, { value: 1, uncertainty: 0.3 }, {
      value: 2,
      uncertainty: 0.3,
    }]),
    1,
  );
  // No measured uncertainty for the best or for the runner-up: no mark, however large the gap.
  assert.equal(bestIndex([{ value: 1 }, { value: 100, uncertainty: 0 }]), -1);
  assert.equal(bestIndex([{ value: 1, uncertainty: 0 }, { value: 100 }]), -1);
  assert.equal(bestIndex([{ value: 1, uncertainty: 0 }]), -1);
  const m = bestMargin([{ value: 3, uncertainty: 0.1 }, { value: 1, uncertainty: 0.1 }])!;
  assert.deepEqual([m.best, m.runnerUp, m.gap, m.clear], [1, 0, 2, true]);
  assert.ok(Math.abs(m.noise! - 2 * Math.hypot(0.1, 0.1)) < 1e-12);
});

Deno.test("seedsUncertainty: sd over seeds / √n, or the seeds' own errors when larger", () => {
  assert.ok(Math.abs(seedsUncertainty([1, 2, 3])! - 1 / Math.sqrt(3)) < 1e-12);
  assert.ok(Math.abs(seedsUncertainty([1, 1], [0.5, 0.5])! - Math.sqrt(0.5) / 2) < 1e-12);
  assert.ok(
    Math.abs(seedsUncertainty([1, 3], [0.1, undefined])! - Math.SQRT2 / Math.SQRT2) < 1e-12,
  );
  assert.equal(seedsUncertainty([1]), undefined);
});

Deno.test("charts show the seed spread: error bars on quality vs NFE, a band on the loss", () => {
  const res = threeSeeds();
  const q = qualityVsNfeChart(res, "moons")!;
  assert.match(q.note!, /means over seeds; vertical bars span ± one standard deviation/);
  const t = trainingChart(res, "moons")!;
  assert.match(t.note!, /bands span ± one standard deviation/);
  assert.match(t.svg, /fill-opacity="0\.18"/);
  // One seed: no bars, no band.
  const one = buildFixture();
  assert.ok(!(qualityVsNfeChart(one, "moons")!.note ?? "").includes("seeds"));
  assert.equal(trainingChart(one, "moons")!.note, undefined);
});

Deno.test("terminal summary: one row per method with mean±sd over seeds", () => {
  const rows = summaryRows(threeSeeds());
  const row = rows.find((r) => r[0] === "moons" && r[1].startsWith("fm-ot"))!;
  assert.equal(row[1], "fm-ot (3/3 seeds)");
  assert.equal(row[2], "0.041±0.004");
  assert.equal(rows.length, 1 + 6);
});
