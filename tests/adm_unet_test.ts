// ADM U-Net plugin against TorchCFM's PyTorch model: names, parameter counts, output and gradient
// parity on a recorded fixture (cpu and wasm), dropout, and the state-dict loader's errors.
import assert from "node:assert/strict";
import { buildConfig } from "../cli/config.ts";
import { parseFlags } from "../cli/flags.ts";
import { tf } from "../core/tf.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { selectBackend } from "../backend/select.ts";
import { seededAdmWeights } from "./helpers/adm-weights.ts";
import admUnet, { createAdmUNet } from "../plugins/models/adm-unet.ts";
import { ADM_PRESETS } from "../plugins/models/_adm/config.ts";
import { AdmParams, toTorchLayout } from "../plugins/models/_adm/params.ts";
import { buildAdmNet } from "../plugins/models/_adm/network.ts";
import { stateDictShapes } from "../plugins/models/_adm/state-dict.ts";

await selectBackend("wasm");
await selectBackend("cpu");

const FIXTURES = new URL("./fixtures/", import.meta.url);
/** Recorded by bench/adm_unet_torch.py fixtures (TorchCFM's model, torch 1.13, float32). */
const REF = JSON.parse(await Deno.readTextFile(new URL("adm-unet-tiny.json", FIXTURES)));
const SHAPE = [8, 8, 3];
/** The recorder's weights, drawn again here (not stored: 702,499 values). */
const SEEDED = seededAdmWeights(ADM_PRESETS.tiny, SHAPE, REF.weights_seed);
const WEIGHTS = SEEDED.tensors;

/** Parameter counts of UNetModelWrapper as PyTorch counts them (bench/adm_unet_torch.py). */
const TORCH_PARAMS = { tiny: 702_499, torchcfm: 35_746_307, lipman: 142_861_315 };

