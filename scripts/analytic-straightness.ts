// Straightness of the EXACT marginal flow (a perfect model) of each affine path on a Gaussian
// mixture, e.g. 8gaussians: `deno run --allow-read scripts/analytic-straightness.ts`.
import { discoverPlugins } from "../harness/registry.ts";
import { normals, rng } from "../core/rng.ts";

/** Posterior-weighted marginal velocity of a mixture of N(m_k, s^2 I) under an affine path. */
function mixtureVelocity(
  x: number[],
  ms: number[][],
  s: number,
  c: { a: number; sg: number; da: number; ds: number },
): number[] {
  const v2 = c.a * c.a * s * s + c.sg * c.sg;
  const k = (c.da * c.a * s * s + c.ds * c.sg * c.sg) / v2;
  const logw = ms.map((m) => -m.reduce((acc, mi, d) => acc + (x[d] - c.a * mi) ** 2, 0) / (2 * v2));
  const top = Math.max(...logw);
  const w = logw.map((l) => Math.exp(l - top));
  const total = w.reduce((a, b) => a + b, 0);
  return x.map((xd, d) =>
    ms.reduce((acc, m, j) => acc + (w[j] / total) * (c.da * m[d] + k * (xd - c.a * m[d])), 0)
  );
}

const reg = await discoverPlugins();
const s = 0.2, n = 2000, steps = 1000;
const ms = Array.from(
  { length: 8 },
  (_, k) => [2 * Math.cos(k * Math.PI / 4), 2 * Math.sin(k * Math.PI / 4)],
);
for (const p of reg.paths.values()) {
  if (!p.schedule || p.sourceStd !== 1) continue;
  const sch = p.schedule, [t0, t1] = p.tRange, h = (t1 - t0) / steps;
  const z = normals(rng(1), 2 * n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let x = [z[2 * i], z[2 * i + 1]];
    const disp = [0, 0];
    let energy = 0;
    for (let k = 0; k < steps; k++) {
      const t = t0 + k * h;
      const c = { a: sch.alpha(t), sg: sch.sigma(t), da: sch.dAlpha(t), ds: sch.dSigma(t) };
      const v = mixtureVelocity(x, ms, s, c);
      energy += (v[0] ** 2 + v[1] ** 2) * h;
      disp[0] += v[0] * h;
      disp[1] += v[1] * h;
      x = [x[0] + v[0] * h, x[1] + v[1] * h];
    }
    const T = t1 - t0;
    total += energy / T - (disp[0] ** 2 + disp[1] ** 2) / (T * T);
  }
  console.log(
    `${p.name.padEnd(14)} straightness of the exact marginal flow: ${(total / n).toFixed(4)}`,
  );
}
