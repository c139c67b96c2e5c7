import { tf } from "./harness/tf.ts";
import { registerWasmConvGrads } from "./harness/wasm-conv-grads.ts";
await import("@tensorflow/tfjs-backend-wasm");
await tf.setBackend("wasm"); await tf.ready();
const be = Deno.args[0];
if (Deno.args[1] === "new") registerWasmConvGrads();
await tf.setBackend(be);
for (const [B, H, C, st] of (Deno.args[2] ? [[8, 32, 64, 1]] : [[32, 32, 64, 1], [8, 32, 64, 1], [32, 16, 128, 1], [32, 32, 64, 2]])) {
  const x = tf.randomNormal([B, H, H, C]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, C, C]) as tf.Tensor4D;
  const y = tf.conv2d(x, w, st, "same");
  const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
  const time = (f: () => tf.Tensor) => { f().dispose(); const t0 = performance.now(); const n = 2; for (let i = 0; i < n; i++) { const r = f(); r.dataSync(); r.dispose(); } return ((performance.now() - t0) / n).toFixed(0); };
  const fwd = time(() => tf.conv2d(x, w, st, "same"));
  const bi = time(() => tf.conv2dTranspose(dy, w, [B, H, H, C], st, "same"));
  const bf = tf.getKernel("Conv2DBackpropFilter", be) ? time(() => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, { strides: st, pad: "same", filterShape: [3, 3, C, C], dataFormat: "NHWC" }) as tf.Tensor) : "n/a";
  console.log(be, Deno.args[1] ?? "", `B=${B} H=${H} C=${C} s=${st}`, "fwd", fwd, "bwdIn", bi, "bwdFilt", bf, "ms");
  tf.dispose([x, w, y, dy]);
}
