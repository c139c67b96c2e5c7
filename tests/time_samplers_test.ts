// The time samplers: each one's draws against its own density (Pearson's chi-square, p > 1e-3 at a
// fixed seed), uniform reproducing the trainer's old stream bit for bit, analytic identities
// between samplers, and the refusals (no schedule, no mass in the range).
import assert from "node:assert/strict";
import { BUILTIN_PLUGINS, discoverPlugins } from "../harness/registry.ts";
import { bindTimeSampler, parseTimeSampler } from "../harness/time-samplers.ts";
import { definePath, normalCdf, normalQuantile, rng, subSeed } from "../core/mod.ts";
import { restrictToRange } from "../core/time-distribution.ts";
import { chiSquareFit, gammaQ } from "./helpers/chi-square.ts";

const reg = await discoverPlugins([BUILTIN_PLUGINS]);
const path = (name: string) => reg.paths.get(name)!;
/** The significance level: a correct sampler fails the fixed-seed test with probability 1e-3. */
const P_MIN = 1e-3;
const N = 40_000, BINS = 40;

function draws(times: { time(u: number): number }, seed: number, n = N): Float64Array {
  const u = rng(seed);
  return Float64Array.from({ length: n }, () => times.time(u()));
}

Deno.test("chi-square helper: Q(df/2, x/2) is SciPy's chi2.sf (1e-12)", () => {
  // scipy.stats.chi2.sf(x, df), SciPy 1.10.1.
  const scipy: Array<[number, number, number]> = [
    [30, 20, 0.06985366069940986],
    [5, 1, 0.025347318677468325],
    [100, 79, 0.0554635931274298],
    [120, 60, 6.876264968732136e-06],
    [2, 9, 0.9914676066288135],
  ];
  for (const [x, df, p] of scipy) assert.ok(Math.abs(gammaQ(df / 2, x / 2) / p - 1) < 1e-12);
});

Deno.test("normal quantile and CDF: SciPy's ndtri/ndtr values, and inverse of each other", () => {
  // scipy.special.ndtri / ndtr, SciPy 1.10.1.
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959963984540054) < 1e-14);
  assert.ok(Math.abs(normalQuantile(1e-20) - -9.262340089798408) < 1e-13);
  assert.ok(Math.abs(normalCdf(-10) / 7.619853024160527e-24 - 1) < 1e-12);
  assert.ok(Math.abs(normalCdf(1) - 0.8413447460685429) < 1e-15);
  for (const p of [1e-9, 0.01, 0.3, 0.5, 0.77, 0.999999]) {
    assert.ok(Math.abs(normalCdf(normalQuantile(p)) / p - 1) < 1e-13, `p = ${p}`);
  }
});

/** (sampler spec, path) pairs: every sampler on the paths whose time ranges and schedules differ. */
const CASES: Array<[string, string]> = [
  ["uniform", "vp-diffusion"],
  ["logit-normal", "cond-ot"],
  ["logit-normal:location=0.8:scale=0.6", "vp-diffusion"],
  ["mode", "cond-ot"],
  ["mode:scale=-0.5", "linear"],
  ["u-shaped", "cond-ot"],
  ["u-shaped:a=1.5", "vp-diffusion"],
  ["skewed", "cond-ot"],
  ["edm-lognormal", "cond-ot"],
  ["edm-lognormal", "vp-diffusion"],
  ["edm-lognormal", "ve-diffusion"],
  ["edm-lognormal:pMean=0.5:pStd=2", "cosine"],
];

