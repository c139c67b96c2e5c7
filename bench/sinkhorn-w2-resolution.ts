// What the toy2d W2 can resolve on 8gaussians: the floor band (pairs of held-out draws) against
// synthetic models (modes blurred to sd 0.25 and 0.35; a ring, the modes smeared around the
// circle), for today's exact W2 on 500 points and the high-resolution Sinkhorn W2 on 5,000, each
// as mean +- sd over independent redraws, with the Sinkhorn W2's mean stated standard error.
//
//   deno run --allow-read bench/sinkhorn-w2-resolution.ts [--draws K] [--n N]
import { sinkhornDivergence2d } from "../harness/metrics/sinkhorn-divergence.ts";
import { SINKHORN_BLUR } from "../harness/metrics/sinkhorn-w2.ts";
import { w2 } from "../harness/metrics/w2.ts";
import { normals, rng } from "../core/rng.ts";

/** 8gaussians with mode spread sd, or (ring) the eight modes smeared uniformly around the circle. */
function draw(n: number, seed: number, sd: number, ring = false): Float32Array {
  const u = rng(seed), z = normals(u, 2 * n), out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = ring ? 2 * Math.PI * u() : (Math.floor(u() * 8) * Math.PI) / 4;
    out[2 * i] = 2 * Math.cos(a) + sd * z[2 * i];
    out[2 * i + 1] = 2 * Math.sin(a) + sd * z[2 * i + 1];
  }
  return out;
}

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const draws = arg("--draws", 6), big = arg("--n", 5000);
const stats = (x: number[]) => {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return { m, sd: Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1)) };
};
const models: Array<[string, number, boolean]> = [
  ["data itself (the floor)", 0.2, false],
  ["modes at sd 0.25", 0.25, false],
  ["modes at sd 0.35", 0.35, false],
  ["a ring (modes smeared)", 0.2, true],
];
console.log(`8gaussians, ${draws} independent draws of model and held-out points per row`);
for (const [name, sd, ring] of models) {
  const exact: number[] = [], sink: number[] = [], se: number[] = [];
  for (let k = 0; k < draws; k++) {
    const a = draw(big, 1000 + 2 * k, sd, ring), b = draw(big, 1001 + 2 * k, 0.2);
    exact.push(w2(a.subarray(0, 1000), b.subarray(0, 1000), 500, 2));
    const s = sinkhornDivergence2d(a, b, { blur: SINKHORN_BLUR });
    sink.push(s.distance);
    se.push(s.distanceStderr);
  }
  const e = stats(exact), s = stats(sink);
  console.log(
    `${name.padEnd(26)} exact W2 (500): ${e.m.toFixed(3)} +- ${e.sd.toFixed(3)}   ` +
      `Sinkhorn W2 (${big}): ${s.m.toFixed(3)} +- ${s.sd.toFixed(3)} (stated se ${
        stats(se).m.toFixed(3)
      })`,
  );
}
