// The "not converged" rule as a pure function, and what the report makes of learning curves: the
// chart (log steps, optimum line, a ring on a still-improving method), the banner with the gap.
import assert from "node:assert/strict";
import { convergence, optimumNats } from "../results/convergence.ts";
import type { LearningPoint, ResultsFile } from "../results/schema.ts";
import { learningChart } from "../reports/learning-chart.ts";
import {
  convergenceBanner,
  convergenceSummary,
  seriesConvergence,
} from "../reports/convergence-note.ts";
import { renderReport } from "../reports/render.ts";
import { checkResults } from "../results/io.ts";
import { buildFixture } from "./fixtures.ts";

const pt = (
  step: number,
  nll: number | null,
  stderr: number | null,
  extra = {},
): LearningPoint => ({
  step,
  seconds: step / 100,
  nll,
  stderr,
  metrics: { w2: nll === null ? null : nll / 5 },
  probeSeconds: 0.05,
  ...extra,
});

Deno.test("convergence: the paired change over the last decade decides when it is recorded", () => {
  const improving = [
    pt(100, 3.0, 0.07),
    pt(1000, 2.5, 0.07, { change: { from: 100, nll: -0.5, stderr: 0.02 } }),
  ];
  assert.deepEqual(convergence(improving), {
    converged: false,
    from: 100,
    to: 1000,
    change: -0.5,
    stderr: 0.02,
    basis: "paired",
  });
  // A fall of 2 standard errors exactly is within the noise; just beyond it is not.
  const edge = (nll: number) =>
    convergence([
      pt(10, 2, 0.1),
      pt(100, 2 + nll, 0.1, { change: { from: 10, nll, stderr: 0.01 } }),
    ]).converged;
  assert.equal(edge(-0.02), true);
  assert.equal(edge(-0.0201), false);
  // Rising NLL is not "still improving".
  assert.equal(edge(0.3), true);
});

Deno.test("convergence: still improving but within noise of the optimum counts as converged", () => {
  const curve = [
    pt(2000, 2.18, 0.06),
    pt(20000, 1.69, 0.06, { change: { from: 2000, nll: -0.49, stderr: 0.07 } }),
  ];
  assert.equal(convergence(curve).converged, false, "no optimum known: still improving");
  // The run's own NLL estimate 1.713 ± 0.038 against an optimum of 1.675: 0.038 <= 2 * 0.038.
  const at = convergence(curve, { optimum: 1.675, nll: { nats: 1.713, stderr: 0.038 } });
  assert.equal(at.converged, true);
  assert.equal(at.atOptimum, true);
  assert.equal(at.change, -0.49);
  // 0.1 above the optimum with the same noise: not there, and still improving.
  const far = convergence(curve, { optimum: 1.6, nll: { nats: 1.7, stderr: 0.038 } });
  assert.deepEqual([far.converged, far.atOptimum], [false, false]);
  // Without the run's estimate, the last probe's NLL and standard error stand in.
  assert.equal(convergence(curve, { optimum: 1.6 }).atOptimum, true);
  assert.equal(convergence(curve, { optimum: 1.5 }).atOptimum, false);
});

Deno.test("convergence: without a paired change, the two points' own standard errors", () => {
  // From step 100 (the latest at or below 1000 / 10, not step 50): 2.9 -> 2.7 is a fall of 0.2,
  // within 2 * hypot(0.1, 0.1) = 0.283.
  const r = convergence([pt(50, 3.0, 0.1), pt(100, 2.9, 0.1), pt(1000, 2.7, 0.1)]);
  assert.equal(r.basis, "independent");
  assert.equal(r.from, 100);
  assert.ok(Math.abs(r.change! + 0.2) < 1e-12);
  assert.ok(Math.abs(r.stderr! - Math.hypot(0.1, 0.1)) < 1e-12);
  assert.equal(r.converged, true);
  assert.equal(convergence([pt(100, 3.0, 0.1), pt(1000, 2.7, 0.1)]).converged, false);
  assert.equal(convergence([pt(100, 3.0, 0.1), pt(1000, 2.75, 0.1)]).converged, true);
});

