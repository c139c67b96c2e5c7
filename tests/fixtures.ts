// Builds small synthetic results.json fixtures (toy 2-D or image suites, optionally sharded).
import { pngChunk } from "../store/png.ts";
import {
  type EvalRecord,
  type FeatureMetricProtocol,
  type MethodEntry,
  RESULTS_SCHEMA,
  type ResultsFile,
  type RunRecord,
} from "../results/schema.ts";
import { normals, rng, subSeed } from "../core/rng.ts";

/** The hostile strings planted in the fixture, so tests can check they come out escaped. */
export const HOSTILE_METHOD = "<img src=x onerror=alert(1)>";
export const HOSTILE_DESCRIPTION = "Pairs by minibatch OT. <script>alert(1)</script>";

/** A cell whose rendered values tests look for: moons / fm-ot / dopri5 at rtol 1e-5. */
export const KNOWN_CELL = { dataset: "moons", method: "fm-ot", w2: 0.0412, nfe: 62 } as const;

/** The FID/KID protocol the image fixture's evaluations carry (fake values, real shape). */
export const FIXTURE_PROTOCOL: FeatureMetricProtocol = {
  network: "pytorch-fid InceptionV3 pool3 (2048-d)",
  weights: {
    file: "pt_inception-2015-12-05-6726825d.pth",
    sha256: "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2",
    contentSha256: "0".repeat(64),
    published: true,
  },
  reference: { dataset: "cifar10", split: "train", n: 50000, kidFeatures: 10000 },
  generated: 5000,
  preprocessing: "samples in [-1, 1] mapped to [0, 1], clipped and rounded to 8 bits " +
    "(floor(255 x + 0.5) / 255, as a PNG round trip); bilinear resize to 299x299 " +
    "(align_corners=False), scaled to [-1, 1]",
  kid: {
    subsets: 100,
    subsetSize: 1000,
    kernel: "(x.y/d + 1)^3",
    estimator: "unbiased MMD^2, mean and std over subsets",
  },
};

/** Options for {@link buildFixture}. */
export interface FixtureOptions {
  /** "toy2d": W2 + nats + 2-D sample points; "images": FID + bits/dim + PNG sample grids. */
  kind?: "toy2d" | "images";
  seed?: number;
}

const METHODS: MethodEntry[] = [
  { label: "fm-ot", path: "cond-ot", coupling: "independent", loss: "cfm", family: "ot" },
  {
    label: "diffusion-vp",
    path: "vp-diffusion",
    coupling: "independent",
    loss: "eps",
    family: "diffusion",
  },
  {
    label: HOSTILE_METHOD,
    path: "linear",
    coupling: "minibatch-ot",
    loss: "cfm",
    family: "rectified",
  },
];

/** Per-method shape of the synthetic numbers: quality floor, solver sensitivity, curvature. */
const PROFILE: Record<string, { floor: number; slope: number; curve: number; nfe: number[] }> = {
  "fm-ot": { floor: 0.0412, slope: 0.9, curve: 0.25, nfe: [38, 62] },
  "diffusion-vp": { floor: 0.071, slope: 2.4, curve: 0.9, nfe: [74, 128] },
  [HOSTILE_METHOD]: { floor: 0.0468, slope: 0.35, curve: 0.05, nfe: [20, 32] },
};

function r4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

function evalsFor(dataset: string, method: string, kind: "toy2d" | "images"): EvalRecord[] {
  const p = PROFILE[method];
  const scale = kind === "images" ? 600 : 1;
  const dsFactor = dataset === "moons" || dataset === "cifar10-32" ? 1 : 1.3;
  // W2 with its bootstrap standard error (about 4%); FID has no per-run uncertainty.
  const metric = (v: number): Record<string, number> =>
    kind === "images"
      ? { fid: r4(v * scale), kid: r4(v * 0.6), kid_std: r4(0.0008 + v * 0.02) }
      : { w2: r4(v), w2_std: r4(0.04 * v) };
  const protocol = kind === "images" ? { protocol: FIXTURE_PROTOCOL } : {};
  const out: EvalRecord[] = [];
  for (const steps of [2, 4, 8, 16]) {
    const q = dsFactor * p.floor + (p.slope * dsFactor) / steps;
    out.push({
      solver: "euler",
      setting: { steps },
      status: "ok",
      nfe: steps,
      metrics: metric(q),
      ...protocol,
      seconds: r4(0.01 * steps),
    });
  }
  // A non-uniform time grid at 8 steps: a setting variant drawn as its own (dashed) line.
  out.push({
    solver: "euler",
    setting: { steps: 8, grid: "edm" },
    status: "ok",
    nfe: 8,
    metrics: metric(dsFactor * p.floor + (0.7 * p.slope * dsFactor) / 8),
    ...protocol,
    seconds: 0.08,
  });
  [1e-3, 1e-5].forEach((rtol, i) => {
    const nfe = Math.round(p.nfe[i] * (dataset === "moons" || dataset === "cifar10-32" ? 1 : 1.2));
    const q = dsFactor * p.floor * (i === 0 ? 1.08 : 1);
    out.push({
      solver: "dopri5",
      setting: { rtol, atol: rtol },
      status: "ok",
      nfe,
      metrics: metric(q),
      ...protocol,
      seconds: r4(0.01 * nfe),
      // The headline setting's NFE on four quarters of the noise: standard error 0.913.
      ...(i === 1 ? { nfeDraws: { batch: 500, nfe: [nfe - 2, nfe - 1, nfe + 1, nfe + 2] } } : {}),
    });
  });
  return out;
}

