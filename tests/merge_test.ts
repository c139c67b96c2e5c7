// Tests for shard merging: a clean merge, and clear errors for missing, duplicate, mismatched shards.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ResultsFile } from "../results/schema.ts";
import { main } from "../cli/report.ts";
import { type MergedManifest, MergeError, mergeResults } from "../results/merge.ts";
import { renderReport } from "../reports/render.ts";
import { buildTables } from "../reports/table.ts";
import { buildFixture, shardFixture } from "./fixtures.ts";

const full = buildFixture();
const names = (n: number) => Array.from({ length: n }, (_, i) => `runs/shard-${i}/results.json`);

function throwsMerge(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MergeError, `expected MergeError, got ${e}`);
    assert.match(e.message, re);
    return true;
  });
}

Deno.test("merging two shards restores the full run", () => {
  const shards = shardFixture(full, 2);
  assert.ok(shards[0].runs.length > 0 && shards[1].runs.length > 0);
  const merged = mergeResults(shards, { names: names(2) });
  assert.equal(merged.shard, undefined);
  assert.equal(merged.suite, full.suite);
  assert.deepEqual(merged.runs.map((r) => r.id).sort(), full.runs.map((r) => r.id).sort());
  assert.deepEqual(merged.methods, full.methods);
  assert.deepEqual(merged.plugins, full.plugins);
  assert.deepEqual(merged.headline, full.headline);
  // The same tables, except that shards on two backends (wasm + webgpu here) rank training cost
  // on the wall clock: CPU seconds mean nothing for the GPU shard's work.
  const sameBackend = { ...merged, manifest: { ...merged.manifest, backend: "wasm" } };
  assert.deepEqual(buildTables(sameBackend), buildTables(full));
  assert.equal(buildTables(merged)[0].columns.at(-1)!.sub, "wall clock");
  const m = merged.manifest as MergedManifest;
  assert.equal(m.configHash, full.manifest.configHash);
  assert.deepEqual(m.config, full.manifest.config, "config (what configHash hashes) is unchanged");
  assert.equal(m.backend, "wasm + webgpu");
  // Elapsed: first start (03:00) to last finish (03:11), not the sum of the shards' 600 + 660 s.
  assert.equal(m.wallSeconds, 660);
  assert.equal(m.shardSeconds, 600 + 660);
  assert.equal(m.startedAt, "2025-01-02T03:00:00.000Z");
  assert.equal(m.finishedAt, "2025-01-02T03:11:00.000Z");
  assert.deepEqual(m.mergedFrom!.map((s) => [s.index, s.count, s.source, s.runs]), [
    [0, 2, names(2)[0], 3],
    [1, 2, names(2)[1], 3],
  ]);
  // Input order does not matter.
  const swapped = mergeResults([shards[1], shards[0]], { names: [names(2)[1], names(2)[0]] });
  assert.deepEqual(swapped, merged);
  const page = renderReport(merged);
  assert.match(page, /merged from 2 shards/);
  // The shard table is folded away; the manifest gives the elapsed time and the shard time.
  assert.match(
    page,
    /<details class="shards"><summary>Merged shards: 2 shards, 21m 00s of shard time<\/summary>/,
  );
  assert.match(page, /<dt>Wall time<\/dt><dd>11m 00s elapsed<\/dd>/);
  assert.match(page, /<dt>Shard time<\/dt><dd>21m 00s \(the shards&#39; own wall times added up/);
  assert.doesNotMatch(page, /sum over shards/);
  // A single shard also renders, with a banner saying it is partial.
  assert.match(renderReport(shards[0]), /This is shard 0 of 2: it\s+holds only part of the run/);
});

Deno.test("a missing shard is named, with the indices that were found", () => {
  const [s0, , s2] = shardFixture(full, 3);
  throwsMerge(
    () => mergeResults([s0, s2], { names: ["a.json", "c.json"] }),
    /missing shard index 1 of 3 .*got 0 from a\.json, 2 from c\.json/,
  );
});

Deno.test("a duplicate shard names both files", () => {
  const [s0, s1] = shardFixture(full, 2);
  throwsMerge(
    () => mergeResults([s0, s1, s0], { names: ["a.json", "b.json", "c.json"] }),
    /shard index 0 \(of 2\) appears twice: in a\.json and c\.json/,
  );
});

Deno.test("a config, suite, count or commit mismatch names the offending file", () => {
  const fresh = () => shardFixture(full, 2);
  let [s0, s1] = fresh();
  s1.manifest.configHash = "ffffffff";
  throwsMerge(
    () => mergeResults([s0, s1], { names: ["a.json", "b.json"] }),
    /b\.json belongs to a different run: its configHash is "ffffffff" but a\.json has "3f9a1c0d7e2b"/,
  );
  [s0, s1] = fresh();
  s1.suite = "images";
  throwsMerge(() => mergeResults([s0, s1], { names: ["a.json", "b.json"] }), /b\.json .*suite/);
  [s0, s1] = fresh();
  s1.shard = { index: 1, count: 3 };
  throwsMerge(
    () => mergeResults([s0, s1], { names: ["a.json", "b.json"] }),
    /shard counts disagree: b\.json says 3 shards but a\.json says 2/,
  );
  [s0, s1] = fresh();
  s1.shard = { index: 2, count: 2 };
  throwsMerge(
    () => mergeResults([s0, s1], { names: ["a.json", "b.json"] }),
    /b\.json: shard index 2 is out of range; expected an integer in 0\.\.1/,
  );
  [s0, s1] = fresh();
  s1.manifest.commit = "deadbeef";
  throwsMerge(
    () => mergeResults([s0, s1], { names: ["a.json", "b.json"] }),
    /--allow-mixed-commits/,
  );
  const mixed = mergeResults([s0, s1], { allowMixedCommits: true });
  assert.equal(mixed.manifest.commit, `${full.manifest.commit} + deadbeef`);
  [s0, s1] = fresh();
  s1.runs.push(structuredClone(s0.runs[0]));
  throwsMerge(
    () => mergeResults([s0, s1], { names: ["a.json", "b.json"] }),
    /appears in both a\.json and b\.json/,
  );
  throwsMerge(() => mergeResults([full]), /input #1 has no "shard" field/);
  throwsMerge(() => mergeResults([]), /nothing to merge/);
});

Deno.test("report CLI --merge writes results.json and report.html", async () => {
  const dir = await Deno.makeTempDir();
  const origError = console.error, origLog = console.log;
  const errors: string[] = [];
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  console.log = () => {};
  try {
    const dirs: string[] = [];
    for (const s of shardFixture(full, 2)) {
      const d = join(dir, `shard-${s.shard!.index}`);
      await Deno.mkdir(d);
      await Deno.writeTextFile(join(d, "results.json"), JSON.stringify(s));
      dirs.push(d);
    }
    const out = join(dir, "merged");
    assert.equal(await main(["--merge", ...dirs, "--out", out]), 0);
    const merged: ResultsFile = JSON.parse(await Deno.readTextFile(join(out, "results.json")));
    assert.equal(merged.runs.length, full.runs.length);
    assert.equal(merged.shard, undefined);
    assert.equal(await Deno.readTextFile(join(out, "report.html")), renderReport(merged));
    assert.equal(await main(["--merge", dirs[0], "--out", out]), 1);
    assert.match(errors.at(-1)!, /missing shard index 1 of 2/);
    assert.equal(await main(["--merge", dirs[0], join(dir, "nope")]), 1);
    assert.match(errors.at(-1)!, /results\.json not found: .*nope\/results\.json/);
    assert.equal(await main(["--merge"]), 2);
    assert.equal(await main([dirs[0], "--out", out]), 2);
  } finally {
    console.error = origError;
    console.log = origLog;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("merging keeps the budget the shards ran (the smoke banner depends on it)", () => {
  const budget = { name: "quick", description: "a smoke run", smoke: true };
  const shards = shardFixture(full, 2).map((s) => ({ ...s, budget }));
  assert.deepEqual(mergeResults(shards, { names: names(2) }).budget, budget);
  assert.match(renderReport(mergeResults(shards, { names: names(2) })), /Smoke test/);
});
