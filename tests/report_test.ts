// Tests for the HTML report: table values and best marks, charts, sections, escaping, no URLs.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ResultsFile } from "../results/schema.ts";
import { main } from "../cli/report.ts";
import { logTicks, qualityVsNfeChart, sampleCharts, trainingChart } from "../reports/charts.ts";
import { escapeHtml, markup, raw, safeDataImageUri } from "../reports/escape.ts";
import { frontierChart } from "../reports/frontier-chart.ts";
import { renderReport, SECTION_IDS } from "../reports/render.ts";
import { buildTables, formatDuration, formatNumber, formatWithError } from "../reports/table.ts";
import { buildFixture, HOSTILE_DESCRIPTION, HOSTILE_METHOD, KNOWN_CELL } from "./fixtures.ts";

const fixture = buildFixture();
const page = renderReport(fixture);

function meta(doc: string, name: string): string | undefined {
  return new RegExp(`<meta name="${name}" content="([^"]*)">`).exec(doc)?.[1];
}

function count(doc: string, re: RegExp): number {
  return [...doc.matchAll(re)].length;
}

/** The HTML of one dataset's comparison table. */
function tableHtml(doc: string, dataset: string): string {
  const start = doc.indexOf(`<table class="comparison" data-dataset="${escapeHtml(dataset)}">`);
  assert.ok(start >= 0, `no comparison table for ${dataset}`);
  return doc.slice(start, doc.indexOf("</table>", start));
}

/** The <tr> of a method (matched by its escaped label) inside a table's HTML. */
function rowHtml(table: string, method: string): string {
  const rows = table.split("<tr").filter((r) =>
    r.includes(`<span class="method">${escapeHtml(method)}</span>`)
  );
  assert.equal(rows.length, 1, `expected one row for ${method}`);
  return rows[0];
}

/**
 * A small well-formedness check for XML markup: balanced tags, quoted attributes without raw
 * `<` or `&`, and text without raw `<` or stray `&`.
 */
function assertWellFormedXml(xml: string, what: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>/y;
  const entity = /&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);/y;
  let i = 0;
  while (i < xml.length) {
    const c = xml[i];
    if (c === "<") {
      tag.lastIndex = i;
      const m = tag.exec(xml);
      assert.ok(m, `${what}: malformed tag at ${i}: ${xml.slice(i, i + 60)}`);
      for (const [, v] of m[3].matchAll(/="([^"]*)"/g)) {
        assert.ok(!/[<]|&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)/.test(v), `${what}: bad attr ${v}`);
      }
      if (m[1]) assert.equal(stack.pop(), m[2], `${what}: unbalanced </${m[2]}> at ${i}`);
      else if (!m[4]) stack.push(m[2]);
      i = tag.lastIndex;
    } else if (c === "&") {
      entity.lastIndex = i;
      assert.ok(entity.exec(xml), `${what}: stray & at ${i}: ${xml.slice(i, i + 20)}`);
      i = entity.lastIndex;
    } else i++;
  }
  assert.deepEqual(stack, [], `${what}: unclosed tags`);
}

