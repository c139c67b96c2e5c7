import { tf } from "./core/tf.ts";
import { selectBackend } from "./harness/backend/select.ts";
await selectBackend("webgpu");
async function timeit(label: string, f: () => tf.Tensor) { const t = performance.now(); const y = f(); await y.data(); y.dispose(); console.log(label, (performance.now()-t).toFixed(0)); }
const x = tf.randomNormal([2,32,32,16]), w = tf.randomNormal([3,3,16,16]);
await timeit("warm add", () => tf.add(x, 1));
await timeit("conv fwd", () => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same"));
const dy = tf.randomNormal([2,32,32,16]);
const dW = () => tf.engine().runKernel("Conv2DBackpropFilter", {x, dy}, {strides: [1,1], pad: "same", dataFormat: "NHWC", filterShape: [3,3,16,16]}) as tf.Tensor;
const dX = () => tf.engine().runKernel("Conv2DBackpropInput", {dy, filter: w}, {strides: [1,1], pad: "same", dataFormat: "NHWC", inputShape: [2,32,32,16]}) as tf.Tensor;
await timeit("dW", dW); await timeit("dW again", dW);
await timeit("dx", dX); await timeit("dx again", dX);
await timeit("grads", () => { const [a, b] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, "same"), dy)))([x, w]); return tf.add(tf.sum(a), tf.sum(b)); });
await timeit("grads again", () => { const [a, b] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, "same"), dy)))([x, w]); return tf.add(tf.sum(a), tf.sum(b)); });
