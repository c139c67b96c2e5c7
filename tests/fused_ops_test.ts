// Fused GroupNorm(+SiLU) and SiLU on wasm and cpu against tfjs ops and a float64 reference.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import {
  GROUP_NORM_GRAD_KERNEL,
  GROUP_NORM_KERNEL,
  groupNorm,
  groupNormComposite,
  hasFusedGroupNorm,
} from "../core/ops/group-norm.ts";
import {
  hasFusedSilu,
  silu,
  SILU_GRAD_KERNEL,
  SILU_KERNEL,
  siluComposite,
} from "../core/ops/silu.ts";
import { selectBackend } from "../backend/select.ts";
import { registerGroupNormKernels } from "../backend/group-norm-kernel.ts";
import { registerSiluKernels } from "../backend/silu-kernel.ts";
import { sigmoid } from "../backend/host-kernel.ts";
import { randomArray } from "./helpers/random.ts";
import { tinyUnetGrads } from "./helpers/unet-grads.ts";

const info = await selectBackend("wasm");
registerGroupNormKernels("cpu");
registerSiluKernels("cpu");

/** max |a - b| / max(|b|, floor): the error relative to the reference's scale. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  assert.equal(a.length, b.length);
  let d = 0, s = floor;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

// ---- float64 reference: the forward by definition, gradients by central differences ----

interface GnCase {
  shape: [number, number, number, number];
  groups: number;
  silu: boolean;
}

const sig64 = (z: number) => 1 / (1 + Math.exp(-z));

/** GroupNorm(+SiLU) in float64, straight from the definition. */
function gnRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  c: GnCase,
): Float64Array {
  const [b, h, w, ch] = c.shape;
  const n = h * w, per = ch / c.groups;
  const y = new Float64Array(x.length);
  for (let e = 0; e < b; e++) {
    for (let g = 0; g < c.groups; g++) {
      const idx: number[] = [];
      for (let p = 0; p < n; p++) {
        for (let j = 0; j < per; j++) idx.push((e * n + p) * ch + g * per + j);
      }
      const mean = idx.reduce((s, i) => s + x[i], 0) / idx.length;
      const variance = idx.reduce((s, i) => s + (x[i] - mean) ** 2, 0) / idx.length;
      for (const i of idx) {
        const k = i % ch;
        const z = ((x[i] - mean) / Math.sqrt(variance + 1e-6)) * gamma[k] + beta[k];
        y[i] = c.silu ? z * sig64(z) : z;
      }
    }
  }
  return y;
}

