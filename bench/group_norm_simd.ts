// GroupNorm's passes on one 32x32x32x32 activation (the U-Net `small`'s largest), timed side by
// side: the WebAssembly SIMD passes (backend/group-norm-simd.ts) against the JS loops they replace.
//   deno run -A bench/group_norm_simd.ts [--reps 20]
import { parseArgs } from "node:util";
import { compileGroupNormSimd, groupNormSimd } from "../backend/group-norm-simd.ts";
import { groupNormBackward, groupNormForward } from "../backend/group-norm-math.ts";

const { values: v } = parseArgs({ options: { reps: { type: "string", default: "20" } } });
const reps = Number(v.reps);
const [b, n, c, groups] = [32, 1024, 32, 8];
const d = { b, n, c, groups }, size = b * n * c;
const memory = new WebAssembly.Memory({ initial: Math.ceil((8 * size * 4 + (1 << 20)) / 65536) });
const gn = groupNormSimd(await compileGroupNormSimd(), memory);
let top = 64;
const alloc = (floats: number) => {
  const at = top;
  top = Math.ceil((top + 4 * floats) / 16) * 16 + 64;
  return at;
};
const at = {
  x: alloc(size),
  y: alloc(size),
  dy: alloc(size),
  dx: alloc(size),
  s: alloc(size),
  gamma: alloc(c),
  beta: alloc(c),
  stats: alloc(b * groups * 2),
  scratch: alloc(b * c * 6),
  dgamma: alloc(c),
  dbeta: alloc(c),
};
const view = (offset: number, length: number) => new Float32Array(memory.buffer, offset, length);
let seed = 1;
const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
for (const k of ["x", "dy", "s"] as const) view(at[k], size).forEach((_, i, a) => a[i] = rand());
view(at.gamma, c).fill(1);

/** Median milliseconds of `reps` calls after 5 warm-ups. */
function ms(f: () => void): number {
  for (let i = 0; i < 5; i++) f();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return t.sort((p, q) => p - q)[Math.floor(reps / 2)];
}

const x = view(at.x, size), gamma = view(at.gamma, c), beta = view(at.beta, c);
const z = new Float32Array(size), stats = new Float32Array(b * groups * 2);
const dx = new Float32Array(size), dg = new Float32Array(c), db = new Float32Array(c);
const silu = { z: view(at.y, size), s: view(at.s, size) };
const rows = [
  [
    "forward",
    () => groupNormForward(x, gamma, beta, d, 1e-6, z, stats),
    () => gn.forward(at, d, 1e-6),
  ],
  [
    "backward",
    () => groupNormBackward(view(at.dy, size), x, gamma, stats, d, dx, dg, db),
    () => gn.backward(at, d),
  ],
  [
    "backward with SiLU",
    () => groupNormBackward(view(at.dy, size), x, gamma, stats, d, dx, dg, db, silu),
    () => gn.backward({ ...at, silu: { z: at.y, s: at.s } }, d),
  ],
] as const;
console.log(`GroupNorm on [${b}, 32, 32, ${c}], ${groups} groups, median of ${reps}:`);
for (const [name, js, simd] of rows) {
  const a = ms(js), s = ms(simd);
  console.log(
    `${name.padEnd(20)} JS ${a.toFixed(2)} ms, SIMD ${s.toFixed(2)} ms: ${(a / s).toFixed(2)}x`,
  );
}
