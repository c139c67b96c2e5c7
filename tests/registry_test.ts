// Plugin discovery: built-ins load, a dropped-in path file is found, broken files are reported.
import assert from "node:assert/strict";
import { BUILTIN_PLUGINS, discoverPlugins, isPluginFile } from "../harness/registry.ts";
import { SQUARE_PATH, tempPluginRoot } from "./helpers/plugins.ts";

Deno.test("registry: every built-in plugin loads with no failures", async () => {
  const reg = await discoverPlugins([BUILTIN_PLUGINS]);
  assert.deepEqual(reg.failures, []);
  for (const n of ["cond-ot", "linear", "vp-diffusion"]) assert.ok(reg.paths.has(n), n);
  for (const n of ["euler", "dopri5"]) assert.ok(reg.solvers.has(n), n);
  assert.ok(reg.models.has("mlp") && reg.losses.has("cfm") && reg.couplings.has("independent"));
  const entry = reg.entries.find((e) => e.name === "cond-ot")!;
  assert.equal(entry.kind, "paths");
  assert.equal(entry.family, "ot");
  assert.match(entry.file, /plugins\/paths\/cond-ot\.ts$/);
});

Deno.test("registry: skips tests and _-prefixed helpers", () => {
  assert.ok(isPluginFile("linear.ts"));
  assert.ok(!isPluginFile("_helper.ts"));
  assert.ok(!isPluginFile("linear_test.ts"));
  assert.ok(!isPluginFile("linear.test.ts"));
  assert.ok(!isPluginFile("README.md"));
});

Deno.test("registry: a dropped-in path is discovered; broken files are reported and skipped", async () => {
  const root = await tempPluginRoot({
    "square-ot.ts": SQUARE_PATH,
    "throws.ts": `throw new Error("boom at import");`,
    "wrong-shape.ts": `export default { name: "bad", description: "no family" };`,
    "no-default.ts": `export const x = 1;`,
    "dupe-a.ts": SQUARE_PATH.replace(`"square-ot"`, `"twice"`),
    "dupe-b.ts": SQUARE_PATH.replace(`"square-ot"`, `"twice"`),
    "_ignored.ts": `throw new Error("must not be imported");`,
  });
  const reg = await discoverPlugins([BUILTIN_PLUGINS, root]);
  assert.ok(reg.paths.has("square-ot"));
  assert.ok(reg.paths.has("cond-ot"), "built-ins still load");
  const byFile = (f: string) => reg.failures.find((x) => x.file.endsWith(f));
  assert.match(byFile("throws.ts")!.reason, /boom at import/);
  assert.match(byFile("wrong-shape.ts")!.reason, /member "family" must be a string/);
  assert.match(byFile("no-default.ts")!.reason, /no default export/);
  assert.match(byFile("dupe-a.ts")!.reason, /duplicate paths name "twice", also .*dupe-b\.ts/);
  assert.match(byFile("dupe-b.ts")!.reason, /duplicate paths name "twice", also .*dupe-a\.ts/);
  assert.ok(!reg.paths.has("twice"), "a name defined twice is used from neither file");
  assert.equal(byFile("_ignored.ts"), undefined);
  assert.equal(reg.failures.length, 5);
  await Deno.remove(decodeURIComponent(root.pathname), { recursive: true });
});