/** d sum(dy * f) / d a[i] for every i, by central differences of a float64 function. */
function numericGrad(a: Float64Array, f: () => Float64Array, dy: ArrayLike<number>): Float64Array {
  const loss = () => f().reduce((s, v, i) => s + v * dy[i], 0);
  const g = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const h = 1e-6 * Math.max(1, Math.abs(a[i])), keep = a[i];
    a[i] = keep + h;
    const up = loss();
    a[i] = keep - h;
    const down = loss();
    a[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

interface GnValues {
  y: Float32Array | Float64Array;
  dx: Float32Array | Float64Array;
  dgamma: Float32Array | Float64Array;
  dbeta: Float32Array | Float64Array;
}

function gnInputs(c: GnCase, seed: number) {
  const size = c.shape.reduce((p, d) => p * d, 1), ch = c.shape[3];
  return {
    // An offset mean and a spread that varies by position, so the statistics matter.
    x: randomArray(size, seed, 3, 0.7),
    gamma: randomArray(ch, seed + 1, 1, 1),
    beta: randomArray(ch, seed + 2, 1, 0.2),
    dy: randomArray(size, seed + 3, 2),
  };
}

function gnReference(c: GnCase, seed: number): GnValues {
  const v = gnInputs(c, seed);
  const x = Float64Array.from(v.x), gamma = Float64Array.from(v.gamma);
  const beta = Float64Array.from(v.beta);
  const f = () => gnRef(x, gamma, beta, c);
  return {
    y: f(),
    dx: numericGrad(x, f, v.dy),
    dgamma: numericGrad(gamma, f, v.dy),
    dbeta: numericGrad(beta, f, v.dy),
  };
}

/** y and the gradients of sum(dy * y) on `backend`, through the fused op or the tfjs ops. */
function gnOnBackend(backend: string, c: GnCase, seed: number, fused: boolean): GnValues {
  tf.setBackend(backend);
  const v = gnInputs(c, seed);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const x = tf.tensor(v.x, c.shape), gamma = tf.tensor(v.gamma), beta = tf.tensor(v.beta);
    const dy = tf.tensor(v.dy, c.shape);
    const op = fused ? groupNorm : groupNormComposite;
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      op(a, { groups: c.groups, gamma: g, beta: b, silu: c.silu });
    const y = f(x, gamma, beta);
    const [dx, dgamma, dbeta] = tf.grads((a, g, b) => tf.sum(tf.mul(f(a, g, b), dy)))([
      x,
      gamma,
      beta,
    ]);
    const read = (t: tf.Tensor) => t.dataSync() as Float32Array;
    return { y: read(y), dx: read(dx), dgamma: read(dgamma), dbeta: read(dbeta) };
  });
  assert.equal(tf.memory().numTensors, before, `tensors leaked on ${backend}`);
  return out;
}

const GN_CASES: GnCase[] = [
  { shape: [2, 4, 4, 8], groups: 4, silu: false },
  { shape: [2, 4, 4, 8], groups: 4, silu: true },
  { shape: [1, 3, 5, 6], groups: 1, silu: false }, // one group, batch 1
  { shape: [1, 3, 5, 6], groups: 1, silu: true },
  { shape: [3, 2, 3, 4], groups: 4, silu: false }, // one channel per group
  { shape: [3, 2, 3, 4], groups: 4, silu: true },
  { shape: [2, 2, 2, 12], groups: 3, silu: true },
];

Deno.test("the wasm backend has the fused kernels, and its notes say so", () => {
  tf.setBackend("wasm");
  assert.ok(hasFusedGroupNorm() && hasFusedSilu());
  for (const k of [GROUP_NORM_KERNEL, GROUP_NORM_GRAD_KERNEL, SILU_KERNEL, SILU_GRAD_KERNEL]) {
    assert.ok(tf.getKernel(k, "wasm"), `${k} not registered on wasm`);
  }
  assert.ok(info.notes.some((n) => n.startsWith("wasm: GroupNorm and SiLU by fused kernels")));
});

Deno.test("fused GroupNorm(+SiLU) forward and gradients match float64 and tfjs ops (wasm, cpu)", () => {
  GN_CASES.forEach((c, i) => {
    const what = `x [${c.shape}] groups ${c.groups}${c.silu ? " + silu" : ""}`;
    const ref = gnReference(c, 10 * i);
    for (const backend of ["wasm", "cpu"]) {
      const fused = gnOnBackend(backend, c, 10 * i, true);
      const ops = gnOnBackend(backend, c, 10 * i, false);
      for (const k of ["y", "dx", "dgamma", "dbeta"] as const) {
        const e = relErr(fused[k], ref[k]);
        assert.ok(e < 2e-5, `${backend} fused ${k} vs float64, ${what}: ${e}`);
        const o = relErr(ops[k], ref[k]);
        assert.ok(o < 5e-4, `${backend} tfjs ops ${k} vs float64, ${what}: ${o}`);
        const d = relErr(fused[k], ops[k]);
        assert.ok(d < 5e-4, `${backend} fused vs tfjs ops ${k}, ${what}: ${d}`);
      }
    }
  });
});

