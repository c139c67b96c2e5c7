// The verdict at the top of the report, computed from the tables: the method with the most ★, the
// biggest effects (a few methods far ahead on most data sets, e.g. "about 100x straighter", "NFE
// 26 against 44"), the columns inside the noise; none on a smoke-test budget. Also the one
// number format per column, the training cost with a reflow student's prerequisites, the line
// under a straightness that looks broken but is not, and the NFE axis ticks.
import assert from "node:assert/strict";
import { COLUMN_KEYS, type ColumnKey } from "../reports/columns.ts";
import { costMeasure, trainCost } from "../reports/cost.ts";
import { facetGrid, nfeTicks } from "../reports/facets.ts";
import { columnFormat, formatWithUncertainty } from "../reports/number-format.ts";
import { straightnessNotes } from "../reports/outliers.ts";
import { renderReport, wallTimeText } from "../reports/render.ts";
import { bestIndex } from "../reports/seeds.ts";
import { buildTables, type DatasetTable, type TableCell, type TableRow } from "../reports/table.ts";
import { verdictOf, verdictParagraph } from "../reports/verdict.ts";
import type { MethodEntry, ResultsFile } from "../results/schema.ts";
import { buildFixture, HOSTILE_METHOD } from "./fixtures.ts";

const TITLES: Record<ColumnKey, string> = {
  nll: "NLL",
  quality: "W2",
  kid: "KID",
  nfe: "NFE",
  straightness: "Straightness",
  trainTime: "Train cost",
};

/** A table of synthetic rows: per series, [value, uncertainty] per column; ★ by the real rule. */
function table(
  dataset: string,
  rows: Record<string, Partial<Record<ColumnKey, [number, number | undefined]>>>,
  method: Partial<Record<string, Pick<MethodEntry, "loss" | "family">>> = {},
): DatasetTable {
  const keys = COLUMN_KEYS.filter((k) => k !== "kid");
  const built: TableRow[] = Object.entries(rows).map(([series, cols]) => ({
    runId: series,
    runIds: [series],
    seeds: [0],
    failedSeeds: [],
    series,
    method: method[series]
      ? { label: series, path: "p", coupling: "c", ...method[series]! }
      : undefined,
    methodLabel: series,
    model: "mlp",
    preset: "default",
    paramCount: 1,
    status: "ok",
    cells: Object.fromEntries(COLUMN_KEYS.map((k) => {
      const c = cols[k];
      const cell: TableCell = c
        ? { value: c[0], ...(c[1] !== undefined ? { uncertainty: c[1] } : {}), text: String(c[0]) }
        : { text: "n/a", reason: "not measured" };
      return [k, cell];
    })) as Record<ColumnKey, TableCell>,
  }));
  for (const k of keys) {
    const withValue = built.filter((r) => r.cells[k].value !== undefined);
    const i = bestIndex(withValue.map((r) => ({
      value: r.cells[k].value!,
      uncertainty: r.cells[k].uncertainty,
    })));
    if (i >= 0) withValue[i].cells[k].best = true;
  }
  return {
    dataset,
    columns: keys.map((k) => ({ key: k, title: TITLES[k], sub: "", help: "" })),
    rows: built,
    footnotes: [],
  };
}

/** Three data sets where OT-CFM and 2-RF are ~100x straighter and OT-CFM needs 26 NFE, not 44. */
function threeDatasets(): DatasetTable[] {
  return ["moons", "8gaussians", "checkerboard"].map((d) =>
    table(d, {
      "FM w/ OT": {
        nll: [2.31, 0.02],
        quality: [0.21, 0.01],
        nfe: [44, 1],
        straightness: [1.1, 0.05],
      },
      "OT-CFM": {
        nll: [2.33, 0.02],
        quality: [0.2, 0.01],
        nfe: [26, 0.5],
        straightness: [0.011, 0.001],
      },
      "1-RF": {
        nll: [2.32, 0.02],
        quality: [0.22, 0.01],
        nfe: [44, 1],
        straightness: [1.3, 0.05],
      },
      "2-RF": {
        nll: [2.4, 0.02],
        quality: [0.21, 0.01],
        nfe: [40, 1],
        straightness: [0.012, 0.001],
      },
      "FM w/ cosine": {
        nll: [2.35, 0.02],
        quality: [0.23, 0.01],
        nfe: [46, 1],
        straightness: [1.2, 0.05],
      },
    })
  );
}