Deno.test("convergence: what it cannot tell, and a failed last probe", () => {
  assert.equal(convergence(undefined).converged, null);
  assert.match(convergence([]).why!, /no learning curve/);
  assert.match(convergence([pt(10, null, null)]).why!, /no probe .* has an NLL/);
  assert.match(
    convergence([pt(10, 3, 0.1), pt(50, 2.9, 0.1)]).why!,
    /at or below a tenth of step 50/,
  );
  // The last probe failed: the rule reads the last one with an NLL.
  const r = convergence([
    pt(10, 3.5, 0.1),
    pt(100, 3.0, 0.1, { change: { from: 10, nll: -0.5, stderr: 0.03 } }),
    pt(1000, null, null, { error: "NLL: step size underflow" }),
  ]);
  assert.equal(r.to, 100);
  assert.equal(r.converged, false);
});

/** The toy fixture with learning curves: FM w/ OT still improving on moons, others flat. */
function withCurves(entropy?: number): ResultsFile {
  const r = buildFixture();
  for (const run of r.runs) {
    const still = run.dataset === "moons" && run.method === r.runs[0].method;
    const change = still ? -0.3 : -0.01;
    run.train!.learningCurve = [
      pt(20, 4.0, 0.1),
      pt(200, 3.0, 0.08, { change: { from: 20, nll: -1, stderr: 0.05 } }),
      pt(2000, 3.0 + change, 0.07, { change: { from: 200, nll: change, stderr: 0.02 } }),
    ];
  }
  r.suite = "toy2d";
  if (entropy !== undefined) r.references = { ...r.references, moons: { entropy } };
  return r;
}

Deno.test("report: learning chart, not-converged ring and banner with the gap to the optimum", () => {
  const r = withCurves(1.675);
  assert.equal(checkResults(r, "fixture").runs.length, r.runs.length, "the schema takes curves");
  const first = r.runs[0].method;
  const v = seriesConvergence(r, "moons");
  assert.deepEqual(v.filter((s) => s.converged === false).map((s) => s.series), [first]);
  const chart = learningChart(r, "moons", "nll")!;
  assert.equal(chart.kind, "learning");
  assert.match(chart.note!, /Dashed line: the data's optimum, its entropy 1.675 nats/);
  assert.match(
    chart.note!,
    new RegExp(`Not converged: ${first} -0.300 ± 0.020 nats from step 200 to 2000\\.`),
  );
  // One ring (r = 7) for the one still-improving method.
  assert.equal((chart.svg.match(/ r="7"/g) ?? []).length, 1);
  assert.equal(learningChart(r, "8gaussians", "nll")!.note!.includes("Dashed"), false);
  assert.ok(learningChart(r, "moons", "w2"));

  const s = convergenceSummary(r);
  const moons = s.find((d) => d.dataset === "moons")!;
  assert.equal(moons.open.length, 1);
  assert.equal(moons.optimum, 1.675);
  // Gap = each method's headline NLL - the entropy.
  const nll0 = r.runs[0].nll[0].nats!;
  assert.ok(Math.abs(moons.gaps.find((g) => g.series === first)!.gap - (nll0 - 1.675)) < 1e-12);
  const banner = convergenceBanner(r).value;
  assert.match(banner, /<strong>Not converged\.<\/strong>/);
  assert.match(
    banner,
    /moons<\/strong>: 1 of \d+ methods still improving .*nats above the data.{1,5}s optimum \(entropy 1.675 nats\)/s,
  );
  assert.match(banner, /<code>--budget converged<\/code>/);
  assert.match(banner, /8gaussians<\/strong>: all \d+ methods converged by the rule\./);

  const html = renderReport(r);
  assert.match(html, /<figure class="chart" data-chart="learning" data-dataset="moons">/);
  assert.match(html, /Not converged\./);
  assert.equal(optimumNats(r, "8gaussians"), undefined);
});

Deno.test("report: converged everywhere is a quiet line; no curves, no banner", () => {
  const r = withCurves();
  for (const run of r.runs) {
    const last = run.train!.learningCurve!.at(-1)!;
    last.change = { from: 200, nll: -0.01, stderr: 0.02 };
  }
  const banner = convergenceBanner(r).value;
  assert.doesNotMatch(banner, /Not converged/);
  assert.match(banner, /stopped\s+improving by the rule/);
  assert.equal(convergenceBanner(buildFixture()).value, "");
  assert.doesNotMatch(renderReport(buildFixture()), /data-chart="learning"/);
});
