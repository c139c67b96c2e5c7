// The cifar10 suite: CIFAR-10 32x32 from the official binary files, the U-Net, FID against cached
// training-set statistics (n/a without Inception weights), bits/dim via Hutchinson, and budgets.
import { Cifar10Error, loadCifar10, whereToPutFiles } from "../data/cifar10.ts";
import { imageSource } from "../data/image-source.ts";
import type { DataSource } from "../data/source.ts";
import type { Quality } from "../evaluate.ts";
import { firstLine } from "../error-message.ts";
import { computeFid, inceptionPath, loadFidModel } from "../metrics/fid/fid.ts";
import { prepareGaussian } from "../metrics/fid/frechet.ts";
import { referenceStats } from "../metrics/fid/reference-stats.ts";
import type { TrainConfig } from "../train.ts";
import type { EvalConfig, SolverSetting, SuiteConfig, SuiteDef } from "./types.ts";

/** The cifar10 suite's data settings. */
export type CifarData = {
  dataDir: string;
  /** Training images read (all 50,000 by default; fewer for quick runs). */
  trainLimit: number;
  testLimit: number;
  /** Training images behind the FID reference statistics. */
  fidReference: number;
};

/** A budget: model preset, training, evaluation and solver settings that go together. */
export interface CifarBudget {
  description: string;
  preset: string;
  train: Omit<TrainConfig, "seed">;
  eval: EvalConfig;
  data: Omit<CifarData, "dataDir">;
  solvers: Record<string, SolverSetting[]>;
}

/**
 * Bits/dim on n test images: Hutchinson divergence with one Rademacher probe at tolerance tol,
 * with K uniform dequantisation samples per image (log-mean-exp).
 */
function imageNll(n: number, tol: number, dequant: number): EvalConfig["nll"] {
  return {
    n,
    estimators: ["hutchinson"],
    probes: 1,
    noise: "rademacher",
    rtol: tol,
    atol: tol,
    dequant,
  };
}

/** Budgets, from a CPU smoke run to Lipman et al.'s protocol. */
export const CIFAR_BUDGETS: Record<string, CifarBudget> = {
  quick: {
    description:
      "a smoke run on any machine: tiny U-Net, 40 steps, 32 samples, ~4 min per method on " +
      "2 CPU cores (numbers are not meaningful)",
    preset: "tiny",
    train: {
      steps: 40,
      batch: 16,
      lr: 2e-4,
      warmup: 10,
      clip: 1,
      ema: 0,
      minutes: 0,
      logEvery: 10,
    },
    eval: {
      samples: 32,
      nll: imageNll(4, 1e-3, 2),
      straightnessSteps: 4,
      trajectories: 0,
      reflowPairs: 64,
    },
    data: { trainLimit: 2000, testLimit: 500, fidReference: 500 },
    solvers: {
      euler: [{ steps: 1 }, { steps: 2 }, { steps: 4 }],
      rk4: [{ steps: 1 }],
      "dopri5-torchdiffeq": [{ rtol: 1e-3, atol: 1e-3 }],
    },
  },
  small: {
    description: "a GPU run of about an hour per method: small U-Net, 20 min wall-clock budget",
    preset: "small",
    train: {
      steps: 200_000,
      batch: 128,
      lr: 2e-4,
      warmup: 1000,
      clip: 1,
      ema: 0.9999,
      minutes: 20,
      logEvery: 100,
      microBatch: 32,
    },
    eval: {
      samples: 5000,
      nll: imageNll(1000, 1e-5, 5),
      straightnessSteps: 100,
      trajectories: 0,
      reflowPairs: 50_000,
    },
    data: { trainLimit: 50_000, testLimit: 10_000, fidReference: 50_000 },
    solvers: {
      euler: [1, 2, 4, 8, 16, 32, 100].map((steps) => ({ steps })),
      midpoint: [2, 4, 8, 16, 50].map((steps) => ({ steps })),
      rk4: [1, 2, 4, 8, 25].map((steps) => ({ steps })),
      "dopri5-torchdiffeq": [{ rtol: 1e-5, atol: 1e-5 }],
    },
  },
  paper: {
    description: "Lipman et al.'s protocol: paper U-Net (~36M), 50,000 FID samples, dopri5 at 1e-5",
    preset: "paper",
    train: {
      steps: 400_000,
      batch: 128,
      lr: 5e-4,
      warmup: 5000,
      clip: 1,
      ema: 0.9999,
      minutes: 0,
      logEvery: 500,
      microBatch: 8,
    },
    eval: {
      samples: 50_000,
      nll: imageNll(10_000, 1e-5, 20),
      straightnessSteps: 100,
      trajectories: 0,
      reflowPairs: 100_000,
    },
    data: { trainLimit: 50_000, testLimit: 10_000, fidReference: 50_000 },
    solvers: {
      euler: [{ steps: 100 }],
      "dopri5-torchdiffeq": [{ rtol: 1e-5, atol: 1e-5 }],
    },
  },
};

