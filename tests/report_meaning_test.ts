// The report says what its numbers mean: smoke banner, one note for a metric no run has, the
// margin over the runner-up, which evaluation made a sample grid, the W2 floor, off-scale
// clipping, colours keyed by method name, and the configuration folded away.
import assert from "node:assert/strict";
import { qualityVsNfeChart, seriesColors } from "../reports/charts.ts";
import { frontierChart } from "../reports/frontier-chart.ts";
import { offScaleCap } from "../reports/chart-guides.ts";
import { colorsFor, METHOD_COLORS } from "../reports/colors.ts";
import { headlineMargins, missingEverywhere, sampleSourceText } from "../reports/meaning.ts";
import { collectFailures, renderReport } from "../reports/render.ts";
import { buildTables } from "../reports/table.ts";
import type { ResultsFile } from "../results/schema.ts";
import { buildFixture } from "./fixtures.ts";

const toy = buildFixture();
const images = buildFixture({ kind: "images" });

function clone(r: ResultsFile, edit: (r: ResultsFile) => void): ResultsFile {
  const c = structuredClone(r);
  edit(c);
  return c;
}

Deno.test("meaning: a smoke-test budget gets a 'numbers not meaningful' banner, a full one none", () => {
  const smoke = clone(images, (r) => {
    r.suite = "cifar10";
    r.budget = { name: "quick", description: "tiny U-Net, 40 steps", smoke: true };
  });
  assert.match(
    renderReport(smoke),
    /Smoke test: numbers not\s+meaningful\.<\/strong>.*<code>quick<\/code>/s,
  );
  const full = clone(smoke, (r) => (r.budget = { name: "small", description: "", smoke: false }));
  assert.doesNotMatch(renderReport(full), /Smoke test/);
  assert.doesNotMatch(renderReport(toy), /Smoke test/);
  // A file from before the budget field: cifar10's quick budget in the config is recognised.
  const legacy = clone(images, (r) => {
    r.suite = "cifar10";
    r.manifest.config = { data: { budget: "quick" } };
  });
  assert.match(renderReport(legacy), /Smoke test: numbers not/);
});

Deno.test("meaning: a metric n/a in every run is one note and no failure row, not one per evaluation", () => {
  const reason = "n/a: Inception weights not found at data/x.safetensors";
  const noFid = clone(images, (r) => {
    for (const run of r.runs) {
      for (const e of run.evals) {
        if (e.status !== "ok") continue;
        e.metrics = {};
        e.notes = { fid: reason };
      }
    }
  });
  const evals = noFid.runs.flatMap((r) => r.evals.filter((e) => e.status === "ok")).length;
  assert.ok(evals > 20);
  assert.deepEqual(missingEverywhere(noFid), [
    { metric: "fid", evals, runs: noFid.runs.length, reasons: [reason] },
  ]);
  // Expected n/a (no Inception weights) is the note above the tables, not a failure.
  assert.equal(collectFailures(noFid).filter((f) => f.kind.startsWith("missing")).length, 0);
  const page = renderReport(noFid);
  assert.equal([...page.matchAll(/class="banner missing"/g)].length, 1);
  assert.match(page, /FID\s+is n\/a for all 6 runs<\/strong> \(\d+ evaluations\)/);
  // Missing in only some evaluations: those stay individual rows.
  const some = clone(images, (r) => {
    r.runs[0].evals[0].metrics = {};
    r.runs[0].evals[0].notes = { fid: reason };
  });
  assert.deepEqual(missingEverywhere(some), []);
  assert.equal(collectFailures(some).filter((f) => f.kind === "missing fid").length, 1);
  assert.equal(collectFailures(some).find((f) => f.kind === "missing fid")?.method, "fm-ot");
});

