// Times the deep check of results.json (results/check.ts) on synthetic files shaped like the
// default toy2d run's (15 runs: 28 solver settings, 2 NLL estimators, 500 points, 12
// trajectories each) and 100 times larger.
//   deno run --allow-read bench/results_check.ts [--runs 15,1500] [--repeat 9]
import { parseArgs } from "node:util";
import { resultsProblems } from "./results/check.ts";
import { RESULTS_SCHEMA, type ResultsFile, type RunRecord } from "./results/schema.ts";

/** The toy2d default solver settings (harness/suites/toy2d.ts): 28 evaluations per run. */
const SETTINGS: Array<[string, RunRecord["evals"][number]["setting"]]> = [
  ...[1, 2, 4, 8, 16, 32, 100].map((steps) => ["euler", { steps }] as [string, { steps: number }]),
  ["euler", { steps: 8, grid: "edm" }],
  ...[1, 2, 4, 8, 16, 50].map((steps) => ["midpoint", { steps }] as [string, { steps: number }]),
  ...[1, 2, 4, 8, 16, 50].map((steps) => ["heun", { steps }] as [string, { steps: number }]),
  ...[1, 2, 4, 8, 25].map((steps) => ["rk4", { steps }] as [string, { steps: number }]),
  ["dopri5", { rtol: 1e-5, atol: 1e-5 }],
  ["dopri5", { rtol: 1e-3, atol: 1e-3 }],
  ["dopri5-torchdiffeq", { rtol: 1e-5, atol: 1e-5 }],
];

/** A deterministic pseudo-random stream in [0, 1) (a 32-bit LCG; the values do not matter). */
function stream(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function run(i: number): RunRecord {
  const u = stream(i + 1);
  const pt = () => [u() * 4 - 2, u() * 4 - 2];
  const setting = { rtol: 1e-5, atol: 1e-5 };
  return {
    id: `ds${i % 3}__method-${i}__mlp-default`,
    configHash: "0123456789abcdef",
    dataset: `ds${i % 3}`,
    method: `method-${i}`,
    model: "mlp",
    preset: "default",
    seed: 0,
    paramCount: 133_378,
    status: "ok",
    train: {
      steps: 1000,
      batch: 256,
      seconds: 20 * u(),
      lossCurve: Array.from({ length: 100 }, (_, k) => [10 * k, u()] as [number, number]),
      finalLoss: u(),
    },
    evals: SETTINGS.map(([solver, s]) => ({
      solver,
      setting: s,
      status: "ok" as const,
      nfe: 1 + Math.floor(100 * u()),
      metrics: { w2: u() },
      seconds: u(),
      ...(s.steps !== undefined
        ? { sampleError: { mse: u() / 100, reference: { solver: "dopri5", setting } } }
        : {}),
    })),
    nll: (["exact", "hutchinson"] as const).map((estimator) => ({
      nats: 2 + u(),
      stderr: u() / 10,
      n: 500,
      estimator,
      ...(estimator === "hutchinson" ? { probes: 2, noise: "rademacher" as const } : {}),
      solver: "dopri5",
      setting,
      nfe: 80,
      seconds: 5 * u(),
    })),
    straightness: u(),
    samples: {
      points: Array.from({ length: 500 }, pt),
      trajectories: Array.from({ length: 12 }, () => Array.from({ length: 21 }, pt)),
      from: { solver: "dopri5", setting, nfe: 62 },
    },
  };
}

/** A synthetic results file with `runs` records. */
function results(runs: number): ResultsFile {
  return {
    schema: RESULTS_SCHEMA,
    suite: "toy2d",
    manifest: {
      commit: "0".repeat(40),
      dirty: false,
      versions: { fmbench: "0.1.0", deno: "2.9.6", v8: "14", typescript: "5", tfjs: "4.22.0" },
      backend: "wasm",
      device: "cpu",
      backendNotes: [],
      os: "linux",
      seed: 0,
      config: { suite: "toy2d" },
      configHash: "0123456789abcdef",
      startedAt: "2026-01-01T00:00:00.000Z",
      argv: ["bench"],
    },
    plugins: { loaded: [], failures: [] },
    methods: [],
    headline: { quality: "w2", nll: "nats", adaptiveSolver: "dopri5" },
    runs: Array.from({ length: runs }, (_, i) => run(i)),
    references: { ds0: { w2: 0.02 }, ds1: { w2: 0.03 }, ds2: { w2: 0.04 } },
  };
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "15,1500" },
    repeat: { type: "string", default: "9" },
  },
});
const repeat = Number(values.repeat);
for (const n of values.runs.split(",").map(Number)) {
  const rr = results(n);
  for (const r of rr.runs) {
    if (Deno.env.get("NOS")) delete r.samples;
    if (Deno.env.get("NOL")) r.train!.lossCurve = [];
  }
  const text = JSON.stringify(rr);
  const value = JSON.parse(text);
  const problems = resultsProblems(value);
  if (problems.length) throw new Error(`the synthetic file fails the check: ${problems[0]}`);
  const times: number[] = [];
  const parse: number[] = [];
  for (let k = 0; k < repeat; k++) {
    let t = performance.now();
    const v = JSON.parse(text);
    parse.push(performance.now() - t);
    t = performance.now();
    resultsProblems(v);
    times.push(performance.now() - t);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  console.log(
    `${n} runs, ${(text.length / 1e6).toFixed(2)} MB: check ${median(times).toFixed(1)} ms ` +
      `(median of ${repeat}; JSON.parse ${median(parse).toFixed(1)} ms)`,
  );
}
