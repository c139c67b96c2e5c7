// The report with metric plugins: a column per selected figure with its own direction arrow, the
// ★ on the highest mean in a ↑ column, a failed metric's reason as its footnote, one protocol line
// per metric, and a precision-vs-recall scatter per data set; files without metricInfo as before.
import assert from "node:assert/strict";
import { metricInfo } from "../harness/metric-select.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { SUITES } from "../harness/suites/mod.ts";
import { resultsProblems } from "../results/check.ts";
import type { ResultsFile } from "../results/schema.ts";
import { precisionRecallChart } from "../reports/precision-recall-chart.ts";
import { renderReport } from "../reports/render.ts";
import { buildTables } from "../reports/table.ts";
import { buildFixture, shardFixture } from "./fixtures.ts";
import { mergeResults } from "../results/merge.ts";

const reg = await discoverPlugins();

/** Precision/recall/density/coverage per method: fm-ot the sharpest, diffusion-vp the widest. */
const FIGURES: Record<string, Record<string, number>> = {
  "fm-ot": { precision: 0.91, recall: 0.62, density: 1.05, coverage: 0.8 },
  "diffusion-vp": { precision: 0.55, recall: 0.88, density: 0.6, coverage: 0.85 },
};

function withMetrics(): ResultsFile {
  const r = structuredClone(buildFixture());
  r.metricInfo = metricInfo(reg, SUITES.toy2d, {});
  for (const run of r.runs) {
    for (const e of run.evals) {
      const f = FIGURES[run.method];
      if (f) Object.assign(e.metrics, f);
      else {e.notes = {
          density: "density-coverage failed: boom",
          coverage: "density-coverage failed: boom",
        };}
      if (!f) Object.assign(e.metrics, { precision: 0.7, recall: 0.7 });
    }
  }
  r.references = { moons: { w2: 0.02, precision: 0.97, recall: 0.96 } };
  return r;
}

