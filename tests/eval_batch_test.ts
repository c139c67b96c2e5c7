// Evaluation in batches (--eval-batch): the same samples and straightness as all at once, NFE
// per batch, the per-backend defaults, and the flag's validation.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import type { VelocityField } from "../core/types.ts";
import { buildConfig } from "../cli/config.ts";
import { parseFlags, UsageError } from "../cli/flags.ts";
import { defaultEvalBatch, selectBackend } from "../backend/select.ts";
import { solveInBatches } from "../harness/evaluate.ts";
import { flowStraightness } from "../harness/metrics/straightness.ts";
import { BUILTIN_PLUGINS, discoverPlugins } from "../harness/registry.ts";
import dopri5 from "../plugins/solvers/dopri5.ts";
import rk4 from "../plugins/solvers/rk4.ts";

await selectBackend("cpu");

/** A nonlinear field acting on each example separately. */
const field: VelocityField = (x, t) =>
  tf.tidy(() => tf.add(tf.mul(tf.sin(tf.mul(x, 2)), 1 + t), tf.mul(x, -0.5)));

Deno.test("solveInBatches: fixed-step results equal one whole-batch solve; NFE per batch", async () => {
  const x0 = tf.randomNormal([10, 3], 0, 1, "float32", 1);
  const opts = { t0: 0, t1: 1, steps: 5 };
  const all = await solveInBatches({ solver: rk4, field, x0, solve: opts });
  const parts = await solveInBatches({ solver: rk4, field, x0, solve: opts, evalBatch: 4 });
  assert.equal(all.nfe, 20);
  assert.equal(parts.nfe, 20);
  assert.deepEqual(parts.x.shape, [10, 3]);
  const [a, b] = [await all.x.data(), await parts.x.data()];
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `element ${i}`);
  tf.dispose([x0, all.x, parts.x]);
});

Deno.test("solveInBatches: adaptive NFE is the mean over batches", async () => {
  const x0 = tf.randomNormal([9, 2], 0, 1, "float32", 2);
  const counts: number[] = [];
  for (let s = 0; s < 9; s += 3) {
    const part = x0.slice(s, 3);
    let n = 0;
    const f: VelocityField = (x, t) => (n++, field(x, t));
    (await dopri5.integrate(f, part, { t0: 0, t1: 1, rtol: 1e-5, atol: 1e-5 })).x.dispose();
    counts.push(n);
    part.dispose();
  }
  const r = await solveInBatches({
    solver: dopri5,
    field,
    x0,
    solve: { t0: 0, t1: 1, rtol: 1e-5, atol: 1e-5 },
    evalBatch: 3,
  });
  assert.equal(r.nfe, counts.reduce((a, b) => a + b) / 3);
  tf.dispose([x0, r.x]);
});

Deno.test("flowStraightness: batches give the all-at-once value", async () => {
  const x0 = tf.randomNormal([11, 2], 0, 1, "float32", 3);
  const all = await flowStraightness({ field, x0, steps: 20 });
  const parts = await flowStraightness({ field, x0, steps: 20, evalBatch: 4 });
  assert.ok(all > 0.01);
  assert.ok(Math.abs(all - parts) < 1e-6 * all, `${all} vs ${parts}`);
  x0.dispose();
});

Deno.test("--eval-batch: per-backend defaults, the flag, and bad values", async () => {
  assert.equal(defaultEvalBatch("webgpu", "image"), 256);
  assert.equal(defaultEvalBatch("tensorflow", "image"), 256);
  assert.equal(defaultEvalBatch("wasm", "image"), 32);
  assert.equal(defaultEvalBatch("cpu", "vector"), undefined);
  const reg = await discoverPlugins([BUILTIN_PLUGINS]);
  const cfg = (argv: string[]) =>
    buildConfig(parseFlags(argv).values, { registry: reg, backend: "wasm" });
  assert.equal(cfg([]).eval.batch, undefined);
  assert.equal(cfg(["--eval-batch", "64"]).eval.batch, 64);
  // The config is finished in one place: the backend's default applies where the flag is absent.
  const image = ["--suite", "cifar10", "--budget", "quick"];
  assert.equal(
    buildConfig(parseFlags(image).values, { registry: reg, backend: "wasm" }).eval.batch,
    32,
  );
  assert.equal(
    buildConfig(parseFlags(image).values, { registry: reg, backend: "webgpu" }).eval.batch,
    256,
  );
  const flagged = parseFlags([...image, "--eval-batch", "8"]).values;
  assert.equal(buildConfig(flagged, { registry: reg, backend: "webgpu" }).eval.batch, 8);
  assert.throws(() => cfg(["--eval-batch", "0"]), UsageError);
  assert.throws(() => cfg(["--eval-batch", "2.5"]), /--eval-batch must be an integer >= 1/);
});

Deno.test("backend info: CPU backends report the threads they compute on", async () => {
  const wasm = await selectBackend("wasm");
  assert.equal(wasm.threads, 1, "tfjs-backend-wasm runs single-threaded in Deno");
  assert.match(wasm.device, /\(1 thread, \d+ cores\)/);
  const cpu = await selectBackend("cpu");
  assert.equal(cpu.threads, 1);
});