function lossCurve(seed: number, start: number, end: number): Array<[number, number]> {
  const u = rng(seed);
  const curve: Array<[number, number]> = [];
  for (let step = 0; step <= 2000; step += 100) {
    const clean = end + (start - end) * Math.exp(-step / 300);
    curve.push([step, r4(clean * (1 + 0.06 * (u() - 0.5)))]);
  }
  return curve;
}

function target(dataset: string, u: () => number, z: Float32Array, i: number): [number, number] {
  if (dataset === "moons") {
    const th = Math.PI * u();
    const upper = i % 2 === 0;
    const x = upper ? Math.cos(th) : 1 - Math.cos(th);
    const y = upper ? Math.sin(th) : 0.5 - Math.sin(th);
    return [2 * (x - 0.5), 2 * (y - 0.25)];
  }
  const k = Math.floor(8 * u());
  return [2.5 * Math.cos((k * Math.PI) / 4), 2.5 * Math.sin((k * Math.PI) / 4)].map((v, j) =>
    v + 0.2 * z[2 * i + j]
  ) as [number, number];
}

function points2d(dataset: string, method: string, seed: number, n: number) {
  const u = rng(seed);
  const z = normals(u, 2 * n);
  const blur = normals(u, 2 * n);
  const noise = PROFILE[method].floor * 2;
  const points: number[][] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = target(dataset, u, z, i);
    points.push([r4(x + noise * blur[2 * i]), r4(y + noise * blur[2 * i + 1])]);
  }
  const src = normals(u, 12);
  const trajectories = Array.from({ length: 6 }, (_, k) => {
    const x0 = [src[2 * k], src[2 * k + 1]];
    const x1 = points[k];
    const perp = [-(x1[1] - x0[1]), x1[0] - x0[0]];
    return Array.from({ length: 11 }, (_, s) => {
      const t = s / 10;
      const bend = PROFILE[method].curve * t * (1 - t);
      return [0, 1].map((j) => r4((1 - t) * x0[j] + t * x1[j] + bend * perp[j]));
    });
  });
  return { points, trajectories };
}

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

function chunk(type: string, data: Uint8Array): number[] {
  return [...pngChunk(type, data)];
}

/** Encode an RGB image as a PNG data URI (zlib with stored, uncompressed deflate blocks). */
export function pngDataUri(width: number, height: number, rgb: Uint8Array): string {
  const raw: number[] = [];
  for (let y = 0; y < height; y++) {
    raw.push(0);
    for (let i = 0; i < 3 * width; i++) raw.push(rgb[3 * width * y + i]);
  }
  const z: number[] = [0x78, 0x01];
  for (let off = 0; off < raw.length || off === 0; off += 65535) {
    const block = raw.slice(off, off + 65535);
    const last = off + 65535 >= raw.length ? 1 : 0;
    z.push(
      last,
      block.length & 255,
      block.length >>> 8,
      ~block.length & 255,
      (~block.length >>> 8) & 255,
    );
    z.push(...block);
  }
  let a = 1, b = 0;
  for (const v of raw) (a = (a + v) % 65521), (b = (b + a) % 65521);
  z.push(...u32(((b << 16) | a) >>> 0));
  const ihdr = new Uint8Array([...u32(width), ...u32(height), 8, 2, 0, 0, 0]);
  const png = new Uint8Array([
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...chunk("IHDR", ihdr),
    ...chunk("IDAT", new Uint8Array(z)),
    ...chunk("IEND", new Uint8Array()),
  ]);
  let bin = "";
  for (const byte of png) bin += String.fromCharCode(byte);
  return `data:image/png;base64,${btoa(bin)}`;
}