const cache = new Map<string, DataSource>();

/** Load CIFAR-10 once per (dataDir, limits); downloads when absent (see harness/data/cifar10.ts). */
export async function loadCifarSource(d: CifarData): Promise<DataSource> {
  const key = `${d.dataDir}|${d.trainLimit}|${d.testLimit}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const onProgress = (p: { phase: string; message: string }) => {
    if (p.phase !== "read") console.error(`cifar10: ${p.message}`);
  };
  const train = await loadCifar10({
    dataDir: d.dataDir,
    split: "train",
    limit: d.trainLimit,
    onProgress,
  });
  const test = await loadCifar10({
    dataDir: d.dataDir,
    split: "test",
    limit: d.testLimit,
    onProgress,
  });
  const src = imageSource("cifar10", train, test, [32, 32, 3]);
  cache.set(key, src);
  return src;
}

/** FID of generated samples against cached training statistics, or an n/a note. */
export async function cifarQuality(
  data: DataSource,
  cfg: SuiteConfig<CifarData>,
): Promise<Quality> {
  const d = cfg.data;
  const model = await loadFidModel(inceptionPath(d.dataDir));
  if (!model.available) {
    return { fn: () => Promise.resolve({}), notes: { fid: model.reason }, dispose() {} };
  }
  const ref = await referenceStats({
    dataDir: d.dataDir,
    dataset: "cifar10",
    split: "train",
    n: Math.min(d.fidReference, data.nTrain),
    extractor: model.extractor,
    weightsSha256: model.contentSha256,
    images: (offset, count) => Promise.resolve(data.trainImages!(offset, count)),
    range: [-1, 1],
    onProgress: (done, n) =>
      done === n && console.error(`fid: reference statistics of ${n} images`),
  });
  const reference = prepareGaussian(ref.stats);
  return {
    async fn(samples) {
      let offset = 0;
      const { fid } = await computeFid({
        extractor: model.extractor,
        reference,
        n: samples.shape[0],
        range: [-1, 1],
        generate: (count) => {
          const batch = samples.slice(offset, count);
          offset += count;
          return Promise.resolve(batch);
        },
      });
      return { fid };
    },
    notes: {
      fid: `FID vs ${ref.provenance.n} training images; Inception sha256 ${
        model.sha256.slice(0, 16)
      }`,
    },
    dispose() {},
  };
}

/** The cifar10 suite: FID against training-set statistics and bits/dim on the test set. */
export const cifar10Suite: SuiteDef<CifarData> = {
  name: "cifar10",
  description: "CIFAR-10 32x32 (official binary files); FID and bits/dim; U-Net",
  datasets: ["cifar10"],
  defaultDatasets: ["cifar10"],
  budgets: Object.fromEntries(Object.entries(CIFAR_BUDGETS).map(([k, b]) => [k, b.description])),
  defaults(budget, { dataDir }) {
    const b = CIFAR_BUDGETS[budget];
    return {
      train: b.train,
      eval: b.eval,
      data: { ...b.data, dataDir },
      solvers: b.solvers,
      preset: b.preset,
      // NFE beside the published rows: counted with torchdiffeq's controller, as those papers did.
      adaptiveSolver: "dopri5-torchdiffeq",
    };
  },
  kind: "image",
  async preflight(cfg) {
    // Load the data once up front: a missing data set is one clear error, not a failed run each.
    try {
      await loadCifarSource(cfg.data);
      return undefined;
    } catch (e) {
      // The loader's own errors already say where the files go; wrap anything else.
      return e instanceof Cifar10Error
        ? e.message
        : whereToPutFiles(cfg.data.dataDir, firstLine(e));
    }
  },
  load: (_dataset, cfg) => loadCifarSource(cfg.data),
  quality: cifarQuality,
  headline: { quality: "fid", nll: "bpd" },
};
