// Which uncertainty fits W2 at the evaluation's size: the spread of W2 over independent draws of
// a blurred model (the truth), the spread between independent held-out draws (what fmbench
// records as references[d].w2_std), and a delta-method error of the matched costs (rejected).
// deno run -A bench/w2-calibration.ts
import { solveAssignment } from "../core/ot/assignment.ts";
import { sqdist } from "../core/ot/sqdist.ts";
import { rng } from "../core/rng.ts";
import { TOY2D } from "../harness/data/toy2d.ts";

const N = 500, REPS = 30;

/** W2 and the delta-method error sd(c) / (2 W2 sqrt n) of the matched squared distances. */
function w2Delta(a: Float32Array, b: Float32Array): { w2: number; se: number } {
  const cost = sqdist(a, b, N, N, 2);
  const { rowToCol, total } = solveAssignment(cost, N);
  const w = Math.sqrt(Math.max(total, 0) / N);
  const c = Array.from({ length: N }, (_, i) => cost[i * N + rowToCol[i]]);
  const m = c.reduce((s, x) => s + x, 0) / N;
  const sd = Math.sqrt(c.reduce((s, x) => s + (x - m) ** 2, 0) / (N - 1));
  return { w2: w, se: sd / (2 * w * Math.sqrt(N)) };
}

const sdOf = (xs: number[]) => {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  return { mean: m, sd: Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1)) };
};

for (const [name, blur] of [["moons", 0.15], ["8gaussians", 0.3], ["checkerboard", 0.2]] as const) {
  const model: number[] = [], floor: number[] = [], delta: number[] = [];
  for (let k = 0; k < REPS; k++) {
    const a = TOY2D[name](N, rng(1000 + k));
    const u = rng(5000 + k);
    for (let i = 0; i < a.length; i++) {
      a[i] += blur * Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
    }
    const r = w2Delta(a, TOY2D[name](N, rng(9000 + k)));
    model.push(r.w2);
    delta.push(r.se);
    floor.push(w2Delta(TOY2D[name](N, rng(20000 + k)), TOY2D[name](N, rng(30000 + k))).w2);
  }
  const m = sdOf(model), f = sdOf(floor), d = sdOf(delta);
  console.log(
    `${name} (model: data blurred by ${blur}), n = ${N}, ${REPS} draws: W2 ${m.mean.toFixed(3)} ` +
      `sd ${m.sd.toFixed(4)} | held-out floor ${f.mean.toFixed(3)} sd ${f.sd.toFixed(4)} ` +
      `(ratio ${(f.sd / m.sd).toFixed(2)}) | delta-method se ${d.mean.toFixed(4)} ` +
      `(ratio ${(d.mean / m.sd).toFixed(2)})`,
  );
}
