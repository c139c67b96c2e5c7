// The low-NFE frontier: the Pareto front as a pure function, its reading from a results file
// (means over seeds, failed and non-finite evaluations left out), the chart with the solver of
// each point on hover, and the terminal table's best-within-budget cells.
import assert from "node:assert/strict";
import type { EvalRecord, ResultsFile } from "../results/schema.ts";
import { bestWithin, frontierSeries, paretoFront } from "../reports/frontier.ts";
import { frontierChart } from "../reports/frontier-chart.ts";
import { frontierRows, printFrontier } from "../reports/frontier-table.ts";
import { renderReport } from "../reports/render.ts";
import { buildFixture } from "./fixtures.ts";
import { captureConsole } from "./helpers/console.ts";

Deno.test("paretoFront: strictly better with more NFE, best of equal NFE, bad points out", () => {
  const pts = [
    { id: "a", nfe: 4, q: 1 },
    { id: "b", nfe: 2, q: 3 },
    { id: "c", nfe: 8, q: 2 }, // worse than a with more NFE: off the front
    { id: "d", nfe: 16, q: 0.5 },
    { id: "e", nfe: 4, q: 0.9 }, // same NFE as a, better: replaces it
    { id: "f", nfe: 16, q: 0.5 }, // a tie with d: the first listed stays
    { id: "g", nfe: 1, q: NaN },
    { id: "h", nfe: 0, q: 0.1 },
    { id: "i", nfe: 32, q: 0.5 }, // equal quality with more NFE: not better
  ];
  assert.deepEqual(paretoFront(pts).map((p) => p.id), ["b", "e", "d"]);
  assert.deepEqual(paretoFront([]), []);
  const front = paretoFront(pts);
  assert.equal(bestWithin(front, 1), undefined);
  assert.equal(bestWithin(front, 2)?.id, "b");
  assert.equal(bestWithin(front, 10)?.id, "e");
  assert.equal(bestWithin(front, 1000)?.id, "d");
});

const ev = (
  solver: string,
  setting: EvalRecord["setting"],
  nfe: number,
  w2: number | null,
  status: "ok" | "failed" = "ok",
): EvalRecord => ({ solver, setting, status, nfe, metrics: { w2 }, seconds: 1 });

/** Two methods on moons: fm-ot with a designed front over two seeds, diffusion-vp with dopri5 only. */
function frontierResults(): ResultsFile {
  const r = buildFixture();
  const base = r.runs.filter((x) => x.dataset === "moons" && x.method === "fm-ot")[0];
  const vp = r.runs.filter((x) => x.dataset === "moons" && x.method === "diffusion-vp")[0];
  const fm = (seed: number, dopri: [number, number]) => ({
    ...base,
    id: `${base.id}/s${seed}`,
    seed,
    evals: [
      ev("euler", { steps: 1 }, 1, 2.0),
      ev("euler", { steps: 2 }, 2, 1.0),
      ev("euler", { steps: 4 }, 4, 0.5),
      ev("ipndm", { steps: 4, grid: "karras" }, 4, 0.2),
      ev("dpm-solver-pp", { steps: 3, grid: "logsnr" }, 3, 0.3),
      ev("heun", { steps: 2 }, 4, 0.4),
      ev("rk4", { steps: 2 }, 8, 0.25),
      ev("euler", { steps: 1, grid: "edm" }, 1, 0.01, "failed"),
      ev("midpoint", { steps: 1 }, 2, null),
      ev("dopri5", { rtol: 1e-5, atol: 1e-5 }, dopri[0], dopri[1]),
    ],
  });
  r.runs = [
    fm(0, [60, 0.04]),
    fm(1, [64, 0.06]),
    { ...vp, evals: [ev("dopri5", { rtol: 1e-5, atol: 1e-5 }, 100, 0.08)] },
  ];
  return r;
}

Deno.test("frontierSeries: one point per setting (mean over seeds); failed and null evaluations out", () => {
  const [fm, vp] = frontierSeries(frontierResults(), "moons");
  assert.equal(fm.series, "fm-ot");
  assert.equal(fm.points.length, 8, "10 settings less the failed and the null one");
  assert.deepEqual(fm.front.map((p) => [p.solver, p.nfe, p.q]), [
    ["euler", 1, 2.0],
    ["euler", 2, 1.0],
    ["dpm-solver-pp", 3, 0.3],
    ["ipndm", 4, 0.2],
    ["dopri5", 62, 0.05],
  ]);
  assert.equal(fm.front.at(-1)!.seeds, 2);
  assert.deepEqual(vp.front.map((p) => [p.solver, p.nfe, p.q]), [["dopri5", 100, 0.08]]);
  assert.deepEqual(frontierSeries(frontierResults(), "8gaussians"), []);
});

Deno.test("frontier chart: a step line per method, the front's dots with the solver on hover", () => {
  const results = frontierResults();
  const c = frontierChart(results, "moons")!;
  assert.equal(c.kind, "frontier");
  assert.deepEqual(c.series, ["fm-ot", "diffusion-vp"]);
  assert.ok(c.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.doesNotMatch(c.svg, /NaN/);
  const titles = [...c.svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
  assert.equal(titles.length, 6, "one hover text per front point (5 + 1)");
  assert.ok(
    titles.some((t) => /fm-ot\nbest within 4 NFE: W2 0.2\nipndm steps=4, grid=karras/.test(t)),
  );
  assert.ok(titles.some((t) => /dopri5 rtol=1e-5, atol=1e-5 \(mean over 2 seeds\)/.test(t)));
  assert.doesNotMatch(
    c.svg,
    /rk4|heun|midpoint/,
    "dominated, failed and null settings are not drawn",
  );
  // Two lines (one per method), each a path.
  assert.equal([...c.svg.matchAll(/<path [^>]*d="M/g)].length >= 2, true);
  assert.match(c.note!, /Pareto front/);
  const page = renderReport(results);
  assert.match(page, /<figure class="chart" data-chart="frontier" data-dataset="moons">/);
  assert.equal(frontierChart(results, "8gaussians"), null);
});

Deno.test("terminal frontier table: best within 1, 2, 4, 10 NFE and the solver that reached it", async () => {
  const rows = frontierRows(frontierResults());
  assert.deepEqual(rows, [
    ["dataset", "method", "w2 NFE<=1", "NFE<=2", "NFE<=4", "NFE<=10"],
    ["moons", "fm-ot", "2.000 euler@1", "1.000 euler@2", "0.200 ipndm@4", "0.200 ipndm@4"],
    ["moons", "diffusion-vp", "n/a", "n/a", "n/a", "n/a"],
  ]);
  const { out } = await captureConsole(() => Promise.resolve(printFrontier(frontierResults())));
  assert.match(out, /best w2 within an NFE budget/);
  assert.match(out, /\| moons\s+\| fm-ot\s+\| 2\.000 euler@1 \| 1\.000 euler@2 \| 0\.200 ipndm@4/);
});