Deno.test("fused GroupNorm+SiLU runs one kernel each way instead of tfjs's many", async () => {
  tf.setBackend("wasm");
  const c: GnCase = { shape: [2, 4, 4, 8], groups: 2, silu: true };
  const v = gnInputs(c, 5);
  const x = tf.tensor(v.x, c.shape), gamma = tf.tensor(v.gamma), beta = tf.tensor(v.beta);
  const kernels = async (fused: boolean) => {
    const op = fused ? groupNorm : groupNormComposite;
    const f = (a: tf.Tensor) =>
      tf.sum(op(a, { groups: c.groups, gamma, beta, silu: true })) as tf.Scalar;
    const p = await tf.profile(() => tf.grad(f)(x));
    tf.dispose(p.result as tf.Tensor);
    return p.kernels.map((k) => k.name);
  };
  const fused = await kernels(true), ops = await kernels(false);
  const count = (names: string[], k: string) => names.filter((n) => n === k).length;
  assert.equal(count(fused, GROUP_NORM_KERNEL), 1, fused.join(" "));
  assert.equal(count(fused, GROUP_NORM_GRAD_KERNEL), 1, fused.join(" "));
  assert.ok(!fused.includes("Sigmoid") && !fused.includes("Rsqrt"), fused.join(" "));
  assert.ok(ops.includes("Sigmoid") && ops.includes("Rsqrt"), ops.join(" "));
  assert.equal(count(ops, GROUP_NORM_KERNEL), 0, ops.join(" "));
  assert.ok(fused.length * 3 < ops.length, `${fused.length} kernels vs ${ops.length}`);
  tf.dispose([x, gamma, beta]);
});

Deno.test("fused GroupNorm: a gradient for x alone leaks nothing; validation errors", () => {
  for (const backend of ["wasm", "cpu"]) {
    tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const gamma = tf.ones([4]), beta = tf.zeros([4]);
    const x = tf.tensor(randomArray(2 * 3 * 3 * 4, 1), [2, 3, 3, 4]);
    const g = tf.grad((a: tf.Tensor) =>
      tf.sum(tf.square(groupNorm(a, { groups: 2, gamma, beta })))
    )(
      x,
    );
    // sum(y^2) is constant (= the element count) for a normalised y with gamma 1, beta 0.
    assert.ok(relErr(g.dataSync(), new Float32Array(g.size), 1) < 1e-3, backend);
    tf.dispose([g, x, gamma, beta]);
    assert.equal(tf.memory().numTensors, before, `tensors leaked on ${backend}`);
  }
  // Forward alone (no tape) and forward + gradient with SiLU free every buffer on the wasm heap.
  tf.setBackend("wasm");
  // deno-lint-ignore no-explicit-any
  const backend = tf.backend() as any;
  const gamma = tf.ones([4]), beta = tf.zeros([4]);
  const xs = tf.tensor(randomArray(2 * 3 * 3 * 4, 2), [2, 3, 3, 4]);
  const ids = backend.numDataIds();
  const opts = { groups: 2, gamma, beta, silu: true };
  tf.tidy(() => groupNorm(xs, opts).dataSync());
  assert.equal(backend.numDataIds(), ids, "forward left buffers behind");
  tf.dispose(tf.grads((a, g) => tf.sum(groupNorm(a, { ...opts, gamma: g })))([xs, gamma]));
  assert.equal(backend.numDataIds(), ids, "gradient left buffers behind");
  tf.dispose([gamma, beta, xs]);
  const x = tf.zeros([1, 2, 2, 6]);
  assert.throws(() => groupNorm(x, { groups: 4 }), /6 channels do not split into 4 groups/);
  assert.throws(() => groupNorm(x, { groups: 2, gamma: tf.ones([3]) }), /gamma must be \[6\]/);
  assert.throws(() => groupNorm(tf.zeros([2, 6]), { groups: 2 }), /x must be \[B, H, W, C\]/);
  x.dispose();
});