/** max |a - b| / max |b|: the error relative to the reference's largest magnitude. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

function loadedTiny() {
  const m = createAdmUNet({ shape: SHAPE, preset: "tiny", seed: 0 });
  m.loadStateDict(WEIGHTS);
  return m;
}

Deno.test("adm-unet plugin metadata and presets", () => {
  assert.equal(admUnet.name, "adm-unet");
  assert.deepEqual(admUnet.accepts, ["image"]);
  assert.equal(admUnet.defaultPreset, "torchcfm");
  assert.deepEqual(Object.keys(admUnet.presets).sort(), ["lipman", "tiny", "torchcfm"]);
  // TorchCFM's examples/images/cifar10/train_cifar10.py arguments.
  const t = ADM_PRESETS.torchcfm;
  assert.deepEqual(
    [t.numChannels, t.numResBlocks, t.channelMult, t.attentionResolutions, t.numHeads],
    [128, 2, [1, 2, 2, 2], [16], 4],
  );
  assert.deepEqual([t.numHeadChannels, t.dropout, t.useScaleShiftNorm, t.resblockUpdown], [
    64,
    0.1,
    false,
    false,
  ]);
  assert.equal(ADM_PRESETS.lipman.numChannels, 256);
  assert.equal(ADM_PRESETS.lipman.dropout, 0);
});

Deno.test("adm-unet is used only when named: the cifar10 suite's default model stays unet", async () => {
  const reg = await discoverPlugins();
  assert.ok(reg.models.has("adm-unet"));
  const models = (...argv: string[]) =>
    buildConfig(parseFlags(argv).values, { registry: reg, backend: "wasm" }).models;
  assert.deepEqual(models("--suite", "cifar10", "--budget", "quick"), [{
    name: "unet",
    preset: "tiny",
  }]);
  assert.deepEqual(models("--suite", "cifar10", "--models", "adm-unet:torchcfm"), [
    { name: "adm-unet", preset: "torchcfm" },
  ]);
});

Deno.test("parameter counts equal PyTorch's for every preset (names and shapes one to one)", () => {
  assert.deepEqual(REF.param_counts, TORCH_PARAMS, "the fixture's PyTorch counts");
  assert.deepEqual(Object.keys(REF.grads), [...WEIGHTS.keys()], "PyTorch's parameter names");
  // The seeded weights are the recorder's: their sums agree (float32 values, float64 sums).
  assert.ok(Math.abs(SEEDED.sum - REF.weights_sum) < 1e-9 * Math.abs(REF.weights_sum));
  for (
    const [preset, shape] of [["tiny", SHAPE], ["torchcfm", [32, 32, 3]], ["lipman", [32, 32, 3]]]
  ) {
    const entries = stateDictShapes(ADM_PRESETS[preset as string], shape as number[]);
    const count = entries.reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0);
    assert.equal(count, TORCH_PARAMS[preset as keyof typeof TORCH_PARAMS], `${preset}`);
    const n = preset === "tiny" ? Object.keys(REF.grads).length : 304;
    assert.equal(entries.length, n, `${preset}: state-dict entries`);
  }
  // A made model has those names, in PyTorch's state_dict order, and PyTorch's shapes.
  const m = createAdmUNet({ shape: SHAPE, preset: "tiny", seed: 0 });
  assert.equal(m.paramCount(), TORCH_PARAMS.tiny);
  assert.deepEqual(m.names(), Object.keys(REF.grads));
  assert.deepEqual(
    stateDictShapes(ADM_PRESETS.tiny, SHAPE).map((e) => e.shape),
    Object.values(REF.grads).map((g) => (g as { shape: number[] }).shape),
  );
  assert.ok(m.names().includes("input_blocks.1.0.in_layers.0.weight"));
  m.dispose();
});

Deno.test("initialisation as PyTorch's: bounds 1/sqrt(fan_in), GroupNorm 1 and 0, zero_module'd layers 0", () => {
  const p = new AdmParams({ seed: 3 });
  const w = p.conv2d("c", 16, 32, 3).w, z = p.conv2d("z", 16, 32, 3, true).w;
  const n = p.norm("n", 32);
  const wv = w.dataSync();
  const bound = 1 / Math.sqrt(16 * 9);
  assert.ok(wv.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...wv) > 0.9 * bound && Math.min(...wv) < -0.9 * bound);
  assert.ok(z.dataSync().every((v) => v === 0));
  assert.ok(n.gamma.dataSync().every((v) => v === 1) && n.beta.dataSync().every((v) => v === 0));
  tf.dispose(p.entries.map((e) => e.variable));
  // The untrained network outputs exactly 0 (its last conv is zero), as TorchCFM's does.
  const m = createAdmUNet({ shape: SHAPE, preset: "tiny", seed: 1 });
  const y = m.apply(tf.ones([1, ...SHAPE]), tf.tensor1d([0.5]));
  assert.ok(y.dataSync().every((v) => v === 0));
  const names = m.names(), vars = m.variables();
  const zeroed = names.filter((_, i) => vars[i].dataSync().every((v) => v === 0));
  assert.ok(
    zeroed.includes("out.2.weight") && zeroed.includes("input_blocks.1.0.out_layers.3.bias"),
  );
  assert.ok(zeroed.includes("middle_block.1.proj_out.weight"));
  y.dispose();
  m.dispose();
});

for (const backend of ["cpu", "wasm"]) {
  Deno.test(`parity with TorchCFM (tiny, ${backend}): output within 1e-5 relative`, async () => {
    await tf.setBackend(backend);
    const m = loadedTiny();
    const b = REF.t.length;
    const x = tf.tensor(REF.x, [b, ...SHAPE]);
    const t = tf.tensor1d(REF.t);
    const y = m.apply(x, t);
    const err = relErr(y.dataSync(), REF.output);
    console.log(`adm-unet tiny ${backend}: output max|a-b|/max|b| = ${err.toExponential(2)}`);
    assert.ok(err < 1e-5, `output error ${err}`);
    // Eval mode is deterministic; training mode applies dropout (as PyTorch's train() does).
    const again = m.apply(x, t, false);
    assert.deepEqual(again.dataSync(), y.dataSync());
    const tr1 = m.apply(x, t, true), tr2 = m.apply(x, t, true);
    const diff = (a: tf.Tensor, c: tf.Tensor) =>
      tf.tidy(() => tf.max(tf.abs(tf.sub(a, c))).dataSync()[0]);
    assert.ok(diff(tr1, y) > 1e-2, "dropout changes the output in training");
    assert.ok(diff(tr1, tr2) > 1e-2, "each training call draws new masks");
    assert.ok(REF.train_minus_eval_maxabs > 1e-2, "so does PyTorch's");
    tf.dispose([x, t, y, again, tr1, tr2]);
    m.dispose();
  });
}

// Gradients on wasm (fmbench's convolution-gradient kernels, the backend that trains): tfjs's own
// cpu Conv2DBackpropFilter alone takes ~11 s for this network's backward pass.
Deno.test("parity with TorchCFM (tiny, wasm): gradients of sum(output * r) for every parameter", async () => {
  const backend = "wasm";
  await tf.setBackend(backend);
  const m = loadedTiny();
  const b = REF.t.length;
  const x = tf.tensor(REF.x, [b, ...SHAPE]);
  const t = tf.tensor1d(REF.t);
  const r = tf.tensor(REF.r, [b, ...SHAPE]);
  const start = performance.now();
  const { grads, dx } = tf.tidy(() => {
    const f = (xx: tf.Tensor) => tf.sum(tf.mul(m.apply(xx, t), r)) as tf.Scalar;
    const g = tf.variableGrads(() => f(x), m.variables());
    const dx = tf.grad(f)(x);
    return { grads: g.grads, dx };
  });
  const ms = performance.now() - start;
  const dxErr = relErr(dx.dataSync(), REF.dx);
  assert.ok(dxErr < 1e-5, `d/dx error ${dxErr}`);
  const p = new AdmParams({ seed: 0, materialize: false });
  buildAdmNet(p, ADM_PRESETS.tiny, SHAPE);
  const layouts = new Map(p.entries.map((e) => [e.name, e.layout]));
  let worst = 0, worstName = "", noise = 0;
  const top = Math.max(...Object.values(REF.grads).map((g) => (g as { maxabs: number }).maxabs));
  const vars = m.variables();
  m.names().forEach((name, i) => {
    const ref = REF.grads[name];
    const g = toTorchLayout(grads[vars[i].name], layouts.get(name)!);
    assert.equal(g.length, ref.numel, name);
    let sum = 0, sumsq = 0, maxabs = 0;
    for (const v of g) {
      sum += v;
      sumsq += v * v;
      maxabs = Math.max(maxabs, Math.abs(v));
    }
    if (ref.exact_zero) {
      // Zero in exact arithmetic (float64 PyTorch): both sides hold rounding noise only.
      noise = Math.max(noise, maxabs / top);
      return;
    }
    // Pointwise samples (relative to the tensor's largest gradient), and whole-tensor sums.
    const sampled = ref.idx.map((k: number) => g[k]);
    const e = Math.max(
      relErr(sampled, ref.val) * Math.max(...ref.val.map(Math.abs)) / ref.maxabs,
      Math.abs(sum - ref.sum) / (Math.sqrt(ref.numel) * ref.maxabs),
      Math.abs(Math.sqrt(sumsq) - Math.sqrt(ref.sumsq)) / Math.sqrt(ref.sumsq),
      Math.abs(maxabs - ref.maxabs) / ref.maxabs,
    );
    if (e > worst) [worst, worstName] = [e, name];
  });
  console.log(
    `adm-unet tiny ${backend}: gradients worst relative error ${worst.toExponential(2)} ` +
      `(${worstName}); exact-zero ones at ${noise.toExponential(1)} of the largest; d/dx ` +
      `${dxErr.toExponential(2)}; forward+backward ${ms.toFixed(0)} ms`,
  );
  assert.ok(worst < 1e-5, `gradient of ${worstName}: relative error ${worst}`);
  assert.ok(noise < 1e-6, `gradients that are zero in exact arithmetic reach ${noise}`);
  tf.dispose([x, t, r, dx, ...Object.values(grads)]);
  m.dispose();
});