for (const [spec, p] of CASES) {
  Deno.test(`${spec} on ${p}: histogram fits its density (chi-square p > ${P_MIN})`, () => {
    const times = bindTimeSampler(parseTimeSampler(spec, { registry: reg, where: "test" }), {
      registry: reg,
      path: path(p),
    });
    const x = draws(times, subSeed(7, `${spec}/${p}`));
    const [lo, hi] = times.range;
    assert.ok(x.every((t) => t >= lo && t <= hi), "every draw in the path's range");
    const fit = chiSquareFit(x, { density: times.density, range: times.range, bins: BINS });
    assert.ok(fit.bins >= 20, `enough bins: ${fit.bins}`);
    assert.ok(
      fit.p > P_MIN,
      `${spec} on ${p}: chi2 ${fit.statistic.toFixed(1)}, df ${fit.df}, p ${fit.p}`,
    );
  });
}

Deno.test("the test has power: logit-normal draws fail against u-shaped and uniform densities", () => {
  const ln = bindTimeSampler(parseTimeSampler("logit-normal", { registry: reg, where: "t" }), {
    registry: reg,
    path: path("cond-ot"),
  });
  const other = (s: string) =>
    bindTimeSampler(parseTimeSampler(s, { registry: reg, where: "t" }), {
      registry: reg,
      path: path("cond-ot"),
    }).density;
  const x = draws(ln, 3);
  for (const s of ["uniform", "u-shaped", "logit-normal:scale=1.1"]) {
    const fit = chiSquareFit(x, { density: other(s), range: [0, 1], bins: BINS });
    assert.ok(fit.p < 1e-6, `${s}: p ${fit.p}`);
  }
});

Deno.test("every density integrates to 1 over the path's range", () => {
  for (const [spec, p] of CASES) {
    const { density, range: [lo, hi] } = bindTimeSampler(
      parseTimeSampler(spec, { registry: reg, where: "t" }),
      { registry: reg, path: path(p) },
    );
    // Midpoint rule on a fine grid (end singularities of some densities are integrable).
    const n = 200_000, h = (hi - lo) / n;
    let mass = 0;
    for (let i = 0; i < n; i++) mass += density(lo + (i + 0.5) * h) * h;
    assert.ok(Math.abs(mass - 1) < 2e-3, `${spec} on ${p}: ${mass}`);
  }
});

Deno.test("uniform: time(u) is the trainer's tMin + (tMax - tMin) u, bit for bit", () => {
  for (const p of ["cond-ot", "vp-diffusion", "ve-diffusion"]) {
    const [tMin, tMax] = path(p).tRange;
    const times = bindTimeSampler(parseTimeSampler("uniform", { registry: reg, where: "t" }), {
      registry: reg,
      path: path(p),
    });
    const u = rng(subSeed(0, "time-12"));
    for (let i = 0; i < 5000; i++) {
      const x = u();
      assert.equal(times.time(x), tMin + (tMax - tMin) * x);
      assert.equal(Math.fround(times.time(x)), Math.fround(tMin + (tMax - tMin) * x));
    }
  }
});

Deno.test("identities: edm-lognormal on the linear path is skewed; mode is symmetric, scale 0 uniform", () => {
  const edm = bindTimeSampler(parseTimeSampler("edm-lognormal", { registry: reg, where: "t" }), {
    registry: reg,
    path: path("linear"),
  });
  const skew = bindTimeSampler(parseTimeSampler("skewed", { registry: reg, where: "t" }), {
    registry: reg,
    path: path("linear"),
  });
  // skewed is cut at t >= 1e-4 (a mass of ~2e-18): the same law to double precision.
  assert.ok(Math.abs(skew.mass - 1) < 1e-15);
  for (let u = 0.001; u < 1; u += 0.01) {
    assert.ok(Math.abs(edm.time(u) - skew.time(u)) < 1e-12, `u = ${u}`);
  }
  const mode = reg.timeSamplers.get("mode")!;
  const m = mode.prepare({ path: path("cond-ot"), params: { scale: 1.29 } });
  const flat = mode.prepare({ path: path("cond-ot"), params: { scale: 0 } });
  for (let u = 0; u <= 1; u += 0.0625) {
    assert.ok(Math.abs(m.quantile(u) + m.quantile(1 - u) - 1) < 1e-15);
    assert.equal(flat.quantile(u), u);
    assert.ok(Math.abs(m.cdf(m.quantile(u)) - u) < 1e-12);
  }
  // The logit-normal median is sigmoid(location); u-shaped is symmetric about 1/2.
  const ln = reg.timeSamplers.get("logit-normal")!.prepare({
    path: path("cond-ot"),
    params: { location: 1, scale: 2 },
  });
  assert.ok(Math.abs(ln.quantile(0.5) - 1 / (1 + Math.exp(-1))) < 1e-15);
  const us = reg.timeSamplers.get("u-shaped")!.prepare({ path: path("cond-ot"), params: { a: 4 } });
  assert.ok(Math.abs(us.quantile(0.2) + us.quantile(0.8) - 1) < 1e-15);
});