Deno.test("verdict: the most ★, the biggest effects, and what is inside the noise", () => {
  const v = verdictOf(threeDatasets(), { smoke: false });
  // OT-CFM leads NFE (26 vs 40, beyond 2 x √(0.5² + 1²)) on every data set; straightness is a
  // tie between OT-CFM and 2-RF (0.011 vs 0.012 inside the noise): no ★ there.
  assert.equal(v.leaders.length, 1);
  assert.equal(v.leaders[0].series, "OT-CFM");
  assert.deepEqual(v.leaders[0].stars.map((s) => `${s.column}/${s.dataset}`), [
    "nfe/moons",
    "nfe/8gaussians",
    "nfe/checkerboard",
  ]);
  assert.ok(Math.abs(v.leaders[0].stars[0].relative - 14 / 40) < 1e-12);
  assert.equal(v.columns, 12, "4 columns with values x 3 data sets");
  // The straightness effect: OT-CFM and 2-RF against the median of the rest (1.2) / 0.0115.
  const s = v.effects.find((e) => e.column === "straightness")!;
  assert.deepEqual(s.lead, ["2-RF", "OT-CFM"]);
  assert.deepEqual(s.datasets, ["moons", "8gaussians", "checkerboard"]);
  assert.ok(Math.abs(s.ratio - 1.2 / 0.0115) < 1e-9, `${s.ratio}`);
  // NFE: OT-CFM alone, 26 against the rest's median (44).
  const n = v.effects.find((e) => e.column === "nfe")!;
  assert.deepEqual(n.lead, ["OT-CFM"]);
  assert.deepEqual([n.leadValue, n.restValue], [26, 44]);
  assert.equal(v.effects[0].column, "straightness", "largest ratio first");
  // Inside the noise: NLL (2.31 vs 2.32) and W2 (0.20 vs 0.21) on every data set; straightness.
  assert.deepEqual(
    v.unclear.map((u) => `${u.column}:${u.inside.length}:${u.unmeasured.length}`).sort(),
    ["nll:3:0", "quality:3:0", "straightness:3:0"],
  );
  const html = verdictParagraph(v).value;
  assert.match(
    html,
    /^<p class="verdict"><strong>Verdict across 3 data sets \(moons, 8gaussians and checkerboard\)\.<\/strong>/,
  );
  assert.match(
    html,
    /Best overall: <strong>OT-CFM<\/strong>, ★ in 3 of 12\s+columns: NFE on moons, 8gaussians and checkerboard \(35% below the runner-up\)\./,
  );
  assert.match(
    html,
    /2-RF and OT-CFM are about 100x straighter than the median of the rest \(straightness 0\.0115 against 1\.1–1\.3, median 1\.2\) on all 3 data sets/,
  );
  assert.match(
    html,
    /OT-CFM needs 1\.7x fewer function evaluations than the median of\s+the rest \(NFE 26 against 40–46, median 44\) on all 3 data sets/,
  );
  assert.match(
    html,
    /Inside the noise \(the leader within 2 standard errors of the\s+runner-up\): NLL \(every data set\), W2 \(every data set\) and Straightness \(every data set\)\./,
  );
});

Deno.test("verdict: no ★ anywhere says so; unmeasured columns are named; a smoke test has none", () => {
  const flat = [table("moons", {
    a: { nll: [1, 0.1], nfe: [30, undefined] },
    b: { nll: [1.05, 0.1], nfe: [60, 1] },
    c: { nll: [1.1, 0.1], nfe: [61, 1] },
  })];
  const v = verdictOf(flat, { smoke: false });
  assert.deepEqual(v.leaders, []);
  assert.deepEqual(v.effects, [], "NFE's gap is not measured against noise: no effect either");
  const html = verdictParagraph(v).value;
  assert.match(html, /Verdict on moons\.<\/strong> No method is clearly best/);
  assert.match(html, /Inside the noise [^.]*: NLL\./);
  assert.match(html, /No measured uncertainty, so no ★: NFE\./);
  const smoke = verdictParagraph(verdictOf(threeDatasets(), { smoke: true })).value;
  assert.match(
    smoke,
    /Verdict across 3 data sets \([^)]*\): none\.<\/strong> This is a\s+smoke-test budget/,
  );
  assert.doesNotMatch(smoke, /Best overall|Biggest effects/);
});

