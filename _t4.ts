import { tf } from "./core/tf.ts";
import { selectBackend } from "./harness/backend/select.ts";
await selectBackend("webgpu");
async function timeit(label: string, f: () => tf.Tensor) { const t = performance.now(); const y = f(); await y.data(); y.dispose(); console.log(label, (performance.now()-t).toFixed(0)); }
for (const [xs, ws] of [[[2,32,32,16],[3,3,16,16]], [[2,16,16,32],[3,3,32,32]], [[2,8,8,32],[3,3,32,32]], [[2,16,16,32],[3,3,32,32]]]) {
  const x = tf.randomNormal(xs), w = tf.randomNormal(ws);
  const dy = tf.randomNormal([...xs.slice(0,3), ws[3]]);
  await timeit(`${xs} fwd`, () => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same"));
  await timeit(`${xs} dW`, () => tf.engine().runKernel("Conv2DBackpropFilter", {x, dy}, {strides: [1,1], pad: "same", dataFormat: "NHWC", filterShape: ws}) as tf.Tensor);
  await timeit(`${xs} dx`, () => tf.engine().runKernel("Conv2DBackpropInput", {dy, filter: w}, {strides: [1,1], pad: "same", dataFormat: "NHWC", inputShape: xs}) as tf.Tensor);
  await timeit(`${xs} sum-mul`, () => tf.sum(tf.mul(x, x)));
}
