// The webgpu backend without a GPU: forced onto whatever adapter Deno finds (the llvmpipe
// software adapter on CI), checked against the cpu backend: fmbench's convolution gradients for
// every conv of the U-Net presets, gradients of the tiny U-Net and the MLP, a velocity
// evaluation, training steps and a likelihood evaluation end to end, and reads per step.
// Skipped, with the reason printed, where Deno finds no WebGPU adapter.
import assert from "node:assert/strict";
import { rng } from "../core/rng.ts";
import { tf } from "../core/tf.ts";
import type { Model } from "../core/types.ts";
import { selectBackend, webgpuAdapter } from "../backend/select.ts";
import type { DataSource } from "../harness/data/source.ts";
import { evaluateNll } from "../harness/evaluate.ts";
import { train } from "../harness/train.ts";
import independent from "../plugins/couplings/independent.ts";
import cfm from "../plugins/losses/cfm.ts";
import mlp from "../plugins/models/mlp.ts";
import unet from "../plugins/models/unet.ts";
import condOt from "../plugins/paths/cond-ot.ts";
import dopri5 from "../plugins/solvers/dopri5.ts";
import euler from "../plugins/solvers/euler.ts";
import { ownsInputGrad, splitCount } from "../backend/webgpu-conv-grads.ts";
import { countReads } from "../probes/reads.ts";
import { convGradsReference } from "./helpers/conv-reference.ts";
import { unetConvShapes } from "./helpers/unet-convs.ts";

/** Why the webgpu tests cannot run here, or undefined when they can. */
async function unavailable(): Promise<string | undefined> {
  const probe = await webgpuAdapter(true);
  if (!probe.facts) return `no WebGPU adapter (${probe.device})`;
  try {
    const info = await selectBackend("webgpu");
    console.log(`webgpu tests on: ${info.device}`);
    return undefined;
  } catch (e) {
    return `the webgpu backend did not start: ${(e as Error).message}`;
  }
}

const why = await unavailable();
if (why) console.log(`SKIPPED webgpu tests: ${why}`);
const ignore = why !== undefined;

/** Largest |a - b| and that over the largest |a| (a is the cpu reference). */
function errors(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; rel: number } {
  assert.equal(a.length, b.length);
  let abs = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return { abs, rel: scale > 0 ? abs / scale : abs };
}

function uniform(n: number, seed: number, scale = 1): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * u() - 1));
}

/** Every variable set to seeded uniform values (so zero-initialised layers take part too). */
function perturb(model: Model, seed: number, scale: number): void {
  model.variables().forEach((v, i) =>
    v.assign(tf.tensor(uniform(v.size, seed + i, scale), v.shape))
  );
}

/** Run `f` on `backend`, then return to webgpu. */
async function on<T>(backend: string, f: () => Promise<T> | T): Promise<T> {
  tf.setBackend(backend);
  try {
    return await f();
  } finally {
    tf.setBackend("webgpu");
  }
}

/** Biggest side <= h (even, >= 4) keeping one gradient under `budget` multiply-adds. */
function testSide(h: number, macsPerPixel: number, budget = 2e7): number {
  let s = h;
  while (s > 4 && s * s * macsPerPixel > budget) s -= 2;
  return s;
}