Deno.test("meaning: the headline says by how much the best beats the runner-up", () => {
  const table = buildTables(toy)[0];
  const q = table.rows.map((r) => r.cells.quality.value!).sort((a, b) => a - b);
  const html = headlineMargins(table, "w2").value;
  const pct = (100 * (q[1] - q[0])) / q[1];
  assert.match(html, /W2 \(dopri5\) on moons: <strong>fm-ot<\/strong> 0\.0412/);
  assert.ok(html.includes(`${Number(pct.toPrecision(3))}% lower than the runner-up`), html);
  // W2's gap (0.0056) is 2.25 combined standard errors (√(0.0016² + 0.0019²) = 0.00248).
  assert.match(html, /\(0\.0468 ± 0\.0019\): 2\.25 combined standard errors/);
  // NLL's gap (0.022) is inside 2 combined standard errors (0.059): no best is named.
  assert.match(
    html,
    /NLL on moons: no clear best: fm-ot \(2\.475 ± 0\.021 nats\) and the runner-up\s+&lt;img.*?\(2\.497 ± 0\.021 nats\); the gap 0\.0224 nats is inside 2 combined standard errors \(0\.0594 nats\)/,
  );
  // With the noise level known, it is given beside the best; never as "x the floor".
  const withFloor = buildTables(
    clone(toy, (r) => (r.references = { moons: { w2: 0.02, w2_std: 0.003 } })),
  )[0];
  const floorHtml = headlineMargins(withFloor, "w2").value;
  assert.match(floorHtml, /noise level 0\.0200 ± 0\.0030 \(W2 between two held-out samples\)/);
  assert.doesNotMatch(floorHtml, /floor|perfect/);
  // No uncertainty recorded for the best: no best named, and it says why.
  const unmeasured = buildTables(clone(toy, (r) => {
    for (const run of r.runs) for (const e of run.evals) delete e.metrics.w2_std;
  }))[0];
  assert.match(
    headlineMargins(unmeasured, "w2").value,
    /no clear best: fm-ot \(0\.0412\) .*no uncertainty was measured for fm-ot&#39;s value/s,
  );
  // A smoke-test budget gets no headline at all.
  assert.equal(headlineMargins(table, "w2", true).value, "");
  // Ties are called ties, a single value has no runner-up.
  const tie = buildTables(clone(toy, (r) => {
    for (const run of r.runs) for (const e of run.evals) if (e.metrics.w2) e.metrics.w2 = 0.5;
  }))[0];
  assert.match(headlineMargins(tie, "w2").value, /tied at\s+0\.5/);
});

Deno.test("meaning: a sample grid says which solver, setting and NFE made it", () => {
  const run = images.runs[0];
  assert.equal(sampleSourceText(images, run), "dopri5 (rtol=0.001, atol=0.001), NFE 38 (inferred)");
  const recorded = clone(images, (r) => {
    r.runs[0].samples!.from = { solver: "dopri5", setting: { rtol: 1e-5, atol: 1e-5 }, nfe: 62 };
  });
  assert.equal(
    sampleSourceText(recorded, recorded.runs[0]),
    "dopri5 (rtol=1e-5, atol=1e-5), NFE 62",
  );
  assert.match(
    renderReport(recorded),
    /<img class="grid"[^>]*><p class="note">made by dopri5 \(rtol=1e-5, atol=1e-5\), NFE 62<\/p>/,
  );
  assert.match(renderReport(toy), /12 trajectories|trajectories; made by dopri5/);
});