Deno.test("sigmoid matches 1 / (1 + exp(-z)) to 1e-8 relative, and saturates cleanly", () => {
  let worst = 0;
  for (let z = -80; z <= 80; z += 0.001237) {
    const r = 1 / (1 + Math.exp(-z));
    worst = Math.max(worst, Math.abs(sigmoid(z) - r) / r);
  }
  assert.ok(worst < 1e-8, `relative error ${worst}`);
  assert.equal(sigmoid(0), 0.5);
  assert.equal(sigmoid(1e6), 1);
  assert.ok(sigmoid(-1e6) >= 0 && sigmoid(-1e6) < 1e-300);
  assert.ok(Number.isNaN(sigmoid(NaN)));
});

Deno.test("fused SiLU forward and gradient match float64 and tfjs ops (wasm, cpu)", () => {
  const shape = [3, 7, 5];
  const size = 105;
  // Wide values, including large magnitudes where sigmoid saturates, and exact zeros.
  const xs = randomArray(size, 7, 24);
  xs[0] = 0;
  xs[1] = 60;
  xs[2] = -60;
  const dys = randomArray(size, 8, 2);
  const refY = Array.from(xs, (v) => v * sig64(v));
  const refDx = Array.from(xs, (v, i) => {
    const s = sig64(v);
    return dys[i] * (s + v * s * (1 - s));
  });
  for (const backend of ["wasm", "cpu"]) {
    tf.setBackend(backend);
    assert.ok(hasFusedSilu(), backend);
    const before = tf.memory().numTensors;
    const [fy, fdx, oy, odx] = tf.tidy(() => {
      const x = tf.tensor(xs, shape), dy = tf.tensor(dys, shape);
      const run = (op: (t: tf.Tensor) => tf.Tensor) => [
        op(x).dataSync(),
        tf.grad((a: tf.Tensor) => tf.sum(tf.mul(op(a), dy)))(x).dataSync(),
      ];
      return [...run(silu), ...run(siluComposite)];
    });
    assert.equal(tf.memory().numTensors, before, `tensors leaked on ${backend}`);
    assert.ok(relErr(fy, refY) < 1e-6, `${backend} fused y`);
    assert.ok(relErr(fdx, refDx) < 1e-6, `${backend} fused dx`);
    assert.ok(relErr(oy, refY) < 1e-5, `${backend} tfjs y`);
    assert.ok(relErr(odx, refDx) < 1e-5, `${backend} tfjs dx`);
    assert.ok(relErr(fy, oy) < 1e-5 && relErr(fdx, odx) < 1e-5, `${backend} fused vs tfjs`);
  }
});

Deno.test("tiny U-Net loss and gradients: fused kernels match tfjs ops on wasm", () => {
  tf.setBackend("wasm");
  const fused = tinyUnetGrads();
  const saved = [GROUP_NORM_KERNEL, GROUP_NORM_GRAD_KERNEL, SILU_KERNEL, SILU_GRAD_KERNEL];
  for (const k of saved) tf.unregisterKernel(k, "wasm");
  let ops;
  try {
    assert.ok(!hasFusedGroupNorm() && !hasFusedSilu());
    ops = tinyUnetGrads();
  } finally {
    registerGroupNormKernels("wasm");
    registerSiluKernels("wasm");
  }
  assert.ok(hasFusedGroupNorm() && hasFusedSilu());
  assert.ok(
    Math.abs(fused.loss - ops.loss) < 1e-5 * Math.abs(ops.loss),
    `${fused.loss} ${ops.loss}`,
  );
  const largest = (g: Float32Array) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const overall = Math.max(...ops.grads.map(largest));
  let differs = 0;
  ops.grads.forEach((g, i) => {
    const scale = Math.max(largest(g), 1e-2 * overall);
    const rel = relErr(fused.grads[i], g, scale);
    assert.ok(rel < 1e-3, `variable ${i}: fused gradient differs from tfjs ops (relative ${rel})`);
    if (rel > 0) differs++;
  });
  // The two paths really are different computations (not the same kernels twice).
  assert.ok(differs > 0);
});
