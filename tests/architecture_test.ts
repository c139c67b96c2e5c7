// The layout is the architecture: import rules between folders, and an outside plugin folder of
// every kind that imports nothing but mod.ts, loaded and exercised like the built-in plugins.
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { BUILTIN_PLUGINS, discoverPlugins, tf } from "../mod.ts";
import { scoreMetrics } from "../harness/metric-quality.ts";
import { OUTSIDE_PLUGINS, tempPluginRoot } from "./helpers/plugins.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);

/** Every .ts file under a folder of the repository, as repository-relative paths. */
async function tsFiles(folder: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(join(ROOT, dir))) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(rel);
      else if (e.name.endsWith(".ts")) out.push(rel);
    }
  };
  await walk(folder);
  return out.sort();
}

/** The specifiers a file imports (static, dynamic and type-only imports and re-exports). */
async function importsOf(file: string): Promise<string[]> {
  // Comments hold JSDoc examples with imports of their own, and template literals text such as
  // WebAssembly's (import "env" ...): only code counts.
  const text = (await Deno.readTextFile(join(ROOT, file)))
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "")
    .replace(/`[^`]*`/g, "``");
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) specs.push(m[1]);
  return specs;
}

/** A relative specifier as a repository-relative path; bare and npm: specifiers as they are. */
function target(file: string, spec: string): string {
  return spec.startsWith(".") ? relative(ROOT, join(ROOT, dirname(file), spec)) : spec;
}

/** Every (file, imported path) pair under `folder` that `allowed` rejects. */
async function violations(folder: string, allowed: (to: string) => boolean): Promise<string[]> {
  const bad: string[] = [];
  for (const file of await tsFiles(folder)) {
    for (const spec of await importsOf(file)) {
      const to = target(file, spec);
      if (!allowed(to)) bad.push(`${file} imports ${to}`);
    }
  }
  return bad;
}

const under = (to: string, folder: string) => to.startsWith(`${folder}/`);
const builtin = (to: string) => to.startsWith("node:");
const TFJS = (to: string) => to.startsWith("@tensorflow/");
const CHART_LIBS = ["@observablehq/plot", "linkedom"];
/** The library results/schema.ts defines the results file with (types and validation). */
const SCHEMA_LIB = "valibot";
const pluginMayImport = (to: string) => to === "core/mod.ts" || under(to, "plugins");
const anyOf = (...folders: string[]) => (to: string) => folders.some((f) => under(to, f));
const SHIPPED = ["cli", "core", "harness", "plugins", "results", "reports", "backend", "store"]
  .concat(["features", "probes"]);
/** The cli files that run before or beside the engine and must stay light (no tfjs): named files. */
const LIGHT_CLI = ["cli/launch.ts", "cli/grants.ts", "cli/flags.ts", "cli/signal-worker.ts"];

/**
 * What each top-level folder may import (besides its own files and node: builtins). The
 * infrastructure rooms (backend, store, features, probes) know nothing of flow matching.
 */
const RULES: Record<string, (to: string) => boolean> = {
  plugins: pluginMayImport,
  core: (to) => under(to, "core") || to === "@tensorflow/tfjs",
  // wabt compiles backend/group-norm-wat.ts's WebAssembly text.
  backend: (to) => anyOf("backend", "core")(to) || TFJS(to) || to === "wabt",
  store: anyOf("store", "core"),
  features: (to) => anyOf("features", "store", "core")(to) || TFJS(to),
  results: (to) => anyOf("results", "store", "core")(to) || to === SCHEMA_LIB,
  harness: (to) =>
    anyOf("harness", "core", "backend", "store", "features", "results", "plugins")(to) ||
    to === "deno.json" || TFJS(to),
  reports: (to) => anyOf("reports", "results")(to) || CHART_LIBS.includes(to),
  probes: (to) => anyOf("probes", "core", "backend", "store", "plugins")(to),
  cli: (to) =>
    under(to, "cli") ||
    /^(harness|results|reports|backend|store|features|probes)\/mod\.ts$/.test(to),
  bench: (to) => !under(to, "tests") && !under(to, "scripts"),
  scripts: (to) => !under(to, "tests") && !under(to, "bench"),
};

for (const [folder, allowed] of Object.entries(RULES)) {
  Deno.test(`import rules: ${folder}/ imports only what its rule allows`, async () => {
    const bad = (await violations(folder, (to) => builtin(to) || allowed(to)))
      .filter((v) => !LIGHT_CLI.some((f) => v.startsWith(`${f} imports `)));
    assert.deepEqual(bad, []);
  });
}

Deno.test("import rules: the light cli files import no engine, only named light files", async () => {
  const light = [
    "store/folders.ts",
    "store/file-stamp.ts",
    "store/task-command.ts",
    "harness/run-folder.ts",
  ];
  const bad: string[] = [];
  for (const file of LIGHT_CLI) {
    for (const spec of await importsOf(file)) {
      const to = target(file, spec);
      if (!builtin(to) && !under(to, "cli") && !light.includes(to)) {
        bad.push(`${file} imports ${to}`);
      }
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("import rules: nothing shipped imports bench/ or tests/", async () => {
  const bad: string[] = [];
  for (const folder of SHIPPED) {
    bad.push(...await violations(folder, (to) => !under(to, "bench") && !under(to, "tests")));
  }
  assert.deepEqual(bad, []);
});

/** Every import cycle among the repository's .ts files (relative imports), as file lists. */
async function importCycles(): Promise<string[][]> {
  const graph = new Map<string, string[]>();
  for (const folder of [...SHIPPED, "bench", "scripts", "tests"]) {
    for (const file of await tsFiles(folder)) {
      const deps = (await importsOf(file)).filter((s) => s.startsWith("."))
        .map((s) => target(file, s)).filter((t) => t.endsWith(".ts"));
      graph.set(file, deps);
    }
  }
  graph.set("mod.ts", (await importsOf("mod.ts")).map((s) => target("mod.ts", s)));
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === "open") cycles.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return cycles;
}

Deno.test("import rules: no import cycles", async () => {
  assert.deepEqual((await importCycles()).map((c) => c.join(" -> ")), []);
});

Deno.test("import rules: the plugin SDK surface holds contracts and helpers, no kernel names", async () => {
  const sdk = await import("../core/mod.ts");
  const kernelish = Object.keys(sdk).filter((k) => /KERNEL/.test(k));
  assert.deepEqual(kernelish, []);
});

Deno.test("import rules: the checker itself catches a plugin that reaches into the engine", () => {
  const to = target("plugins/paths/bad.ts", "../../harness/train.ts");
  assert.equal(to, "harness/train.ts");
  assert.ok(!pluginMayImport(to));
  assert.ok(pluginMayImport(target("plugins/models/unet.ts", "./_unet/config.ts")));
});

Deno.test("outside plugins of every kind, importing only mod.ts, load and work", async () => {
  const root = await tempPluginRoot(OUTSIDE_PLUGINS);
  try {
    const reg = await discoverPlugins([BUILTIN_PLUGINS, root]);
    assert.deepEqual(reg.failures, []);
    const path = reg.paths.get("square-ot")!;
    const coupling = reg.couplings.get("reversed")!;
    const loss = reg.losses.get("half-cfm")!;
    const modelPlugin = reg.models.get("affine")!;
    const solver = reg.solvers.get("ralston")!;
    const timeSampler = reg.timeSamplers.get("beta-2-2")!;
    const metric = reg.metrics.get("mean-shift")!;
    for (const p of [path, coupling, loss, modelPlugin, solver, timeSampler, metric]) {
      assert.ok(p, "loaded");
    }
    // Beta(2, 2): its quantile inverts its CDF, on the path's range.
    const beta = timeSampler.prepare({ path, params: {} });
    for (const u of [0.1, 0.25, 0.5, 0.9]) {
      assert.ok(Math.abs(beta.cdf(beta.quantile(u)) - u) < 1e-12);
    }
    // The metric, through the engine on raw 2-D points: the means (0.5, 1) and (0, 0) differ by
    // |(0.5, 1)|.
    const raw = (v: number[]) => ({ data: Float32Array.from(v), dim: 2, n: v.length / 2 });
    const scores = await scoreMetrics({
      metrics: [metric],
      offered: ["raw"],
      generated: { raw: raw([0, 0, 1, 2]) },
      reference: { raw: raw([1, 1, -1, -1]) },
      seed: 0,
    });
    assert.ok(Math.abs(scores.metrics.mean_shift - Math.hypot(0.5, 1)) < 1e-12);
    assert.equal(solver.evalsPerStep, 2);
    assert.equal(solver.adaptive, false);

    const before = tf.memory().numTensors;
    const x0 = tf.tensor2d([[0, 0], [1, 1], [2, 2]]);
    const x1 = tf.tensor2d([[3, 3], [4, 4], [5, 5]]);
    const [a, b] = await coupling.pair(x0, x1, { seed: 0 });
    assert.deepEqual(await b.array(), [[5, 5], [4, 4], [3, 3]]);
    const model = modelPlugin.create({ shape: [2], preset: "default", seed: 0 });
    const t = tf.tensor1d([0.5, 0.5, 0.5]);
    const value = loss.loss(model, path, { x0: a, x1: b, t });
    // Zero model: 0.5 * mean(u_t^2), u_t = 2t x1 - 2t x0 = x1 - x0 at t = 0.5.
    const u = [[5, 5], [3, 3], [1, 1]].flat();
    assert.ok(
      Math.abs((await value.data())[0] - 0.5 * u.reduce((s, v) => s + v * v, 0) / 6) < 1e-5,
    );
    // dx/dt = x (a = 1, b = 0) from 1 over [0, 1]: Ralston's method is within 1% of e at 16 steps.
    const one = tf.ones([2]), start = tf.ones([1, 2]);
    model.variables()[0].assign(one);
    const vf = loss.velocity(model, path);
    const { x } = await solver.integrate(vf, start, { t0: 0, t1: 1, steps: 16 });
    assert.ok(Math.abs((await x.data())[0] - Math.E) < 0.01 * Math.E);
    tf.dispose([x0, x1, a, b, t, value, x, one, start]);
    model.dispose();
    assert.equal(tf.memory().numTensors, before, "no tensors leak");
  } finally {
    await Deno.remove(decodeURIComponent(root.pathname), { recursive: true });
  }
});
