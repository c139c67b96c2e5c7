// The cifar10 comparison in Table 1's shape: row order, published rows with their sources, the
// bits/dim header with K, the NFE-controller note, and the sampling-error chart.
import assert from "node:assert/strict";
import type { ResultsFile } from "../results/schema.ts";
import { PUBLISHED_ROWS, PUBLISHED_SOURCES, publishedRows } from "../results/published.ts";
import { renderReport } from "../reports/render.ts";
import { sampleErrorChart } from "../reports/sample-error-chart.ts";
import { buildTables } from "../reports/table.ts";
import { table1Order } from "../reports/table1.ts";
import { buildFixture, HOSTILE_METHOD } from "./fixtures.ts";

/** The image fixture as a cifar10 run of DDPM-style, FM w/ OT and 1-RF with K = 20 bits/dim. */
function cifarResults(adaptive = "dopri5-torchdiffeq"): ResultsFile {
  const r = buildFixture({ kind: "images" });
  const rename: Record<string, string> = {
    "fm-ot": "FM w/ OT",
    "diffusion-vp": "DDPM-style",
    [HOSTILE_METHOD]: "1-RF",
  };
  r.suite = "cifar10";
  r.headline.adaptiveSolver = adaptive;
  r.methods = r.methods.map((m) => ({ ...m, label: rename[m.label] }));
  r.runs = r.runs.filter((run) => run.dataset === "cifar10-32").map((run) => ({
    ...run,
    dataset: "cifar10",
    method: rename[run.method],
    evals: run.evals.map((e) => {
      const solver = e.solver === "dopri5" ? adaptive : e.solver;
      const sampleError = e.solver === "euler"
        ? {
          mse: 0.5 / (e.setting.steps ?? 1) ** 2,
          reference: { solver: adaptive, setting: { rtol: 1e-5, atol: 1e-5 } },
        }
        : undefined;
      return { ...e, solver, ...(sampleError ? { sampleError } : {}) };
    }),
    nll: run.nll.map((n) => ({ ...n, solver: adaptive, dequantSamples: 20, bpdSingleSample: 3.5 })),
  }));
  return r;
}

function tbodyRows(doc: string): string[] {
  const start = doc.indexOf(`<table class="comparison" data-dataset="cifar10">`);
  const body = doc.slice(doc.indexOf("<tbody>", start), doc.indexOf("</tbody>", start));
  return body.split("<tr").slice(1);
}

const nameOf = (row: string) => /<span class="method">([^<]*)<\/span>/.exec(row)![1];

Deno.test("table1Order: Table 1's rows first, the rest in their order", () => {
  const rows = ["1-RF", "FM w/ OT", "OT-CFM", "ScoreFlow", "DDPM-style", "FM w/ Diffusion"]
    .map((methodLabel) => ({ methodLabel }));
  assert.deepEqual(table1Order(rows).map((r) => r.methodLabel), [
    "DDPM-style",
    "ScoreFlow",
    "FM w/ Diffusion",
    "FM w/ OT",
    "1-RF",
    "OT-CFM",
  ]);
});

Deno.test("published data: one file, every row cites a source, Table 1 as printed", () => {
  for (const r of PUBLISHED_ROWS) assert.ok(PUBLISHED_SOURCES[r.source], `${r.method}: source`);
  const t1 = publishedRows("cifar10", "cifar10").filter((r) => r.source.label.includes("Lipman"));
  assert.deepEqual(t1.map((r) => [r.method, r.bpd, r.fid, r.nfe]), [
    ["DDPM", 3.12, 7.48, 274],
    ["Score Matching", 3.16, 19.94, 242],
    ["ScoreFlow", 3.09, 20.78, 428],
    ["FM w/ Diffusion", 3.10, 8.06, 183],
    ["FM w/ OT", 2.99, 6.35, 142],
  ]);
  assert.deepEqual(publishedRows("toy2d", "moons"), []);
});