Deno.test("verdict in the report: at the top, from the results, names escaped; none on smoke", () => {
  const r = buildFixture();
  const page = renderReport(r);
  const verdict = /<p class="verdict">[\s\S]*?<\/p>/.exec(page)![0];
  assert.ok(page.indexOf(verdict) < page.indexOf('class="howto"'), "before How to read this");
  assert.ok(!verdict.includes("<img"), "method names are escaped");
  // The fixture's leader is the method with the most ★ in its tables.
  const stars = new Map<string, number>();
  for (const t of buildTables(r)) {
    for (const row of t.rows) {
      const n = Object.values(row.cells).filter((c) => c.best).length;
      stars.set(row.series, (stars.get(row.series) ?? 0) + n);
    }
  }
  const count = Math.max(...stars.values());
  const top = [...stars].filter(([, n]) => n === count).map(([s]) => s);
  // Here fm-ot and the hostile-named method tie at 4 ★ each: no single best, both named.
  assert.equal(top.length, 2);
  assert.match(
    verdict,
    new RegExp(
      `No single best: <strong>fm-ot</strong> and <strong>&lt;img[^<]*</strong> lead ${count} of 10 columns each`,
    ),
  );
  assert.match(verdict, /fm-ot: W2 on moons and 8gaussians \(11\.8–12% below the runner-up\)/);
  // A smoke-test budget: the verdict says none, and no cell has a ★.
  const smoke: ResultsFile = { ...r, budget: { name: "quick", description: "tiny", smoke: true } };
  const sp = renderReport(smoke);
  assert.match(
    sp,
    /<p class="verdict"><strong>Verdict across 2 data sets \(moons and 8gaussians\): none\./,
  );
  assert.doesNotMatch(sp, /class="num best"/);
  assert.doesNotMatch(sp, /<ul class="headline">/);
  assert.ok(
    buildTables(smoke).every((t) =>
      t.rows.every((row) => Object.values(row.cells).every((c) => !c.best))
    ),
  );
  assert.ok(HOSTILE_METHOD.includes("<img"));
});

Deno.test("number format: one per column, decimals from the smallest value and uncertainty", () => {
  const f = columnFormat([0.0412, 0.0468, 0.071], [0.0016, 0.0019, 0.0028]);
  assert.deepEqual(f, { notation: "fixed", decimals: 4 });
  assert.deepEqual([0.0412, 0.071].map((v) => formatWithUncertainty(f, v, 0.0016)), [
    "0.0412 ± 0.0016",
    "0.0710 ± 0.0016",
  ]);
  // A column spanning 1,000x or more, or with a tiny value: exponent notation for every cell.
  const wide = columnFormat([0.0115, 512]);
  assert.equal(wide.notation, "exponent");
  assert.equal(formatWithUncertainty(wide, 512, 31), "5.12e2 ± 3.1e1");
  assert.equal(formatWithUncertainty(wide, 0.0115, 0.001), "1.15e-2 ± 1.0e-3");
  assert.equal(columnFormat([1e-4, 0.5]).notation, "exponent");
  // Counts stay integers; their uncertainty gets two significant digits.
  const nfe = columnFormat([26, 44], [0.5, 0.913]);
  assert.equal(formatWithUncertainty(nfe, 44, 0.913), "44 ± 0.91");
  // Durations: seconds, or minutes for the whole column once one reaches 10 minutes.
  assert.equal(
    formatWithUncertainty(columnFormat([5.86, 19.04], [0.41], { seconds: true }), 19.04, 0.41),
    "19.04 s ± 0.41 s",
  );
  const long = columnFormat([300, 754], [], { seconds: true });
  assert.equal(long.unit, "min");
  assert.equal(formatWithUncertainty(long, 754, 12), "12.57 min ± 0.20 min");
  // The report's tables: every value cell of a column has the same number of decimals.
  for (const t of buildTables(buildFixture())) {
    for (const c of t.columns) {
      const decimals = new Set(
        t.rows.map((r) => r.cells[c.key]).filter((x) => x.value !== undefined)
          .map((x) => /^-?\d+(?:\.(\d+))?/.exec(x.text)?.[1]?.length ?? 0),
      );
      assert.equal(decimals.size, 1, `${t.dataset} ${c.key}: ${[...decimals]}`);
    }
  }
});

