// The toy2d high-resolution W2 (harness/metrics/sinkhorn-divergence.ts) against POT on the same
// points: the debiased Sinkhorn divergence against POT's log-domain Sinkhorn (bench/sinkhorn_pot.py),
// the exact W2 (core/ot/assignment.ts via harness/metrics/w2.ts) against POT's emd2, and the
// divergence's approach to the exact W2 as the blur shrinks; CPU seconds of each at 5,000 points.
//
//   deno run --allow-read --allow-run=/usr/bin/python3 bench/sinkhorn-pot.ts [--quick]
import { sinkhornDivergence2d } from "../harness/metrics/sinkhorn-divergence.ts";
import { w2 } from "../harness/metrics/w2.ts";
import { TOY2D } from "../harness/data/toy2d.ts";
import { normals, rng } from "../core/rng.ts";

/** 8gaussians with mode spread sd (0.2 is the data's own; 0.35 a blurred model). */
function eightGaussians(n: number, seed: number, sd: number): Float32Array {
  const u = rng(seed), z = normals(u, 2 * n), out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = (Math.floor(u() * 8) * Math.PI) / 4;
    out[2 * i] = 2 * Math.cos(a) + sd * z[2 * i];
    out[2 * i + 1] = 2 * Math.sin(a) + sd * z[2 * i + 1];
  }
  return out;
}

/** Process CPU seconds (user + system) from /proc, or wall seconds where it is missing. */
function cpuSeconds(): number {
  try {
    const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return performance.now() / 1000;
  }
}

interface Case {
  name: string;
  a: Float32Array;
  b: Float32Array;
  blur: number;
  emd: boolean;
}

const quick = Deno.args.includes("--quick");
const cases: Case[] = [
  {
    name: "8gaussians sd 0.35 (200) vs data (150)",
    a: eightGaussians(200, 1, 0.35),
    b: eightGaussians(150, 2, 0.2),
    blur: 0.2,
    emd: false,
  },
  {
    name: "moons (200) vs moons (200)",
    a: TOY2D["moons"](200, rng(3)),
    b: TOY2D["moons"](200, rng(4)),
    blur: 0.2,
    emd: true,
  },
  {
    name: "8gaussians sd 0.35 (150) vs data (120)",
    a: eightGaussians(150, 5, 0.35),
    b: eightGaussians(120, 6, 0.2),
    blur: 0.1,
    emd: false,
  },
  {
    name: "8gaussians sd 0.35 (600) vs data (600), exact W2 only",
    a: eightGaussians(600, 9, 0.35),
    b: eightGaussians(600, 10, 0.2),
    blur: 0,
    emd: true,
  },
  ...(quick ? [] : [1000, 5000]).map((n) => ({
    name: `8gaussians sd 0.35 (${n}) vs data (${n}), exact W2 only`,
    a: eightGaussians(n, 7, 0.35),
    b: eightGaussians(n, 8, 0.2),
    blur: 0,
    emd: true,
  })),
];

const py = new Deno.Command("/usr/bin/python3", {
  args: ["bench/sinkhorn_pot.py"],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const writer = py.stdin.getWriter();
await writer.write(
  new TextEncoder().encode(JSON.stringify(cases.map((c) => ({
    name: c.name,
    a: Array.from(c.a),
    b: Array.from(c.b),
    blur: c.blur > 0 ? c.blur : null,
    emd: c.emd,
  })))),
);
await writer.close();
const out = await py.output();
if (!out.success) {
  throw new Error("bench/sinkhorn_pot.py failed (is POT installed for /usr/bin/python3?)");
}
const pot = JSON.parse(new TextDecoder().decode(out.stdout)) as {
  pot: string;
  cases: Array<{
    name: string;
    divergence: number;
    marginalError?: number;
    w2?: number;
    seconds: number;
    emdSeconds?: number;
  }>;
};

console.log(`POT ${pot.pot}; fmbench divergence at tol 1e-10`);
let worstS = 0, worstW = 0;
for (const [i, c] of cases.entries()) {
  const ref = pot.cases[i];
  const lines: string[] = [c.name];
  if (c.blur > 0) {
    let t = cpuSeconds();
    const s = sinkhornDivergence2d(c.a, c.b, { blur: c.blur, tol: 1e-10, maxIter: 100000 });
    t = cpuSeconds() - t;
    const gap = s.divergence - ref.divergence;
    worstS = Math.max(worstS, Math.abs(gap));
    lines.push(
      `  S_eps blur ${c.blur}: fmbench ${s.divergence.toFixed(9)} (${t.toFixed(2)} s), POT ` +
        `${ref.divergence.toFixed(9)} (${ref.seconds.toFixed(1)} s, its marginal error ` +
        `${ref.marginalError?.toExponential(0)}), gap ${gap.toExponential(1)}`,
    );
  }
  if (c.emd && ref.w2 !== undefined) {
    const n = c.a.length / 2;
    if (c.b.length / 2 === n) {
      let t = cpuSeconds();
      const exact = w2(c.a, c.b, n, 2);
      t = cpuSeconds() - t;
      worstW = Math.max(worstW, Math.abs(exact - ref.w2));
      lines.push(
        `  exact W2: fmbench assignment ${exact.toFixed(6)} (${t.toFixed(2)} s), POT emd2 ` +
          `${ref.w2.toFixed(6)} (${ref.emdSeconds?.toFixed(1)} s), gap ${
            (exact - ref.w2).toExponential(1)
          }`,
      );
      for (const blur of n > 1000 ? [0.05] : [0.05, 0.02, 0.01]) {
        let ts = cpuSeconds();
        const s = sinkhornDivergence2d(c.a, c.b, { blur, maxIter: 100000 });
        ts = cpuSeconds() - ts;
        lines.push(
          `  sqrt(S_eps) blur ${blur}: ${s.distance.toFixed(6)} (${ts.toFixed(2)} s, ` +
            `${s.iterations} iterations), minus exact W2 ${(s.distance - exact).toExponential(1)}`,
        );
      }
    }
  }
  console.log(lines.join("\n"));
}
console.log(
  `worst |S_eps - POT| ${worstS.toExponential(1)}; worst |W2 - emd2| ${worstW.toExponential(1)}`,
);
if (worstS > 1e-6 || worstW > 1e-6) {
  console.error("a gap is above the stated tolerance of 1e-6");
  Deno.exit(1);
}