Deno.test("cifar10 report: Table 1 order with published rows beside the measured ones", () => {
  const doc = renderReport(cifarResults());
  const rows = tbodyRows(doc);
  assert.deepEqual(rows.map(nameOf), [
    "DDPM-style",
    "DDPM",
    "Score Matching",
    "ScoreFlow",
    "FM w/ Diffusion",
    "FM w/ OT",
    "FM w/ OT",
    "1-RF",
    "1-RF",
    "I-CFM",
    "2-RF",
    "OT-CFM",
  ]);
  const published = rows.filter((r) => r.startsWith(` class="published"`));
  assert.equal(published.length, 9);
  for (const r of published) {
    assert.match(r, /<span class="tag-published">published<\/span>/);
    assert.doesNotMatch(r, /best/, "published figures never compete for best");
  }
  const ddpm = published.find((r) => nameOf(r) === "DDPM")!;
  assert.match(ddpm, /Lipman et al\. 2023, Table 1, arXiv:2210\.02747/);
  assert.deepEqual([...ddpm.matchAll(/<td class="num"[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]), [
    "3.12",
    "7.48",
    "—", // KID: not reported by the paper
    "274",
    "—",
    "—",
  ]);
  // Table 1's column set first: NLL (bits/dim with K), FID, KID, NFE; then the other columns.
  const head = doc.slice(doc.indexOf("<thead>"), doc.indexOf("</thead>"));
  assert.deepEqual(
    [...head.matchAll(/<th scope="col" class="num"[^>]*>([^<]*) </g)].map((m) => m[1]),
    [
      "NLL",
      "FID",
      "KID",
      "NFE",
      "Straightness",
      "Train cost",
    ],
  );
  const icfm = published.find((r) => nameOf(r) === "I-CFM")!;
  assert.match(icfm, /Tong et al\. 2024.*the recipe fmbench trains as 1-RF/);
  assert.match(doc, /<div class="unit">bits\/dim, K = 20<\/div>/);
  assert.match(doc, /counted by <code>dopri5-torchdiffeq<\/code>, torchdiffeq's error control/);
  assert.match(doc, /Liu et al\. 2023, Table 1: .*Sampler: scipy RK45/);
  assert.doesNotMatch(doc, /https?:\/\//, "sources are cited as text, never linked");
  // The cell tooltip of a measured NLL says K and the single-sample figure on the same draws.
  assert.match(doc, /K=20 \(K=1 on the same draws: 3\.5\)/);
});

Deno.test("cifar10 report: the note warns when NFE were counted by another controller", () => {
  const doc = renderReport(cifarResults("dopri5"));
  assert.match(doc, /counted by <code>dopri5<\/code>, not torchdiffeq's controller/);
});

Deno.test("other suites keep their order and get no published rows", () => {
  const toy = buildFixture();
  for (const t of buildTables(toy)) assert.equal(t.published, undefined);
  assert.doesNotMatch(renderReport(toy), /<span class="tag-published">/);
});

Deno.test("sampling-error chart: log-log per fixed-step solver, in the report, null without data", () => {
  const r = cifarResults();
  const c = sampleErrorChart(r, "cifar10");
  assert.ok(c);
  assert.equal(c.kind, "sampling-error");
  assert.deepEqual(c.series, ["FM w/ OT", "DDPM-style", "1-RF"]);
  assert.match(c.note!, /reference solution from the same noise: dopri5-torchdiffeq/);
  assert.match(c.note!, /◆ = grid=edm/);
  const doc = renderReport(r);
  assert.match(doc, /<figure class="chart" data-chart="sampling-error" data-dataset="cifar10">/);
  const charts = Number(/<meta name="fmbench-charts" content="(\d+)">/.exec(doc)![1]);
  assert.equal(charts, [...doc.matchAll(/<figure class="chart"/g)].length);
  assert.equal(sampleErrorChart(buildFixture(), "moons"), null);
});

Deno.test("sampling-error ticks: 1-2-5 over few decades, powers of ten over many", async () => {
  const { errorTicks } = await import("../reports/sample-error-chart.ts");
  assert.deepEqual(errorTicks(0.01, 1), [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]);
  assert.deepEqual(errorTicks(3e-9, 200), [1e-8, 1e-6, 1e-4, 0.01, 1, 100]);
  assert.deepEqual(errorTicks(0, 1), []);
});

Deno.test("results check: K, the single-sample bits/dim and sampling errors are checked fields", async () => {
  const { resultsProblems } = await import("../results/check.ts");
  const r = cifarResults();
  assert.deepEqual(resultsProblems(r), []);
  r.runs[0].evals[0].sampleError!.mse = -1;
  r.runs[0].nll[0].dequantSamples = 0;
  const problems = resultsProblems(r);
  assert.ok(
    problems.some((p) => /^runs\[0\]\.evals\[0\]\.sampleError\.mse = -1 is negative/.test(p)),
  );
  assert.ok(problems.some((p) => /^runs\[0\]\.nll\[0\]\.dequantSamples = 0 is below 1/.test(p)));
});

Deno.test("the NLL headline margin keeps bits/dim as its unit when the header names K", () => {
  const doc = renderReport(cifarResults());
  assert.match(doc, /<li>NLL on cifar10: <strong>[^<]+<\/strong> [0-9.]+ ± [0-9.]+ bits\/dim/);
  assert.doesNotMatch(doc, /<li>NLL on cifar10:[^<]*<strong>[^<]+<\/strong> [^<]* nats/);
});

Deno.test("sampling-error chart: seeds of one recipe make one line of means, not a zig-zag", () => {
  const one = cifarResults();
  const two = structuredClone(one);
  two.runs = [0, 1].flatMap((seed) =>
    structuredClone(one.runs).map((r) => {
      for (const e of r.evals) {
        if (typeof e.sampleError?.mse === "number") e.sampleError.mse *= seed === 0 ? 1 : 3;
      }
      return { ...r, id: `${r.id}__s${seed}`, seed };
    })
  );
  const tips = (c: ReturnType<typeof sampleErrorChart>) =>
    [...c!.svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
  const single = tips(sampleErrorChart(one, "cifar10"));
  const averaged = tips(sampleErrorChart(two, "cifar10"));
  assert.ok(single.length > 0);
  assert.equal(averaged.length, single.length, "one point per (recipe, solver, setting)");
  // mean of x and 3x is 2x: every point's MSE doubles, and says it is a mean over 2 seeds.
  const mse = (t: string) => Number(/MSE ([0-9.e+-]+)/.exec(t)![1]);
  for (let i = 0; i < single.length; i++) {
    assert.ok(Math.abs(mse(averaged[i]) / mse(single[i]) - 2) < 0.01, averaged[i]);
    assert.match(averaged[i], /\(mean over 2 seeds\)/);
  }
});