function imageGrid(seed: number, method: string): string {
  const u = rng(seed);
  const tiles = 4, tile = 12, size = tiles * tile;
  const rgb = new Uint8Array(size * size * 3);
  const sharp = 1 - PROFILE[method].floor * 8;
  for (let ty = 0; ty < tiles; ty++) {
    for (let tx = 0; tx < tiles; tx++) {
      const base = [u() * 255, u() * 255, u() * 255];
      for (let y = 0; y < tile; y++) {
        for (let x = 0; x < tile; x++) {
          const d = Math.hypot(x - tile / 2, y - tile / 2) / (tile / 2);
          const inside = d < 0.7 ? sharp : 1 - sharp;
          const i = 3 * ((ty * tile + y) * size + tx * tile + x);
          for (let c = 0; c < 3; c++) rgb[i + c] = Math.round(base[c] * inside + 30 * u());
        }
      }
    }
  }
  return pngDataUri(size, size, rgb);
}

/**
 * Build a fixture results file: 2 datasets x 3 methods (one named like an HTML tag), euler
 * (steps 2-16, plus steps 8 on an "edm" grid) and dopri5 (rtol 1e-3, 1e-5); one failed dopri5 eval, one plugin load failure
 * and a plugin description containing a script tag.
 */
export function buildFixture(opts: FixtureOptions = {}): ResultsFile {
  const kind = opts.kind ?? "toy2d";
  const seed = opts.seed ?? 7;
  const datasets = kind === "images" ? ["cifar10-32", "mnist-28"] : ["moons", "8gaussians"];
  const runs: RunRecord[] = [];
  for (const dataset of datasets) {
    for (const m of METHODS) {
      const s = subSeed(seed, `${dataset}/${m.label}`);
      const evals = evalsFor(dataset, m.label, kind);
      const failing = dataset === datasets[1] && m.label === "diffusion-vp";
      if (failing) {
        const e = evals[evals.length - 1];
        Object.assign(e, {
          status: "failed",
          error: "step size underflow (h < 1e-10) at t = 0.0031 after 1000 steps",
          metrics: {},
        });
      }
      const p = PROFILE[m.label];
      const nllNats = (dataset === datasets[0] ? 2.31 : 3.02) + 4 * p.floor;
      const d = kind === "images" ? 3072 : 2;
      const nats = kind === "images" ? d * Math.LN2 * (3 + 10 * p.floor - 7) : nllNats;
      const seconds = r4(40 + 900 * p.floor + (m.family === "diffusion" ? 12 : 0));
      const train = {
        steps: 2000,
        batch: 256,
        seconds,
        cpuSeconds: r4(0.9 * seconds),
        cpuStderr: r4(0.01 * seconds),
        lossCurve: lossCurve(s, 2.2, 0.6 + p.floor),
        finalLoss: 0,
      };
      train.finalLoss = train.lossCurve[train.lossCurve.length - 1][1];
      runs.push({
        id: `${dataset}/${m.label}/mlp`,
        dataset,
        method: m.label,
        model: kind === "images" ? "unet" : "mlp",
        preset: "small",
        paramCount: kind === "images" ? 1_204_355 : 17_026,
        status: "ok",
        train,
        evals,
        nll: [{
          nats: r4(nats),
          bpd: kind === "images" ? r4(nats / (d * Math.LN2) + 7) : undefined,
          stderr: kind === "images" ? 0.012 : 0.021,
          n: 2000,
          estimator: kind === "images" ? "hutchinson" : "exact",
          probes: kind === "images" ? 1 : undefined,
          noise: kind === "images" ? "rademacher" : undefined,
          solver: "dopri5",
          setting: { rtol: 1e-5, atol: 1e-5 },
          nfe: p.nfe[1],
          seconds: 3.2,
        }],
        straightness: r4(0.02 + p.curve * 0.4),
        straightnessStderr: r4(0.002 + p.curve * 0.02),
        samples: kind === "images"
          ? { image: imageGrid(s, m.label) }
          : points2d(dataset, m.label, s, 400),
      });
    }
  }
  return {
    schema: RESULTS_SCHEMA,
    suite: kind === "images" ? "images-fixture" : "toy2d-fixture",
    manifest: {
      commit: "0123456789abcdef0123456789abcdef01234567",
      dirty: false,
      versions: {
        fmbench: "0.1.0",
        deno: "2.9.6",
        v8: "15.0",
        typescript: "6.0.3",
        tfjs: "4.22.0",
      },
      backend: "wasm",
      device: "x86_64 CPU (wasm SIMD, 2 threads)",
      backendNotes: [
        "tensorflow: @tensorflow/tfjs-node-gpu not loadable",
        "webgpu: no navigator.gpu",
      ],
      os: "linux x86_64",
      seed,
      config: {
        datasets,
        methods: METHODS.map((m) => m.label),
        train: { steps: 2000, batch: 256, lr: 1e-3 },
        solvers: {
          euler: { steps: [2, 4, 8, 16], grids: ["uniform", "edm"] },
          dopri5: { rtol: [1e-3, 1e-5] },
        },
        eval: { samples: 2000, nllPoints: 2000, straightnessSteps: 100 },
      },
      configHash: "3f9a1c0d7e2b",
      startedAt: "2025-01-02T03:04:05.000Z",
      finishedAt: "2025-01-02T03:34:05.000Z",
      wallSeconds: 1800,
      // What a run records: the CLI's arguments (Deno.args), without "deno task bench".
      argv: kind === "images" ? ["--suite", "cifar10", "--budget", "quick"] : [],
    },
    plugins: {
      loaded: [
        {
          kind: "paths",
          name: "cond-ot",
          family: "ot",
          description: "x_t = t x1 + (1 - (1 - s) t) x0",
          file: "plugins/paths/cond-ot.ts",
        },
        {
          kind: "paths",
          name: "vp-diffusion",
          family: "diffusion",
          description: "Variance-preserving diffusion path",
          file: "plugins/paths/vp-diffusion.ts",
        },
        {
          kind: "paths",
          name: "linear",
          family: "rectified",
          description: "x_t = t x1 + (1 - t) x0",
          file: "plugins/paths/linear.ts",
        },
        {
          kind: "couplings",
          name: "independent",
          description: "Independent pairs",
          file: "plugins/couplings/independent.ts",
        },
        {
          kind: "couplings",
          name: "minibatch-ot",
          description: HOSTILE_DESCRIPTION,
          file: "plugins/couplings/minibatch-ot.ts",
        },
        {
          kind: "losses",
          name: "cfm",
          description: "Conditional flow matching (velocity MSE)",
          file: "plugins/losses/cfm.ts",
        },
        {
          kind: "losses",
          name: "eps",
          description: "Noise prediction",
          file: "plugins/losses/eps.ts",
        },
        {
          kind: "models",
          name: kind === "images" ? "unet" : "mlp",
          description: "Small network",
          file: `plugins/models/${kind === "images" ? "unet" : "mlp"}.ts`,
        },
        {
          kind: "solvers",
          name: "euler",
          description: "Explicit Euler, order 1",
          file: "plugins/solvers/euler.ts",
        },
        {
          kind: "solvers",
          name: "dopri5",
          description: "Dormand-Prince 5(4), adaptive",
          file: "plugins/solvers/dopri5.ts",
        },
      ],
      failures: [{
        kind: "solvers",
        file: "plugins/solvers/broken.ts",
        reason:
          'PluginShapeError: solver "broken": member "integrate" must be a function, got undefined',
      }],
    },
    methods: METHODS.map((m) => ({ ...m })),
    headline: kind === "images"
      ? { quality: "fid", nll: "bpd", adaptiveSolver: "dopri5" }
      : { quality: "w2", nll: "nats", adaptiveSolver: "dopri5" },
    runs,
    heldOut: Object.fromEntries(datasets.map((d) => [
      d,
      kind === "images"
        ? { image: imageGrid(subSeed(seed, `held-out ${d}`), "fm-ot") }
        : { points: points2d(d, "fm-ot", subSeed(seed, `held-out ${d}`), 300).points },
    ])),
  };
}

/** Split a complete results file into `count` shards (runs dealt round-robin), as a runner would. */
export function shardFixture(full: ResultsFile, count: number): ResultsFile[] {
  return Array.from({ length: count }, (_, index) => ({
    ...structuredClone(full),
    shard: { index, count },
    manifest: {
      ...structuredClone(full.manifest),
      wallSeconds: 600 + 60 * index,
      startedAt: `2025-01-02T03:0${index}:00.000Z`,
      finishedAt: `2025-01-02T03:1${index}:00.000Z`,
      backend: index === 0 ? "wasm" : "webgpu",
    },
    runs: structuredClone(full.runs.filter((_, i) => i % count === index)),
  }));
}
