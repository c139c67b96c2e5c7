import { tf } from "./core/tf.ts";
import { selectBackend } from "./harness/backend/select.ts";
import { rng } from "./core/rng.ts";
const t0 = performance.now();
const info = await selectBackend("webgpu");
console.log(info, (performance.now()-t0).toFixed(0));
function rnd(shape: number[], seed: number) { const u = rng(seed); const n = shape.reduce((a,b)=>a*b); return tf.tensor(Float32Array.from({length:n}, ()=>u()-0.5), shape); }
async function grads(be: string, xs: number[], ws: number[], stride: number) {
  await tf.setBackend(be);
  const x = rnd(xs, 1), w = rnd(ws, 2);
  const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, "same");
  const dy = rnd(y.shape, 3);
  const t = performance.now();
  const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, "same"), dy)))([x, w]);
  const r = { gx: await gx.data(), gw: await gw.data(), ms: performance.now() - t };
  tf.dispose([x, w, y, dy, gx, gw]);
  return r;
}
for (const [xs, ws, st] of [[[2,32,32,3],[3,3,3,16],1],[[2,32,32,16],[3,3,16,16],1],[[2,32,32,16],[3,3,16,16],2],[[2,16,16,32],[3,3,48,32].slice(0,0).concat([3,3,32,32]),1]] as Array<[number[],number[],number]>) {
  const c = await grads("cpu", xs, ws, st);
  const g = await grads("webgpu", xs, ws, st);
  const d = (a: any, b: any) => { let m = 0, r = 0; for (let i=0;i<a.length;i++){ m = Math.max(m, Math.abs(a[i]-b[i])); r = Math.max(r, Math.abs(a[i])); } return [m, r]; };
  console.log(xs, ws, st, "dx", d(c.gx, g.gx), "dW", d(c.gw, g.gw), "ms cpu", c.ms.toFixed(0), "webgpu", g.ms.toFixed(0));
}
