// Every plugin kind is benchmarkable: a dropped-in path, coupling or loss becomes a method (the
// reference recipe with that one part changed), and any recipe can be asked for as path/coupling/loss.
import assert from "node:assert/strict";
import { BUILTIN_PLUGINS, discoverPlugins } from "../mod.ts";
import {
  composedLabel,
  NAMED_METHODS,
  parseRecipe,
  REFERENCE_RECIPE,
  resolveMethods,
} from "../harness/methods.ts";
import { UnknownNameError } from "../harness/registry.ts";
import { OUTSIDE_PLUGINS, tempPluginRoot } from "./helpers/plugins.ts";

const builtin = await discoverPlugins([BUILTIN_PLUGINS]);
const root = await tempPluginRoot(OUTSIDE_PLUGINS);
const outside = await discoverPlugins([BUILTIN_PLUGINS, root]);
await Deno.remove(decodeURIComponent(root.pathname), { recursive: true });

Deno.test("the built-in grid is the named methods plus one FM w/ <path> per other path", () => {
  const labels = resolveMethods(builtin).map((m) => m.label);
  for (const m of NAMED_METHODS.filter((m) => !m.optional)) assert.ok(labels.includes(m.label));
  assert.ok(labels.includes("FM w/ cosine"));
  assert.ok(!labels.some((l) => l.includes(" + ")), `no coupling/loss variants: ${labels}`);
});

Deno.test("a dropped-in coupling and loss each get a method beside the reference recipe", () => {
  const methods = resolveMethods(outside);
  const byLabel = new Map(methods.map((m) => [m.label, m]));
  const c = byLabel.get("FM w/ OT + reversed");
  assert.deepEqual(
    c && [c.path, c.coupling, c.loss],
    [REFERENCE_RECIPE.path, "reversed", REFERENCE_RECIPE.loss],
  );
  const l = byLabel.get("FM w/ OT + half-cfm");
  assert.deepEqual(
    l && [l.path, l.coupling, l.loss],
    [REFERENCE_RECIPE.path, REFERENCE_RECIPE.coupling, "half-cfm"],
  );
  assert.ok(byLabel.has("FM w/ square-ot"));
  // The --couplings filter that ended in "no method matches" before now finds its method.
  assert.deepEqual(
    resolveMethods(outside, { couplings: ["reversed"] }).map((m) => m.label),
    ["FM w/ OT + reversed"],
  );
});

Deno.test("recipes path/coupling/loss: any combination, a named method's label when it has one", () => {
  assert.deepEqual(
    resolveMethods(outside, { methods: ["cosine/reversed/half-cfm"] }).map((m) => m.label),
    ["FM w/ cosine + reversed + half-cfm"],
  );
  assert.deepEqual(
    resolveMethods(builtin, { methods: ["cond-ot/minibatch-ot/cfm", "FM w/ OT"] })
      .map((m) => m.label),
    ["FM w/ OT", "OT-CFM"],
  );
  // The optional Sinkhorn method runs when its recipe is asked for.
  assert.deepEqual(
    resolveMethods(builtin, { methods: ["cond-ot/minibatch-ot-sinkhorn/cfm"] }).map((m) => m.label),
    ["OT-CFM (Sinkhorn)"],
  );
  const twoRf = resolveMethods(builtin, { methods: ["2-RF"] }).map((m) => m.label);
  assert.deepEqual(twoRf, ["1-RF", "2-RF"]);
});

Deno.test("recipes: bad input names the flag, the part and what is valid", () => {
  assert.throws(
    () => resolveMethods(builtin, { methods: ["cond-ot/cfm"] }),
    /path\/coupling\/loss/,
  );
  assert.throws(
    () => resolveMethods(builtin, { methods: ["cond-ot/nope/cfm"] }),
    (e) =>
      e instanceof UnknownNameError && /coupling in recipe.*"nope".*independent/.test(e.message),
  );
  assert.throws(
    () => resolveMethods(builtin, { methods: ["linear/reflow/cfm"] }),
    /needs a teacher method.*2-RF/,
  );
  assert.equal(parseRecipe("FM w/ OT"), undefined);
  assert.equal(
    composedLabel({ path: "cond-ot", coupling: "independent", loss: "eps" }),
    "FM w/ OT + eps",
  );
});

Deno.test("a dropped-in coupling and loss are trained, evaluated and shown in the report", async () => {
  const { main } = await import("../cli/bench.ts");
  const { readResults } = await import("../results/io.ts");
  const { captureConsole } = await import("./helpers/console.ts");
  const { TINY_TOY2D } = await import("./helpers/tiny-toy2d.ts");
  const plugins = await tempPluginRoot(OUTSIDE_PLUGINS);
  const out = await Deno.makeTempDir({ prefix: "fmbench-kinds-" });
  try {
    const run = await captureConsole(() =>
      main([
        ...TINY_TOY2D,
        "--plugins",
        decodeURIComponent(plugins.pathname),
        "--couplings",
        "reversed",
        "--methods",
        "FM w/ OT + reversed,cond-ot/independent/half-cfm",
        "--solvers",
        "euler,dopri5",
        "--jobs",
        "1",
        "--out",
        out,
      ])
    );
    assert.equal(run.value, 0, run.err);
    const res = await readResults(out);
    assert.deepEqual(res.runs.map((r) => [r.method, r.status]), [["FM w/ OT + reversed", "ok"]]);
    const report = await Deno.readTextFile(`${out}/report.html`);
    assert.ok(report.includes("FM w/ OT + reversed"), "the coupling's method is in the report");
    const loss = await captureConsole(() =>
      main([
        ...TINY_TOY2D,
        "--plugins",
        decodeURIComponent(plugins.pathname),
        "--methods",
        "cond-ot/independent/half-cfm",
        "--solvers",
        "euler,dopri5",
        "--jobs",
        "1",
        "--out",
        `${out}-loss`,
      ])
    );
    assert.equal(loss.value, 0, loss.err);
    const lossReport = await Deno.readTextFile(`${out}-loss/report.html`);
    assert.ok(lossReport.includes("FM w/ OT + half-cfm"), "the loss's method is in the report");
  } finally {
    await Deno.remove(decodeURIComponent(plugins.pathname), { recursive: true });
    await Deno.remove(out, { recursive: true });
    await Deno.remove(`${out}-loss`, { recursive: true }).catch(() => {});
  }
});