Deno.test({
  name: "webgpu: conv gradients match exact float64 ones for every conv of the U-Net presets",
  ignore,
  async fn() {
    const shapes = unetConvShapes(["tiny", "small", "paper"]);
    const seen = new Set<string>();
    const worst = { dx: { abs: 0, rel: 0 }, dW: { abs: 0, rel: 0 } };
    let full = 0, reduced = 0;
    for (const [n, c] of shapes.entries()) {
      const [, h, w, ci] = c.x, [kh, kw, , co] = c.filter;
      // The largest paper-preset convolutions are checked at a smaller side (same channels).
      const side = testSide(h, kh * kw * ci * co);
      const key = `${side}|${c.filter}|${c.stride}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (side === h) full++;
      else reduced++;
      const xs = [2, side, (side * w) / h, ci];
      const info = tf.backend_util.computeConv2DInfo(
        xs as [number, number, number, number],
        c.filter as [number, number, number, number],
        c.stride,
        1,
        c.pad,
      );
      const problem = {
        x: uniform(xs.reduce((a, b) => a * b), 3 * n),
        xShape: xs,
        w: uniform(c.filter.reduce((a, b) => a * b), 3 * n + 1),
        wShape: c.filter,
        dy: uniform(info.outShape.reduce((a, b) => a * b), 3 * n + 2),
        dyShape: info.outShape,
        stride: c.stride,
        top: info.padInfo.top,
        left: info.padInfo.left,
      };
      const ref = convGradsReference(problem);
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: "NHWC" };
      const [dx, dW] = tf.tidy(() => {
        const x = tf.tensor(problem.x, xs), w = tf.tensor(problem.w, c.filter);
        const dy = tf.tensor(problem.dy, info.outShape);
        return [
          tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: w }, {
            ...attrs,
            inputShape: xs,
          }) as tf.Tensor,
          tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
            ...attrs,
            filterShape: c.filter,
          }) as tf.Tensor,
        ];
      });
      const got = { dx: await dx.data(), dW: await dW.data() };
      tf.dispose([dx, dW]);
      const what = `x [${xs}] w [${c.filter}] stride ${c.stride} (${c.presets.join(", ")})`;
      for (const k of ["dx", "dW"] as const) {
        const e = errors(ref[k], got[k]);
        assert.ok(e.rel < 1e-5, `${k} of ${what}: max abs ${e.abs}, rel ${e.rel}`);
        worst[k] = { abs: Math.max(worst[k].abs, e.abs), rel: Math.max(worst[k].rel, e.rel) };
      }
    }
    console.log(
      `conv gradients vs exact, ${full} convs at full size + ${reduced} at a smaller side ` +
        `(batch 2): dx max abs ${worst.dx.abs.toExponential(2)} rel ${
          worst.dx.rel.toExponential(2)
        }; dW max abs ${worst.dW.abs.toExponential(2)} rel ${worst.dW.rel.toExponential(2)}`,
    );
  },
});

/** The loss gradient of every variable of a freshly made, perturbed model on the current backend. */
async function lossGrads(
  create: () => Model,
  shape: number[],
  seed: number,
  scale: number,
): Promise<Float32Array[]> {
  const model = create();
  perturb(model, seed, scale);
  const n = shape.reduce((a, b) => a * b, 1);
  const { grads, value } = tf.tidy(() => {
    const x0 = tf.tensor(uniform(n, seed + 100), shape);
    const x1 = tf.tensor(uniform(n, seed + 101), shape);
    const t = tf.tensor1d(uniform(shape[0], seed + 102, 0.5).map((u) => 0.5 + u));
    return tf.variableGrads(() => cfm.loss(model, condOt, { x0, x1, t }), model.variables());
  });
  const vars = model.variables();
  const out = await Promise.all(vars.map((v) => grads[v.name].data() as Promise<Float32Array>));
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

/**
 * Compare every variable's gradient with the cpu backend's. The error is measured against the
 * variable's largest |g|, floored at 1e-3 of the largest |g| of the model: some gradients are
 * zero up to round-off (biases before GroupNorm, the attention key bias), and their relative
 * error says nothing.
 */
async function compareGrads(label: string, create: () => Model, shape: number[], tol: number) {
  const ref = await on("cpu", () => lossGrads(create, shape, 7, 0.2));
  const got = await lossGrads(create, shape, 7, 0.2);
  const scales = ref.map((r) => r.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
  const floor = 1e-3 * Math.max(...scales);
  let abs = 0, rel = 0;
  ref.forEach((r, i) => {
    const e = errors(r, got[i]);
    abs = Math.max(abs, e.abs);
    rel = Math.max(rel, e.abs / Math.max(scales[i], floor));
  });
  console.log(
    `${label} gradients (${ref.length} variables) vs cpu: max abs ${abs.toExponential(2)}, ` +
      `max rel ${rel.toExponential(2)} (to each variable's largest |g|, floored at 1e-3 of ` +
      `the model's); tolerance ${tol}`,
  );
  assert.ok(rel < tol, `${label}: max relative gradient error ${rel} >= ${tol}`);
}

Deno.test({
  name: "webgpu: tiny U-Net loss gradients match cpu",
  ignore,
  async fn() {
    const create = () => unet.create({ shape: [16, 16, 3], preset: "tiny", seed: 3 });
    // Batch 1: the cpu backend's Conv2DBackpropFilter takes most of this test's time.
    await compareGrads("tiny U-Net", create, [1, 16, 16, 3], 1e-4);
  },
});

Deno.test({
  name: "webgpu: MLP loss gradients match cpu",
  ignore,
  async fn() {
    const create = () => mlp.create({ shape: [2], preset: "default", seed: 3 });
    await compareGrads("MLP", create, [64, 2], 1e-4);
  },
});

/** 8-bit images of shape [16, 16, 3] as a data source (the CIFAR-10 source assumes 32x32). */
function syntheticImages(nTrain: number, nTest: number): DataSource {
  const per = 16 * 16 * 3;
  const bytes = (n: number, seed: number) =>
    Float32Array.from(uniform(n * per, seed), (u) => Math.round(127.5 + 127.5 * u));
  const train = bytes(nTrain, 1), test = bytes(nTest, 2);
  const scaled = (b: Float32Array, idx: number[]) =>
    tf.tensor(
      Float32Array.from(idx.flatMap((i) => [...b.subarray(i * per, (i + 1) * per)]), (v) =>
        v / 127.5 - 1),
      [idx.length, 16, 16, 3],
    );
  return {
    name: "synthetic",
    kind: "image",
    shape: [16, 16, 3],
    nTrain,
    nTest,
    trainBatch(n, seed) {
      const u = rng(seed);
      return scaled(train, Array.from({ length: n }, () => Math.floor(u() * nTrain)));
    },
    testSet: (n) => scaled(test, Array.from({ length: n }, (_, i) => i)),
    rawTest: (n) => tf.tensor(test.subarray(0, n * per), [n, 16, 16, 3]),
  };
}

/** A tiny U-Net on 16x16 images with small random weights, and 8-bit images to train on. */
function tinySetup(scale = 0.05) {
  const model = unet.create({ shape: [16, 16, 3], preset: "tiny", seed: 5 });
  perturb(model, 11, scale);
  return { model, data: syntheticImages(16, 4) };
}

Deno.test({
  name: "webgpu: a velocity evaluation of the tiny U-Net matches cpu",
  ignore,
  async fn() {
    const evalOnce = async () => {
      const { model } = tinySetup(0.2);
      const vf = cfm.velocity(model, condOt);
      const x = tf.tensor(uniform(3 * 768, 21), [3, 16, 16, 3]);
      const v = vf(x, 0.3);
      const out = await v.data();
      tf.dispose([x, v]);
      model.dispose();
      return out;
    };
    const ref = await on("cpu", evalOnce);
    const e = errors(ref, await evalOnce());
    console.log(`tiny U-Net velocity vs cpu: max abs ${e.abs.toExponential(2)}, rel ${e.rel}`);
    assert.ok(e.rel < 1e-4, `velocity differs: ${JSON.stringify(e)}`);
  },
});

Deno.test({
  name: "webgpu: U-Net training steps run, reading the losses once per log step",
  ignore,
  async fn() {
    const { model, data } = tinySetup();
    const before = tf.memory().numTensors;
    const counter = countReads();
    let out;
    try {
      out = await train({
        model,
        path: condOt,
        loss: cfm,
        coupling: independent,
        data,
        config: {
          steps: 4,
          batch: 4,
          lr: 1e-3,
          warmup: 0,
          clip: 1,
          ema: 0.9,
          minutes: 0,
          seed: 0,
          logEvery: 2,
          microBatch: 2,
        },
      });
    } finally {
      counter.stop();
    }
    assert.equal(out.steps, 4);
    assert.ok(out.lossCurve.every(([, l]) => Number.isFinite(l)), JSON.stringify(out.lossCurve));
    // The first step's loss, then the 2 losses of each log interval in one read.
    assert.deepEqual(counter.reads, [
      { size: 1, sync: false },
      { size: 2, sync: false },
      { size: 2, sync: false },
    ]);
    out.dispose();
    assert.equal(tf.memory().numTensors, before, "training leaked tensors");
    model.dispose();
  },
});

Deno.test({
  name: "webgpu: a fixed-step solve reads once; bits/dim by dopri5 + Hutchinson end to end",
  ignore,
  async fn() {
    const { model, data } = tinySetup();
    const vf = cfm.velocity(model, condOt);
    const x0 = tf.tensor(uniform(2 * 768, 31), [2, 16, 16, 3]);
    const counter = countReads();
    const { x } = await euler.integrate(vf, x0, { t0: 0, t1: 1, steps: 4 });
    counter.stop();
    assert.equal(counter.reads.length, 1, JSON.stringify(counter.reads));
    tf.dispose([x0, x]);
    const nll = {
      n: 2,
      estimators: ["hutchinson" as const],
      probes: 1,
      noise: "rademacher" as const,
      rtol: 1e-3,
      atol: 1e-3,
    };
    const bpd = async () => {
      const [r] = await evaluateNll({
        field: vf,
        path: condOt,
        data,
        solver: dopri5,
        config: nll,
        seed: 9,
        bitsPerDim: true,
        evalBatch: 2,
      });
      return r;
    };
    const got = await bpd();
    assert.ok(Number.isFinite(got.bpd) && got.bpd! > 0, JSON.stringify(got));
    model.dispose();
    console.log(`tiny U-Net bits/dim on webgpu: ${got.bpd!.toFixed(4)} (${got.nfe} NFE)`);
  },
});

Deno.test("webgpu conv grads: the sum split and the input-gradient choice", () => {
  // 128 images of 32x32 into 288 x 32 outputs (9 tiles): 32 equal parts of 4,096 rows.
  assert.equal(splitCount(128 * 1024, 9), 32);
  for (const [n, tiles] of [[131072, 9], [1000, 1], [7 * 256, 1], [300, 4], [12, 1]]) {
    const s = splitCount(n, tiles);
    assert.equal(n % s, 0, `${n} % ${s}`);
    assert.ok(s === 1 || n / s >= 256, `parts of ${n / s} rows`);
  }
  assert.equal(splitCount(97 * 256, 1), 97, "at most one part per 256 rows");
  assert.ok(ownsInputGrad(32, 64, 1));
  assert.ok(!ownsInputGrad(32, 32, 2) && !ownsInputGrad(3, 32, 1) && !ownsInputGrad(32, 3, 1));
});
