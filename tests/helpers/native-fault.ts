// Test helper run as its own process (the kernels register once per process): selects wasm with
// a deliberately broken native BLAS (one element of every product off by `relative`, on every
// thread count or, with "threaded", on more than one), then prints the notes, the threads and
// the largest error of a wasm matrix product against a float64 loop, as one JSON line.
//   deno run -A tests/helpers/native-fault.ts 1e-3 [threaded]
import { tf } from "../../core/tf.ts";
import { selectBackend } from "../../backend/select.ts";
import { activeThreads, useThreads } from "../../backend/threads.ts";
import { randomArray } from "./random.ts";

const relative = Number(Deno.args[0]);
const onlyThreaded = Deno.args[1] === "threaded";
const info = await selectBackend("wasm", { nativeFault: { relative, onlyThreaded } });
useThreads(info, { threads: 2, why: "test" });
const [m, k, n] = [37, 53, 29];
const a = randomArray(m * k, 1), b = randomArray(k * n, 2);
const c = tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])).dataSync();
let worst = 0;
for (let i = 0; i < m; i++) {
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
    worst = Math.max(worst, Math.abs(c[i * n + j] - s) / (1 + Math.abs(s)));
  }
}
console.log(JSON.stringify({
  notes: info.notes,
  threads: info.threads,
  native: activeThreads() !== undefined,
  worst,
}));