Deno.test("refusals: edm-lognormal needs a schedule whose noise level falls; a range with no mass", () => {
  const noSchedule = definePath({
    name: "sampled-only",
    family: "ot",
    description: "no schedule",
    sample: () => {
      throw new Error("unused");
    },
  });
  const edm = parseTimeSampler("edm-lognormal", { registry: reg, where: "t" });
  assert.throws(
    () => bindTimeSampler(edm, { registry: reg, path: noSchedule }),
    /edm-lognormal.*schedule.*path "sampled-only" has none/,
  );
  const backwards = definePath({
    name: "backwards",
    family: "ot",
    description: "noise at t = 1",
    schedule: { alpha: (t) => 1 - t, sigma: (t) => t, dAlpha: () => -1, dSigma: () => 1 },
  });
  assert.throws(
    () => bindTimeSampler(edm, { registry: reg, path: backwards }),
    /to fall from t0 to t1/,
  );
  const late = definePath({
    name: "late",
    family: "ot",
    description: "a path that only trains at t < 1e-5",
    schedule: { alpha: (t) => t, sigma: (t) => 1 - t, dAlpha: () => 1, dSigma: () => -1 },
    tRange: [0, 1e-5],
  });
  assert.throws(
    () =>
      bindTimeSampler(parseTimeSampler("skewed", { registry: reg, where: "t" }), {
        registry: reg,
        path: late,
      }),
    /skewed" puts .* of its probability in the path's time range \[0, 0.00001\]/,
  );
  // The restriction itself: a distribution within the range is unchanged.
  const inner = restrictToRange(
    reg.timeSamplers.get("u-shaped")!.prepare({ path: path("cond-ot"), params: { a: 4 } }),
    { range: [0, 1], name: "u-shaped" },
  );
  assert.equal(inner.mass, 1);
});

Deno.test("specs: unknown samplers and bad parameters name what is valid", () => {
  assert.throws(
    () => parseTimeSampler("lognormal", { registry: reg, where: "--time-samplers" }),
    /unknown time sampler \(--time-samplers\) "lognormal"; valid: .*logit-normal.*uniform/,
  );
  assert.throws(
    () => parseTimeSampler("logit-normal:scale=0", { registry: reg, where: "--time-samplers" }),
    /scale must be a finite number > 0, got "0"; time sampler "logit-normal" takes location \(default 0\), scale \(> 0, default 1\)/,
  );
  assert.throws(
    () => parseTimeSampler("logit-normal:scal=1", { registry: reg, where: "x" }),
    /no parameter "scal"/,
  );
  assert.throws(
    () => parseTimeSampler("logit-normal:scale", { registry: reg, where: "x" }),
    /"scale" is not KEY=VALUE/,
  );
  assert.throws(() => parseTimeSampler("mode:scale=2", { registry: reg, where: "x" }), /<= 1.752/);
  assert.throws(
    () => parseTimeSampler("u-shaped:a=-1", { registry: reg, where: "x" }),
    /a must be .* > 0/,
  );
  assert.deepEqual(parseTimeSampler("logit-normal:scale=0.5", { registry: reg, where: "x" }), {
    name: "logit-normal",
    params: { location: 0, scale: 0.5 },
  });
});
