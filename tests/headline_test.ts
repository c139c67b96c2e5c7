// One headline rule: the terminal table, the log line and the HTML report all show the adaptive
// solver at its tightest tolerance, pinned on the case that used to differ (dopri5 fails at 1e-5
// but succeeds at 1e-3).
import assert from "node:assert/strict";
import { evalLogLine } from "../harness/run.ts";
import { headlineEval } from "../results/headline.ts";
import { renderReport } from "../reports/render.ts";
import { summaryRows } from "../reports/summary.ts";
import { buildTables } from "../reports/table.ts";
import { buildFixture } from "./fixtures.ts";

const fixture = buildFixture();
const run = fixture.runs.find((r) => r.dataset === "8gaussians" && r.method === "diffusion-vp")!;
const adaptive = fixture.headline.adaptiveSolver;
const loose = run.evals.find((e) => e.solver === adaptive && e.status === "ok")!;

Deno.test("the pinned case: dopri5 fails at its tight tolerance and succeeds at the loose one", () => {
  const tight = run.evals.filter((e) => e.solver === adaptive && e.setting.rtol === 1e-5);
  assert.equal(tight.length, 1);
  assert.equal(tight[0].status, "failed");
  assert.equal(loose.setting.rtol, 1e-3, "the old 'first ok' rule would pick rtol 1e-3");
  const h = headlineEval(run, adaptive)!;
  assert.equal(h.status, "failed");
  assert.equal(h.setting.rtol, 1e-5);
});

Deno.test("terminal summary, log line and HTML report all report the failure, not 1e-3", () => {
  const w2Loose = loose.metrics.w2!.toFixed(3);
  // Terminal summary (reports/summary.ts).
  const rows = summaryRows(fixture);
  const row = rows.find((r) => r[0] === "8gaussians" && r[1] === "diffusion-vp")!;
  assert.equal(row[2], "failed");
  assert.equal(row[3], "n/a");
  // The log line the harness prints after each run (harness/run.ts).
  const line = evalLogLine({ record: run, adaptiveSolver: adaptive, quality: "w2", seconds: 1.5 });
  assert.match(line, /w2 failed \(dopri5 rtol=0\.00001 atol=0\.00001: step size underflow/);
  assert.ok(!line.includes(w2Loose) && !line.includes(`@ ${loose.nfe} NFE`), line);
  // The comparison table behind the HTML report (reports/table.ts) and the page itself.
  const table = buildTables(fixture).find((t) => t.dataset === "8gaussians")!;
  const cells = table.rows.find((r) => r.methodLabel === "diffusion-vp")!.cells;
  assert.equal(cells.quality.text, "n/a");
  assert.match(cells.quality.reason!, /rtol=1e-5, atol=1e-5\) failed: step size underflow/);
  assert.equal(cells.nfe.text, "n/a");
  assert.match(renderReport(fixture), /dopri5 \(rtol=1e-5, atol=1e-5\) failed: step size/);
});

Deno.test("a run whose tight tolerance succeeds shows that figure everywhere", () => {
  const ok = fixture.runs.find((r) => r.dataset === "moons" && r.method === "fm-ot")!;
  const h = headlineEval(ok, adaptive)!;
  assert.equal(h.status, "ok");
  assert.equal(h.setting.rtol, 1e-5);
  const line = evalLogLine({ record: ok, adaptiveSolver: adaptive, quality: "w2", seconds: 1 });
  assert.match(line, new RegExp(`w2 ${h.metrics.w2!.toFixed(4)} @ ${h.nfe} NFE`));
  const row = summaryRows(fixture).find((r) => r[0] === "moons" && r[1] === "fm-ot")!;
  assert.equal(row[2], h.metrics.w2!.toFixed(3));
  assert.equal(row[3], String(h.nfe));
});