Deno.test("meaning: the W2 noise level is a dashed line, a band with its spread, never a floor", () => {
  const without = qualityVsNfeChart(toy, "moons")!;
  const withRef = qualityVsNfeChart(
    clone(toy, (r) => (r.references = { moons: { w2: 0.03 } })),
    "moons",
  )!;
  const dashed = (svg: string) => [...svg.matchAll(/stroke-dasharray="2,3"/g)].length;
  const band = (svg: string) => [...svg.matchAll(/fill-opacity="0\.22"/g)].length;
  assert.equal(dashed(without.svg), 0);
  assert.ok(dashed(withRef.svg) >= 1, "a dashed noise-level rule");
  assert.equal(band(withRef.svg), 0, "no band without a recorded spread");
  assert.match(withRef.note!, /Dashed line: the W2 noise level 0\.03, W2 between two held-out/);
  assert.match(withRef.note!, /points near or below it are within that noise, not better than/);
  // With its spread over held-out draws (the toy-optimum helper's w2_std): a band in every panel.
  const banded = qualityVsNfeChart(
    clone(toy, (r) => (r.references = { moons: { w2: 0.03, w2_std: 0.004 } })),
    "moons",
  )!;
  assert.equal(band(banded.svg), 2, "one band per solver panel (euler, dopri5)");
  assert.match(banded.note!, /Grey band: the W2 noise level 0\.03 ± 0\.004/);
  // The frontier chart draws and words it the same way.
  const frontier = frontierChart(
    clone(toy, (r) => (r.references = { moons: { w2: 0.03, w2_std: 0.004 } })),
    "moons",
  )!;
  assert.equal(band(frontier.svg), 1);
  assert.match(frontier.note!, /Grey band: the W2 noise level 0\.03 ± 0\.004/);
  for (const note of [withRef.note!, banded.note!]) {
    assert.doesNotMatch(note, /floor|perfect model reaches/);
  }
  // The table caption words it the same way.
  const page = renderReport(
    clone(toy, (r) => (r.references = { moons: { w2: 0.03, w2_std: 0.004 } })),
  );
  assert.match(
    page,
    /noise level: W2 0\.0300 ± 0\.0040 between two held-out samples of\s+the evaluation size \(± its spread over held-out draws\)/,
  );
  assert.doesNotMatch(page, /the floor a perfect model reaches|x the floor/);
});

Deno.test("meaning: one method off the scale is clipped with a marker instead of flattening the rest", () => {
  const wild = clone(toy, (r) => {
    for (const run of r.runs) {
      if (run.method !== "diffusion-vp") continue;
      for (const e of run.evals) if (e.solver === "euler" && e.metrics.w2) e.metrics.w2 *= 1e4;
    }
  });
  const chart = qualityVsNfeChart(wild, "moons")!;
  assert.match(
    chart.note!,
    /▲ \d+ W2 values above [\d.]+ \(10x the upper quartile\) are drawn at the top edge \(diffusion-vp up to \d+/,
  );
  const yAxis = /aria-label="y-axis tick label".*?<\/g><\/g>/s.exec(chart.svg)![0];
  const ticks = [...yAxis.matchAll(/>([\d.]+)<\/text>/g)].map((m) => Number(m[1]));
  assert.ok(
    ticks.length >= 2 && Math.max(...ticks) <= 10,
    `y ticks stay near the others: ${ticks}`,
  );
  assert.equal(offScaleCap([0.4, 0.5, 0.6, 0.7, 2]), null, "nothing is clipped without outliers");
  assert.equal(offScaleCap([0.4, 0.5, 0.6, 0.7, 300]), 7);
});

Deno.test("meaning: a method keeps its colour in every report, whatever else is in it", () => {
  const a = seriesColors(toy);
  const reordered = seriesColors(clone(toy, (r) => {
    r.methods.reverse();
    r.runs = r.runs.filter((x) => x.method !== "fm-ot");
  }));
  for (const [name, color] of reordered) assert.equal(color, a.get(name), name);
  assert.equal(colorsFor(["OT-CFM"]).get("OT-CFM"), METHOD_COLORS["OT-CFM"]);
  assert.equal(
    colorsFor(["FM w/ square-ot", "1-RF"]).get("FM w/ square-ot"),
    colorsFor(["OT-CFM", "FM w/ square-ot", "2-RF"]).get("FM w/ square-ot"),
  );
  const many = colorsFor(["a", "b", "c", "d", "e"]);
  assert.equal(new Set(many.values()).size, 5, "distinct colours within a report");
});

Deno.test("meaning: the configuration is folded away in <details>", () => {
  const page = renderReport(toy);
  const i = page.indexOf('<details class="config">');
  assert.ok(i > 0);
  const table = page.indexOf('<table class="plain config">');
  assert.ok(table > i && table < page.indexOf("</details>", i), "the settings table is inside");
  assert.match(page, /<summary>Show all \d+ settings<\/summary>/);
});
