// wasm convolution gradients (registerWasmConvGrads) against the cpu backend, kernel by kernel
// and through a whole tiny U-Net.
import assert from "node:assert/strict";
import { selectBackend } from "../backend/select.ts";
import { tf } from "../core/tf.ts";
import { registerWasmConvGrads } from "../backend/wasm-conv-grads.ts";
import { upsample2x } from "../plugins/models/_unet/upsample.ts";
import { randomArray } from "./helpers/random.ts";
import { tinyUnetGrads } from "./helpers/unet-grads.ts";

await selectBackend("wasm");
registerWasmConvGrads();
registerWasmConvGrads(); // idempotent

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Gradients of sum(conv2d(x, w) * dy) w.r.t. x and w on the given backend. */
function convGrads(
  backend: string,
  xShape: number[],
  wShape: number[],
  stride: number,
  pad: "same" | "valid",
  seed: number,
) {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor(randomArray(xShape.reduce((a, b) => a * b), seed), xShape);
    const w = tf.tensor(randomArray(wShape.reduce((a, b) => a * b), seed + 1), wShape);
    const yShape = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad).shape;
    const dy = tf.tensor(randomArray(yShape.reduce((a, b) => a * b), seed + 2), yShape);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), dy));
    const [gx, gw] = tf.grads(f)([x, w]);
    return { gx: gx.dataSync() as Float32Array, gw: gw.dataSync() as Float32Array };
  });
}

const CASES: Array<[number[], number[], number, "same" | "valid"]> = [
  [[2, 8, 8, 3], [3, 3, 3, 4], 1, "same"],
  [[2, 8, 8, 3], [3, 3, 3, 4], 2, "same"],
  [[2, 9, 7, 3], [3, 3, 3, 4], 2, "same"],
  [[2, 9, 7, 3], [3, 3, 3, 5], 2, "valid"],
  [[1, 10, 11, 2], [1, 1, 2, 3], 1, "same"],
  [[3, 11, 10, 2], [5, 3, 2, 3], 3, "valid"],
  [[2, 6, 6, 4], [2, 2, 4, 3], 2, "same"],
  [[2, 7, 7, 4], [4, 4, 4, 3], 1, "same"],
  // More padded-grid rows than one BLAS row block (4,096): the blocked loops.
  [[3, 40, 40, 4], [3, 3, 4, 5], 1, "same"],
  [[2, 50, 48, 3], [5, 3, 3, 4], 1, "valid"],
];

Deno.test("wasm conv2d gradients (input and filter) match cpu", () => {
  CASES.forEach(([xs, ws, stride, pad], i) => {
    const cpu = convGrads("cpu", xs, ws, stride, pad, 10 * i);
    tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const wasm = convGrads("wasm", xs, ws, stride, pad, 10 * i);
    const what = `x ${xs} w ${ws} stride ${stride} ${pad}`;
    assert.ok(maxAbsDiff(cpu.gx, wasm.gx) < 1e-4, `dx differs for ${what}`);
    assert.ok(maxAbsDiff(cpu.gw, wasm.gw) < 1e-4, `dW differs for ${what}`);
    assert.equal(tf.memory().numTensors, before, `tensors leaked for ${what}`);
  });
});

Deno.test("wasm conv gradient kernels free their intermediates", () => {
  tf.setBackend("wasm");
  // deno-lint-ignore no-explicit-any
  const backend = tf.backend() as any;
  convGrads("wasm", [2, 8, 8, 3], [3, 3, 3, 4], 2, "same", 1); // warm up
  const before = backend.numDataIds();
  convGrads("wasm", [2, 8, 8, 3], [3, 3, 3, 4], 2, "same", 1);
  convGrads("wasm", [2, 9, 7, 3], [3, 3, 3, 5], 2, "valid", 2);
  assert.equal(backend.numDataIds(), before);
});

Deno.test("wasm batched matmul (split per batch entry) matches cpu, with transposes", () => {
  // [m, k, n] = [33, 32, 40] is above the split threshold; [5, 4, 6] stays on the original path.
  for (const [m, k, n] of [[33, 32, 40], [5, 4, 6]]) {
    const product = (backend: string, ta: boolean, tb: boolean) => {
      tf.setBackend(backend);
      return tf.tidy(() => {
        const a = tf.tensor(randomArray(6 * m * k, 8), ta ? [2, 3, k, m] : [2, 3, m, k]);
        const b = tf.tensor(randomArray(6 * k * n, 9), tb ? [2, 3, n, k] : [2, 3, k, n]);
        const y = tf.matMul(a, b, ta, tb);
        assert.deepEqual(y.shape, [2, 3, m, n]);
        return y.dataSync() as Float32Array;
      });
    };
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      tf.setBackend("wasm");
      const before = tf.memory().numTensors;
      const err = maxAbsDiff(product("cpu", ta, tb), product("wasm", ta, tb));
      assert.ok(err < 1e-4, `[${m}, ${k}, ${n}] transposes ${ta}/${tb}: error ${err}`);
      tf.setBackend("wasm");
      assert.equal(tf.memory().numTensors, before);
    }
  }
});

Deno.test("upsample2x gradient is the 2x2 block sum on cpu and wasm (batch > 1)", () => {
  // tfjs 4.22's cpu ResizeNearestNeighborGrad is wrong for batch > 1 (it repeats example 0's
  // sums), which is why the U-Net upsamples with reshape + broadcast instead.
  const [b, h, w, c] = [3, 4, 5, 2];
  const dyv = randomArray(b * 4 * h * w * c, 4);
  const expected = new Float32Array(b * h * w * c);
  for (let n = 0; n < b; n++) {
    for (let y = 0; y < 2 * h; y++) {
      for (let x = 0; x < 2 * w; x++) {
        for (let k = 0; k < c; k++) {
          const src = ((n * 2 * h + y) * 2 * w + x) * c + k;
          expected[((n * h + (y >> 1)) * w + (x >> 1)) * c + k] += dyv[src];
        }
      }
    }
  }
  for (const backend of ["cpu", "wasm"]) {
    tf.setBackend(backend);
    const got = tf.tidy(() => {
      const dy = tf.tensor(dyv, [b, 2 * h, 2 * w, c]);
      const f = (a: tf.Tensor) => tf.sum(tf.mul(upsample2x(a), dy));
      return tf.grad(f)(tf.zeros([b, h, w, c])).dataSync() as Float32Array;
    });
    assert.ok(maxAbsDiff(got, expected) < 1e-5, `upsample2x gradient wrong on ${backend}`);
  }
});

Deno.test("tiny U-Net gradients on wasm match cpu", () => {
  const run = (backend: string) => {
    tf.setBackend(backend);
    return tinyUnetGrads();
  };
  const cpu = run("cpu");
  const wasm = run("wasm");
  assert.ok(Math.abs(cpu.loss - wasm.loss) < 1e-4 * Math.abs(cpu.loss));
  const largest = (g: Float32Array) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const overall = Math.max(...cpu.grads.map(largest));
  cpu.grads.forEach((g, i) => {
    // Some gradients are zero in exact arithmetic (the attention key bias: softmax ignores a
    // shift shared by all keys), so they are compared against the overall gradient scale.
    const scale = Math.max(largest(g), 1e-2 * overall);
    const rel = maxAbsDiff(g, wasm.grads[i]) / scale;
    assert.ok(rel < 1e-3, `variable ${i}: wasm gradient differs from cpu (relative ${rel})`);
  });
});
