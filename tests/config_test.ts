// The bench CLI's configuration: --nll-dequant and the suites' adaptive solver (NFE controller).
import assert from "node:assert/strict";
import { buildConfig } from "../cli/config.ts";
import { parseFlags, UsageError } from "../cli/flags.ts";
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
