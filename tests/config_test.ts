// The bench CLI's configuration: --nll-dequant, the suites' adaptive solver (NFE controller), and
// what --help and --list say about the defaults and the methods.
import assert from "node:assert/strict";
import { buildConfig } from "../cli/config.ts";
import { parseFlags, UsageError } from "../cli/flags.ts";
import { helpText, suiteDefaultsHelp } from "../cli/help.ts";
import { methodRows } from "../cli/list.ts";
import { discoverPlugins } from "../harness/registry.ts";

const reg = await discoverPlugins();
const config = (...argv: string[]) =>
  buildConfig(parseFlags(argv).values, { registry: reg, backend: "wasm" });

Deno.test("--nll-dequant: budgets pick K, the flag overrides it, continuous data rejects it", () => {
  const quick = config("--suite", "cifar10", "--budget", "quick", "--data-dir", "/nonexistent");
  assert.equal(quick.eval.nll.dequant, 2);
  assert.equal(config("--suite", "cifar10", "--budget", "paper").eval.nll.dequant, 20);
  const k = config("--suite", "cifar10", "--nll-dequant", "20");
  assert.equal(k.eval.nll.dequant, 20);
  assert.throws(() => config("--suite", "cifar10", "--nll-dequant", "0"), /--nll-dequant must be/);
  assert.throws(() => config("--suite", "cifar10", "--nll-dequant", "2.5"), UsageError);
  assert.throws(() => config("--nll-dequant", "4"), /8-bit image data.*--suite cifar10/);
});

Deno.test("adaptive solver: cifar10 counts NFE with torchdiffeq's controller, toy2d with dopri5", () => {
  const cifar = config("--suite", "cifar10");
  assert.equal(cifar.adaptiveSolver, "dopri5-torchdiffeq");
  assert.ok(
    !cifar.solvers.some((s) => s.name === "dopri5"),
    "cifar10 budgets sample once adaptively",
  );
  const toy = config();
  assert.equal(toy.adaptiveSolver, "dopri5");
  assert.deepEqual(toy.solvers.find((s) => s.name === "dopri5-torchdiffeq")?.settings, [
    { rtol: 1e-5, atol: 1e-5 },
  ]);
  // Asking for other solvers only: the first adaptive one among them.
  assert.equal(config("--suite", "cifar10", "--solvers", "euler,dopri5").adaptiveSolver, "dopri5");
  // Score Matching and ScoreFlow are in the default grid.
  for (const m of ["Score Matching", "ScoreFlow"]) {
    assert.ok(toy.methods.some((x) => x.label === m), m);
    assert.ok(cifar.methods.some((x) => x.label === m), m);
  }
});

Deno.test("--help: the per-suite defaults it prints are the ones a run uses", () => {
  const rows = suiteDefaultsHelp().map((l) => l.trim().split(/ {2,}/));
  assert.deepEqual(rows[0], [
    "--steps",
    "--batch",
    "--lr",
    "--samples",
    "--nll-points",
    "--reflow-pairs",
  ]);
  const seen: string[] = [];
  for (const [name, steps, batch, lr, samples, nll, pairs] of rows.slice(1)) {
    const [suite, , budget] = name.split(" ");
    const c = config("--suite", suite, ...(budget ? ["--budget", budget] : []));
    assert.equal(Number(steps.split(" ")[0]), c.train.steps, name);
    assert.equal(Number(batch), c.train.batch, name);
    assert.equal(Number(lr), c.train.lr, name);
    assert.equal(Number(samples), c.eval.samples, name);
    assert.equal(Number(nll), c.eval.nll.n, name);
    assert.equal(Number(pairs), c.eval.reflowPairs, name);
    if (c.train.minutes) assert.match(steps, new RegExp(`or ${c.train.minutes} min`), name);
    seen.push(name);
  }
  assert.deepEqual(seen, [
    "toy2d",
    "cifar10 --budget quick",
    "cifar10 --budget small",
    "cifar10 --budget paper",
    "cifar10 --budget torchcfm",
    "cifar10 --budget lipman",
  ]);
  assert.match(helpText("deno"), /^ {2}--steps N .*default: the suite's; see below\)$/m);
  assert.match(helpText("npx -y deno@2.9.6"), /^Usage: npx -y deno@2\.9\.6 task bench \[flags\]$/m);
});

Deno.test("--list: every method with its path, coupling and loss, also the ones run only when asked", () => {
  const rows = methodRows(reg);
  assert.deepEqual(rows[0].slice(0, 4), ["method", "path", "coupling", "loss"]);
  const byLabel = new Map(rows.slice(1).map((r) => [r[0], r]));
  // Exactly what a default run trains, then the named methods that run only when asked for.
  const defaults = config().methods.map((m) => m.label);
  assert.deepEqual(rows.slice(1, defaults.length + 1).map((r) => r[0]), defaults);
  for (const m of config().methods) {
    assert.deepEqual(byLabel.get(m.label)!.slice(1, 4), [m.path, m.coupling, m.loss], m.label);
  }
  assert.match(byLabel.get("2-RF")![4], /pairs from 1-RF/);
  const sinkhorn = byLabel.get("OT-CFM (Sinkhorn)")!;
  assert.deepEqual(sinkhorn.slice(1, 4), ["cond-ot", "minibatch-ot-sinkhorn", "cfm"]);
  assert.match(sinkhorn[4], /only when asked for/);
  assert.ok(byLabel.has("FM w/ cosine"), "a method per extra path");
});