Deno.test("report metrics: a column per figure with its arrow; ★ by direction; reasons", () => {
  const r = withMetrics();
  assert.deepEqual(resultsProblems(r), []);
  const [moons] = buildTables(r);
  assert.deepEqual(
    moons.columns.map((c) => [c.title, c.direction ?? "lower"]),
    [
      ["NLL", "lower"],
      ["W2", "lower"],
      ["Precision", "higher"],
      ["Recall", "higher"],
      ["Density", "higher"],
      ["Coverage", "higher"],
      ["NFE", "lower"],
      ["Straightness", "lower"],
      ["Train cost", "lower"],
    ],
  );
  const row = (m: string) => moons.rows.find((x) => x.methodLabel === m)!;
  assert.equal(row("fm-ot").cells["metric:precision"].value, 0.91);
  // One seed and no measured uncertainty for precision: no ★ (reports/seeds.ts's rule).
  assert.ok(!moons.rows.some((x) => x.cells["metric:precision"].best));
  const other = moons.rows.find((x) => !(x.methodLabel in FIGURES))!;
  const density = other.cells["metric:density"];
  assert.equal(density.text, "n/a");
  assert.match(
    density.reason!,
    /^not computed for dopri5 \(rtol=1e-5, atol=1e-5\): density-coverage failed: boom$/,
  );
  assert.ok(moons.footnotes.includes(density.reason!));
  assert.equal(other.cells["metric:coverage"].footnote, density.footnote, "one footnote");
  // One protocol line per metric, with its figures' arrows and its fields.
  const lines = moons.protocol ?? [];
  assert.equal(lines.length, 3);
  assert.match(
    lines[1],
    /^Metric precision-recall \(Precision ↑, Recall ↑\): .* · features raw: .* · k 3 · rule distance <= /,
  );
  const html = renderReport(r);
  assert.match(
    html,
    /W2 <span class="arrow">↓<\/span>.*Precision <span class="arrow">↑<\/span>.*Recall <span class="arrow">↑<\/span>.*NFE <span class="arrow">↓<\/span>/s,
  );
  assert.match(html, /each header&#39;s arrow says which way is better/);
  assert.match(html, /In a ↑ column \(higher is better\) the same rule marks the highest value/);
  assert.match(html, /<dt>Precision ↑<\/dt><dd>Share of generated samples/);
});

Deno.test("report metrics: a precision-vs-recall scatter per data set, one point per method", () => {
  const r = withMetrics();
  const html = renderReport(r);
  const datasets = new Set(r.runs.map((x) => x.dataset));
  assert.equal(
    [...html.matchAll(/<figure class="chart" data-chart="precision-recall"/g)].length,
    datasets.size,
  );
  const moons = precisionRecallChart(r, "moons")!;
  assert.equal(moons.kind, "precision-recall");
  assert.equal(
    moons.series.length,
    new Set(r.runs.filter((x) => x.dataset === "moons").map((x) => x.method)).size,
  );
  assert.match(moons.note!, /k = 3 on raw features/);
  assert.match(moons.note!, /◇ the held-out data against itself/);
  assert.match(moons.note!, /No published precision\/recall is known for these recipes on moons/);
  // One dot per method (circles) plus the held-out diamond.
  assert.equal([...moons.svg.matchAll(/<circle /g)].length, moons.series.length);
  // Without the figures (a file before metric plugins, or --metrics w2): no scatter, old wording.
  const old = buildFixture();
  assert.equal(precisionRecallChart(old, "moons"), null);
  const page = renderReport(old);
  assert.ok(!page.includes('data-chart="precision-recall"'));
  assert.match(page, /lower is better everywhere/);
  assert.ok(!/<span class="arrow">↑<\/span>/.test(page));
});

Deno.test("report metrics: a figure that was not selected is n/a saying so", () => {
  const r = withMetrics();
  r.metricInfo = metricInfo(reg, SUITES.toy2d, { metrics: ["precision-recall"] });
  for (const run of r.runs) for (const e of run.evals) delete e.metrics.w2;
  const [moons] = buildTables(r);
  const cell = moons.rows[0].cells.quality;
  assert.equal(cell.reason, "W2 was not among the selected metrics (--metrics)");
  assert.deepEqual(moons.columns.map((c) => c.title).slice(1, 4), ["W2", "Precision", "Recall"]);
});

Deno.test("report metrics: merging shards keeps metricInfo and the tables", () => {
  const full = withMetrics();
  const merged = mergeResults(shardFixture(full, 2));
  assert.deepEqual(merged.metricInfo, full.metricInfo);
  // Shards on two backends rank training cost on the wall clock (merge_test.ts): compare on one.
  const sameBackend = { ...merged, manifest: { ...merged.manifest, backend: "wasm" } };
  assert.deepEqual(buildTables(sameBackend), buildTables(full));
});

Deno.test("report metrics: in a ↑ column the ★ goes to the highest value beyond the noise", () => {
  const r = withMetrics();
  // A figure with its own spread (as KID's over subsets, IS's over splits): its uncertainty.
  r.metricInfo!.sharpness = {
    description: "a test figure",
    feature: "raw",
    featureDescription: "raw",
    protocol: {},
    values: {
      sharp: {
        direction: "higher",
        title: "Sharp",
        description: "higher is better",
        spread: "sharp_std",
      },
    },
  };
  const sharp: Record<string, number> = { "fm-ot": 0.2, "diffusion-vp": 0.9 };
  for (const run of r.runs) {
    for (const e of run.evals) {
      Object.assign(e.metrics, { sharp: sharp[run.method] ?? 0.5, sharp_std: 0.01 });
    }
  }
  const [moons] = buildTables(r);
  const col = moons.columns.find((c) => c.key === "metric:sharp")!;
  assert.equal(col.direction, "higher");
  assert.equal(col.sub, "dopri5 · ± std");
  const best = moons.rows.filter((x) => x.cells["metric:sharp"].best).map((x) => x.methodLabel);
  assert.deepEqual(best, ["diffusion-vp"], "the highest, not the lowest");
  assert.match(renderReport(r), /Sharp <span class="arrow">↑<\/span>/);
});