Deno.test("train cost: CPU seconds of the method's own thread, plus a reflow student's teacher and pairs", () => {
  const r = buildFixture();
  r.methods.push({
    label: "2-RF",
    path: "linear",
    coupling: "reflow",
    loss: "cfm",
    family: "rectified",
    teacher: "fm-ot",
  });
  const teacher = r.runs.find((x) => x.dataset === "moons" && x.method === "fm-ot")!;
  const student = structuredClone(teacher);
  Object.assign(student, { id: "moons/2-RF/mlp", method: "2-RF" });
  student.train = { ...student.train!, cpuSeconds: 10, cpuStderr: 0.3, seconds: 25 };
  student.provenance = { reflow: { teacher: "fm-ot", cpuSeconds: 4, seconds: 6 } };
  r.runs.push(student);
  assert.equal(costMeasure(r), "cpu");
  const c = trainCost(r, student, "cpu")!;
  assert.deepEqual(c.parts.map((p) => [p.what, p.seconds]), [
    ["own training", 10],
    ["teacher fm-ot", teacher.train!.cpuSeconds!],
    ["reflow pairs", 4],
  ]);
  assert.equal(c.seconds, 10 + teacher.train!.cpuSeconds! + 4);
  assert.ok(Math.abs(c.stderr! - Math.hypot(0.3, teacher.train!.cpuStderr!)) < 1e-12);
  assert.equal(c.wallSeconds, 25);
  // The table's cell says what it adds up; a missing teacher leaves the cell without uncertainty.
  const row = buildTables(r)[0].rows.find((x) => x.methodLabel === "2-RF")!;
  assert.equal(row.cells.trainTime.value, c.seconds);
  assert.match(
    row.cells.trainTime.detail!,
    /own training 10 CPU s \+ teacher fm-ot 69\.4 CPU s \+ reflow pairs 4 CPU s/,
  );
  const orphan = { ...r, runs: r.runs.filter((x) => x !== teacher) };
  const o = trainCost(orphan, student, "cpu")!;
  assert.deepEqual(o.missing, ["teacher fm-ot's training"]);
  assert.equal(o.stderr, undefined);
  // A GPU backend, or a file without CPU times: the wall clock, with no uncertainty.
  assert.equal(costMeasure({ ...r, manifest: { ...r.manifest, backend: "webgpu" } }), "wall");
  const noCpu = structuredClone(r);
  delete noCpu.runs[0].train!.cpuSeconds;
  assert.equal(costMeasure(noCpu), "wall");
  assert.equal(trainCost(noCpu, student, "wall")!.seconds, 25 + teacher.train!.seconds! + 6);
});

Deno.test("a straightness that looks broken but is not gets a line under its table", () => {
  const t = table("moons", {
    "FM w/ OT": { straightness: [1.1, 0.05] },
    "OT-CFM": { straightness: [0.011, 0.001] },
    "FM w/ ve-diffusion": { straightness: [512, 40] },
    "DDPM-style": { straightness: [9e5, 1e5] },
    "1-RF": { straightness: [1.3, 0.05] },
    "2-RF": { straightness: [0.012, 0.001] },
    "FM w/ cosine": { straightness: [1.2, 0.05] },
    "Mystery": { straightness: [800, 10] },
  }, {
    "FM w/ ve-diffusion": { loss: "cfm", family: "diffusion" },
    "DDPM-style": { loss: "eps", family: "diffusion" },
    "Mystery": { loss: "cfm", family: "ot" },
  });
  const notes = straightnessNotes(t.rows);
  assert.equal(notes.length, 2);
  assert.match(
    notes[0],
    /^Straightness of FM w\/ ve-diffusion \(512\) is over 10x the column's median \(1\.25\): not a failure\./,
  );
  assert.match(notes[0], /diffusion path the velocity is very large near one end/);
  assert.match(notes[1], /^Straightness of DDPM-style \(9\.0e5\) is over 10x/);
  assert.match(notes[1], /divides by\s+the noise scale σ_t/);
  assert.ok(!notes.join(" ").includes("Mystery"), "an unexplained outlier is not explained away");
});

Deno.test("charts: NFE ticks label the step counts; six panels wrap into two rows", () => {
  assert.deepEqual(nfeTicks(1, 4), [1, 2, 4]);
  assert.deepEqual(nfeTicks(1, 32), [1, 2, 4, 8, 16, 32]);
  assert.deepEqual(nfeTicks(2, 3000), [2, 8, 32, 128, 512, 2048]);
  // One power of two in range: the ends are labelled instead.
  assert.deepEqual(nfeTicks(26, 44), [26, 44]);
  const g = facetGrid(["euler", "heun", "rk4", "dpm", "unipc", "dopri5"]);
  assert.deepEqual([g.cols, g.rows], [3, 2]);
  assert.deepEqual(g.cell.get("dopri5"), { col: 2, row: 1 });
  assert.equal(
    wallTimeText({ wallSeconds: 259, sessions: 2 }),
    "4m 19s elapsed (2 sessions added up)",
  );
  assert.equal(wallTimeText({ wallSeconds: 259 }), "4m 19s elapsed");
});

Deno.test("the NLL cell shows the gap to the data's optimum when the results record its entropy", async () => {
  const { buildFixture } = await import("./fixtures.ts");
  const { buildTables } = await import("../reports/table.ts");
  const results = buildFixture();
  const dataset = results.runs[0].dataset;
  const before = buildTables(results).find((t) => t.dataset === dataset)!.rows[0].cells.nll;
  assert.ok(!before.text.includes("gap"), before.text);
  results.references = { ...results.references, [dataset]: { entropy: 1.5 } };
  const cell = buildTables(results).find((t) => t.dataset === dataset)!.rows[0].cells.nll;
  const gap = (cell.value! - 1.5).toFixed(2);
  assert.ok(cell.text.endsWith(`(gap +${gap})`), cell.text);
  assert.match(cell.detail!, /gap to the optimum: NLL minus the data's entropy 1\.5000 nats/);
});
