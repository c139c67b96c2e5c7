import { tf } from "../core/tf.ts";
import vp from "../plugins/paths/vp-diffusion.ts";
import { normals, rng } from "../core/rng.ts";
await tf.setBackend("cpu");
const s = vp.schedule!;
const n = 20000;
const x0 = normals(rng(1), n), x1 = normals(rng(2), n);
for (const t of [0, 0.5, Math.fround(0.99999)]) {
  const a = s.alpha(t), da = s.dAlpha(t), sg = s.sigma(t), ds = s.dSigma(t);
  const xt = x0.map((z, i) => Math.fround(a * x1[i] + sg * z));
  const truth = x0.map((z, i) => (da / a) * (xt[i] - sg * z) + ds * z); // float64
  const X = tf.tensor1d(xt), E = tf.tensor1d(x0);
  const oldV = tf.add(tf.mul(X, da / a), tf.mul(E, ds - (da * sg) / a)).dataSync();
  const newV = tf.add(tf.mul(tf.sub(X, tf.mul(E, sg)), da / a), tf.mul(E, ds)).dataSync();
  const err = (v: ArrayLike<number>) => { let m = 0; for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(v[i] - truth[i])); return m; };
  console.log(`t=${t}: max |v| ${Math.max(...truth.map(Math.abs)).toFixed(3)}  old-form error ${err(oldV).toExponential(2)}  new-form error ${err(newV).toExponential(2)}`);
}