Deno.test("every section exists once, in a self-contained document", () => {
  assert.ok(page.startsWith("<!doctype html>"));
  for (const id of SECTION_IDS) {
    assert.equal(count(page, new RegExp(`<section id="${id}">`, "g")), 1, `section ${id}`);
  }
  for (
    const id of [
      "manifest",
      "plugins",
      "comparison",
      "quality-vs-nfe",
      "training",
      "samples",
      "failures",
      "about",
    ]
  ) assert.ok(SECTION_IDS.includes(id as never), id);
  assert.equal(meta(page, "fmbench-sections"), SECTION_IDS.join(" "));
  assert.match(page, /How to read this\./);
  assert.match(page, /bpd = -log p\(y\) \/ \(D ln 2\) \+ 7/);
  assert.match(page, /y = \(x \+ u\)\/128 - 1/);
  assert.equal(count(page, /<script/gi), 0, "the report has no scripts");
  assert.doesNotMatch(page, /https?:\/\//, "no URL at all in the fixture report");
  assert.doesNotMatch(page, /\b(src|href)="(https?:)?\/\//i);
  assert.doesNotMatch(page, /url\((?!#chart\d+-\d+\))/i, "url() only for in-page clip paths");
  const ids = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, "ids are unique");
  assert.equal(renderReport(fixture), page, "rendering is deterministic");
  assert.doesNotMatch(page, /@import/i);
  assert.match(page, /Content-Security-Policy" content="default-src 'none'/);
});

Deno.test("table: known W2 and NFE cells, best marks, n/a with reason", () => {
  const moons = tableHtml(page, KNOWN_CELL.dataset);
  const row = rowHtml(moons, KNOWN_CELL.method);
  // fm-ot has the lowest W2 on moons (0.0412 ± 0.0016 against 0.0468 ± 0.0019: a gap of 0.0056
  // beyond 2 combined standard errors, 0.0049): bold + star; its NFE (62) is not the lowest.
  assert.match(
    row,
    new RegExp(
      `<td class="num best"[^>]*><strong>${KNOWN_CELL.w2} ± 0.0016</strong><span class="best-mark"`,
    ),
  );
  assert.match(row, new RegExp(`<td class="num" title="[^"]*">${KNOWN_CELL.nfe} ± 0.91</td>`));
  const hostile = rowHtml(moons, HOSTILE_METHOD);
  assert.match(hostile, /<td class="num best"[^>]*><strong>32 ± 0\.91<\/strong>/);
  // NLL 2.475 ± 0.021 vs the runner-up's 2.497 ± 0.021: a gap of 0.022 is within 2 combined
  // standard errors (2 √(0.021² + 0.021²) ≈ 0.059), so that column gets no ★; the other four do.
  assert.equal(count(moons, /class="num best"/g), 4, "a best in 4 columns, none for NLL");
  assert.match(row, /<td class="num" title="[^"]*">2\.475 ± 0\.021<\/td>/);
  // The headline eval is dopri5 at rtol 1e-5 (tightest), not rtol 1e-3.
  assert.match(row, /title="best in column; dopri5 \(rtol=1e-5, atol=1e-5\);/);
  assert.match(row, /2\.475 ± 0\.021/);

  const g = tableHtml(page, "8gaussians");
  const failed = rowHtml(g, "diffusion-vp");
  assert.equal(
    count(
      failed,
      /<td class="num na" title="dopri5 \(rtol=1e-5, atol=1e-5\) failed: step size underflow/g,
    ),
    2,
  );
  assert.match(failed, />n\/a<sup>1<\/sup>/);
  assert.match(page, /<ol class="footnotes"><li>dopri5 \(rtol=1e-5, atol=1e-5\) failed: step size/);

  const tables = buildTables(fixture);
  assert.deepEqual(tables.map((t) => t.dataset), ["moons", "8gaussians"]);
  const cell = tables[0].rows.find((r) => r.methodLabel === "fm-ot")!.cells;
  assert.equal(cell.quality.value, KNOWN_CELL.w2);
  assert.equal(cell.nfe.value, KNOWN_CELL.nfe);
  assert.equal(cell.quality.best, true);
  assert.equal(cell.nfe.best, undefined);
  // Train cost: the CPU seconds of the training thread (0.9 of the 77.08 s wall clock here).
  assert.equal(cell.trainTime.text, "69.37 s ± 0.77 s");
  assert.match(cell.trainTime.detail!, /own training wall clock 1m 17s/);
  // The failed eval on 8gaussians must not fall back to the looser rtol=1e-3 eval.
  const vp = tables[1].rows.find((r) => r.methodLabel === "diffusion-vp")!.cells;
  assert.equal(vp.quality.value, undefined);
  assert.equal(vp.quality.footnote, 1);
});

Deno.test("charts: one SVG per chart, standalone and well-formed", () => {
  // Per dataset: frontier + quality-vs-NFE + training + the held-out data + one sample scatter per
  // method (3) = 7.
  assert.equal(meta(page, "fmbench-charts"), "14");
  assert.equal(count(page, /<svg[\s>]/g), 14);
  assert.equal(count(page, /<figure class="chart" data-chart="frontier"/g), 2);
  assert.equal(count(page, /<figure class="chart" data-chart="quality-vs-nfe"/g), 2);
  assert.equal(count(page, /<figure class="chart" data-chart="training"/g), 2);
  assert.equal(count(page, /<figure class="chart" data-chart="samples"/g), 8);
  assert.equal(count(page, /<figcaption>Held-out data \(ground truth\)<\/figcaption>/g), 2);
  assert.equal(meta(page, "fmbench-images"), "0");
  const charts = ["moons", "8gaussians"].flatMap((d) => [
    frontierChart(fixture, d)!,
    qualityVsNfeChart(fixture, d)!,
    trainingChart(fixture, d)!,
    ...sampleCharts(fixture, d),
  ]);
  assert.equal(charts.length, 14);
  for (const c of charts) {
    assert.ok(c.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), c.title);
    assert.ok(c.svg.endsWith("</svg>"), c.title);
    assert.doesNotMatch(c.svg, /NaN/, c.title);
    assertWellFormedXml(c.svg, c.title);
  }
  // The failed eval is not drawn: 8gaussians diffusion-vp has 5 euler + 1 dopri5 points.
  const q = qualityVsNfeChart(fixture, "8gaussians")!;
  assert.match(q.svg, /dopri5 \(adaptive\)/);
  assert.equal(count(q.svg, /<title>diffusion-vp\n/g), 6);
  assert.equal(count(q.svg, /<title>fm-ot\n/g), 7);
  // The edm-grid variant is its own dashed line with its own marker, explained in the note.
  assert.equal(
    q.note,
    "W2 on a log scale (values span ≥ 10x). Markers: ● step/tolerance sweep; ◆ grid=edm (dashed).",
  );
  assert.equal(count(q.svg, /stroke-dasharray="4,3"/g), 1);
});

Deno.test("plugin and method strings are escaped everywhere", () => {
  assert.ok(!page.includes(HOSTILE_METHOD), "raw method name");
  assert.ok(!page.includes("<script>alert(1)</script>"), "raw plugin description");
  assert.ok(page.includes(escapeHtml(HOSTILE_DESCRIPTION)));
  assert.ok(page.includes("&lt;img src=x onerror=alert(1)&gt;"));
  assert.doesNotMatch(page, /<img\b/i, "no <img> in a 2-D report");
  // No markup anywhere carries an event-handler attribute.
  for (const [tag] of page.matchAll(/<[a-zA-Z][^>]*>/g)) {
    assert.doesNotMatch(tag, /\son[a-z]+\s*=/i, tag);
  }
  assert.equal(
    escapeHtml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
  assert.equal(
    markup`<b title="${'"><x>'}">${["<", raw("<i>")]}</b>`.value,
    '<b title="&quot;&gt;&lt;x&gt;">&lt;<i></b>',
  );
  assert.equal(safeDataImageUri("javascript:alert(1)"), null);
  assert.equal(safeDataImageUri("data:image/svg+xml;base64,AAAA"), null);
  assert.equal(
    safeDataImageUri("data:image/png;base64,iVBORw0KGgo="),
    "data:image/png;base64,iVBORw0KGgo=",
  );
});

Deno.test("failures, manifest and plugin inventory", () => {
  const failures = page.slice(
    page.indexOf('<section id="failures">'),
    page.indexOf('<section id="manifest">'),
  );
  assert.match(failures, /2 failures\./);
  assert.match(failures, /step size underflow \(h &lt; 1e-10\)/);
  assert.match(failures, /plugins\/solvers\/broken\.ts/);
  const manifest = page.slice(
    page.indexOf('<section id="manifest">'),
    page.indexOf('<section id="plugins">'),
  );
  assert.match(manifest, /0123456789abcdef0123456789abcdef01234567/);
  assert.match(manifest, /3f9a1c0d7e2b/);
  assert.match(manifest, /complete run \(not sharded\)/);
  assert.match(manifest, /webgpu: no navigator\.gpu/);
  assert.match(manifest, /solvers\.euler\.steps/);
  const plugins = page.slice(
    page.indexOf('<section id="plugins">'),
    page.indexOf('<section id="about">'),
  );
  assert.match(plugins, /10 plugins loaded, 1 failed to load\./);
  assert.match(plugins, /member &quot;integrate&quot; must be a function/);
});

Deno.test("image suites: bits/dim, FID and inline PNG sample grids", () => {
  const images = buildFixture({ kind: "images" });
  const doc = renderReport(images);
  // Records without dequantSamples used one dequantisation sample per image.
  assert.match(doc, /NLL <span class="arrow">↓<\/span><div class="unit">bits\/dim, K = 1<\/div>/);
  assert.match(doc, /FID <span class="arrow">↓<\/span>/);
  const row = rowHtml(tableHtml(doc, "cifar10-32"), "fm-ot");
  // bpd = nats / (D ln 2) + 7 for the fixture's nats: 3 + 10 * 0.0412 = 3.412 bits/dim.
  assert.match(row, /<strong>3\.412 ± 0\.012<\/strong>/);
  // One seed: FID has no measured uncertainty, so no ★ however large its lead.
  assert.match(
    row,
    /<td class="num" title="[^"]*no uncertainty recorded for this value \(no ★\)">24\.7<\/td>/,
  );
  // KID next to FID: mean ± std over subsets, with the samples and NFE in the tooltip; 0.0247 ±
  // 0.0016 against 0.0281 ± 0.0017 is inside 2 combined standard errors: no ★ either.
  assert.match(doc, /FID <span class="arrow">↓<\/span>.*KID <span class="arrow">↓<\/span>.*NFE/s);
  assert.match(
    row,
    /title="dopri5 \(rtol=1e-5, atol=1e-5\), 5000 samples, NFE 62; ± std over 100 subsets">0\.0247 ± 0\.0016<\/td>/,
  );
  // The protocol line under the table: reference, samples, preprocessing, KID, weights' hash.
  const after = doc.slice(doc.indexOf(tableHtml(doc, "cifar10-32")));
  const protocol = /<p class="protocol">([^<]*)<\/p>/.exec(after)?.[1] ?? "";
  assert.match(
    protocol,
    /^FID\/KID protocol: reference cifar10 train, 50,000 images · 5,000 generated samples/,
  );
  assert.match(protocol, /rounded to 8 bits/);
  assert.match(protocol, /100 subsets of 1,000, against 10,000 reference features/);
  assert.match(
    protocol,
    /sha256 6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2 \(pytorch-fid&#39;s published file\)/,
  );
  // Per data set: the held-out grid (ground truth) and one grid per method.
  assert.equal(meta(doc, "fmbench-images"), "8");
  assert.equal(count(doc, /<img class="grid" src="data:image\/png;base64,[A-Za-z0-9+/=]+"/g), 8);
  assert.equal(count(doc, /alt="held-out test images of /g), 2);
  // frontier + quality-vs-NFE + training per dataset; images are not SVG charts.
  assert.equal(meta(doc, "fmbench-charts"), "6");
  assert.equal(count(doc, /<svg[\s>]/g), 6);
});

Deno.test("FID and KID n/a in every run: one note above the tables, once; a short footnote", () => {
  const r = buildFixture({ kind: "images" });
  const reason =
    "n/a: Inception weights not found; looked for /data/pt_inception-2015-12-05-6726825d.pth";
  for (const run of r.runs) {
    for (const e of run.evals) {
      e.metrics = {};
      e.notes = { fid: reason, kid: reason };
      delete e.protocol;
    }
  }
  const doc = renderReport(r);
  const table = doc.slice(doc.indexOf(tableHtml(doc, "cifar10-32")));
  const notes = table.slice(table.indexOf('<ol class="footnotes">'), table.indexOf("</ol>"));
  assert.equal(count(notes, /<li>/g), 1, notes);
  assert.match(notes, /<li>FID\/KID n\/a in every run: see the note above the tables<\/li>/);
  // The long reason is said once in the whole page (the note), not per cell, table or failure.
  assert.equal(count(doc, /Inception weights not found/g), 1);
  assert.match(doc, /<p class="banner missing"[^>]*><strong>FID and KID\s+are n\/a for all 6 runs/);
  // Not a failure: the failures are the fixture's own (a failed eval and a plugin load).
  assert.match(doc, /<section id="failures"><h2>Failures<\/h2><p class="lede">2 failures\./);
  assert.doesNotMatch(doc, /missing fid/);
  assert.doesNotMatch(table.slice(0, table.indexOf("</div>")), /class="protocol"/);
});

Deno.test("partial and failed runs render with reasons instead of throwing", () => {
  const r: ResultsFile = structuredClone(fixture);
  const run = r.runs[0];
  Object.assign(run, { status: "failed", error: "NaN loss at step 12", evals: [], nll: [] });
  delete run.train;
  delete run.samples;
  delete run.straightness;
  r.runs[1].samples = { image: "javascript:alert(1)" };
  const doc = renderReport(r);
  const row = rowHtml(tableHtml(doc, "moons"), "fm-ot");
  assert.equal(count(row, /title="run failed: NaN loss at step 12"/g), 5);
  assert.match(doc, /<td>run<\/td><td>moons<\/td><td>fm-ot<\/td>/);
  assert.match(doc, /not an inline base64 PNG/);
  assert.doesNotMatch(doc, /javascript:/);
  const empty = renderReport({ ...structuredClone(fixture), runs: [] });
  assert.match(empty, /This results file has no runs\./);
  assert.equal(meta(empty, "fmbench-charts"), "0");
});

Deno.test("number formatting", () => {
  assert.equal(formatWithError(2.4751, 0.021), "2.475 ± 0.021");
  assert.equal(formatWithError(35.123, 0.3), "35.12 ± 0.30");
  assert.equal(formatNumber(0.04123), "0.0412");
  assert.equal(formatNumber(62), "62");
  assert.equal(formatNumber(1e-5), "1e-5");
  assert.equal(formatNumber(0.000123), "1.23e-4");
  assert.equal(formatDuration(7.25), "7.25 s");
  assert.equal(formatDuration(77), "1m 17s");
  assert.equal(formatDuration(3725), "1h 02m");
  assert.deepEqual(logTicks(2, 150), [2, 5, 10, 20, 50, 100]);
  assert.deepEqual(logTicks(0.04, 1.3), [0.05, 0.1, 0.2, 0.5, 1]);
  assert.deepEqual(logTicks(3, 4), []);
});

Deno.test("report CLI re-renders report.html; bad flags and missing files fail clearly", async () => {
  const dir = await Deno.makeTempDir();
  const errors: string[] = [];
  const origError = console.error, origLog = console.log;
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  console.log = () => {};
  try {
    await Deno.writeTextFile(join(dir, "results.json"), JSON.stringify(fixture));
    assert.equal(await main([dir]), 0);
    const written = await Deno.readTextFile(join(dir, "report.html"));
    assert.equal(written, page);
    assert.equal(await main(["--bogus", dir]), 2);
    assert.match(errors.at(-1)!, /unknown flag --bogus; valid flags: --merge, --out <dir>/);
    const missing = join(dir, "nope");
    assert.equal(await main([missing]), 1);
    assert.match(
      errors.at(-1)!,
      new RegExp(`results\\.json not found: ${join(missing, "results.json")}`),
    );
    assert.equal(await main([]), 2);
    await Deno.writeTextFile(join(dir, "results.json"), JSON.stringify({ schema: "other@9" }));
    assert.equal(await main([dir]), 1);
    assert.match(errors.at(-1)!, /schema is "other@9", expected "fmbench\/results@1"/);
  } finally {
    console.error = origError;
    console.log = origLog;
    await Deno.remove(dir, { recursive: true });
  }
});
