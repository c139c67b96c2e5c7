// The cifar10 suite: CIFAR-10 32x32 from the official binary files, the U-Net, the image metrics
// (FID, KID, precision/recall, ...) on Inception/DINOv2 features against cached training-set
// statistics (weights downloaded when missing; n/a without them), bits/dim via Hutchinson, budgets.
import { Cifar10Error, loadCifar10, whereToPutFiles } from "../data/cifar10.ts";
import { imageSource } from "../data/image-source.ts";
import type { DataSource } from "../data/source.ts";
import { firstLine } from "../../core/error-message.ts";
import type { TrainConfig } from "../train.ts";
import { IMAGE_FEATURES, imageFeatureSource } from "./image-features.ts";
import type { EvalConfig, SolverSetting, SuiteDef } from "./types.ts";

/** The cifar10 suite's data settings. */
export type CifarData = {
  dataDir: string;
  /** Training images read (all 50,000 by default; fewer for quick runs). */
  trainLimit: number;
  testLimit: number;
  /** Training images behind the FID reference statistics. */
  fidReference: number;
  /** Of those, how many images' features KID compares against (the first ones). */
  kidReference: number;
  /** Images per Inception forward pass; 0 = by backend (50 on CPU, 500 on GPU backends). */
  fidBatch: number;
};

/** A budget: model preset, training, evaluation and solver settings that go together. */
export interface CifarBudget {
  description: string;
  preset: string;
  train: Omit<TrainConfig, "seed">;
  eval: EvalConfig;
  data: Omit<CifarData, "dataDir">;
  solvers: Record<string, SolverSetting[]>;
  /** Seeds run per (method, model); --seed/--seeds override. */
  seeds: number;
  /** The model trained unless --models says otherwise (default: the unet plugin). */
  model?: string;
  /** The methods run unless --methods says otherwise (default: every method). */
  methods?: string[];
  /** A published recipe: where its fields come from. */
  recipe?: { source: string; notes?: string };
}

/** PyTorch's Adam (betas 0.9, 0.999; epsilon 1e-8; no weight decay), which both recipes use. */
const TORCH_ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** FID of 50,000 samples against the 50,000 training images, as both papers report it. */
const FULL_FID = {
  trainLimit: 50_000,
  testLimit: 10_000,
  fidReference: 50_000,
  kidReference: 10_000,
  fidBatch: 0,
};

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

/**
 * Budgets, from a CPU smoke run to Lipman et al.'s protocol.
 * @example
 * CIFAR_BUDGETS["quick"].preset; // "tiny"
 */
export const CIFAR_BUDGETS: Record<string, CifarBudget> = {
  quick: {
    description:
      "a smoke run on any machine: tiny U-Net, 40 steps, 32 samples, 1 seed, about 15-40 s of " +
      "CPU per method (the 10 methods: 260 s of CPU, ~2-4 min on 2 cores); numbers are not " +
      "meaningful",
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
    data: { trainLimit: 2000, testLimit: 500, fidReference: 500, kidReference: 500, fidBatch: 0 },
    solvers: {
      euler: [{ steps: 1 }, { steps: 2 }, { steps: 4 }],
      rk4: [{ steps: 1 }],
      "dopri5-torchdiffeq": [{ rtol: 1e-3, atol: 1e-3 }],
    },
    seeds: 1,
  },
  small: {
    description:
      "a GPU run of about an hour per method: small U-Net, 20 min wall-clock budget, 1 seed",
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
    data: {
      trainLimit: 50_000,
      testLimit: 10_000,
      fidReference: 50_000,
      kidReference: 10_000,
      fidBatch: 0,
    },
    solvers: {
      euler: [1, 2, 4, 8, 16, 32, 100].map((steps) => ({ steps })),
      midpoint: [2, 4, 8, 16, 50].map((steps) => ({ steps })),
      rk4: [1, 2, 4, 8, 25].map((steps) => ({ steps })),
      "dopri5-torchdiffeq": [{ rtol: 1e-5, atol: 1e-5 }],
    },
    seeds: 1,
  },
  paper: {
    description:
      "Lipman et al.'s protocol: paper U-Net (~36M), 50,000 FID samples, dopri5 at 1e-5, 1 seed",
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
    data: {
      trainLimit: 50_000,
      testLimit: 10_000,
      fidReference: 50_000,
      kidReference: 10_000,
      fidBatch: 0,
    },
    solvers: {
      euler: [{ steps: 100 }],
      "dopri5-torchdiffeq": [{ rtol: 1e-5, atol: 1e-5 }],
    },
    seeds: 1,
  },
  torchcfm: {
    description: "TorchCFM's CIFAR-10 recipe exactly (Tong et al.): adm-unet:torchcfm, Adam lr " +
      "2e-4, batch 128, warm-up 5,000 steps then constant, clip 1.0, EMA 0.9999, 400,001 steps, " +
      "sigma 0; FID of 50,000 samples by dopri5 at 1e-5 (a GPU budget)",
    recipe: {
      source: "atong01/conditional-flow-matching examples/images/cifar10/train_cifar10.py and " +
        "compute_fid.py",
      notes: "sigma 0: OT-CFM is linear/minibatch-ot/cfm (OT-CFM (sigma 0)), I-CFM is 1-RF; " +
        "LambdaLR warm-up min(step, 5000) / 5000 from the first step at lr 0",
    },
    preset: "torchcfm",
    model: "adm-unet",
    methods: ["OT-CFM (sigma 0)", "1-RF"],
    train: {
      steps: 400_001,
      batch: 128,
      lr: 2e-4,
      warmup: 5000,
      warmupFrom: "zero",
      adam: TORCH_ADAM,
      clip: 1,
      ema: 0.9999,
      minutes: 0,
      logEvery: 500,
      microBatch: 8,
    },
    eval: {
      samples: 50_000,
      nll: imageNll(1000, 1e-5, 1),
      straightnessSteps: 100,
      trajectories: 0,
      reflowPairs: 100_000,
    },
    data: FULL_FID,
    solvers: {
      euler: [{ steps: 100 }],
      "dopri5-torchdiffeq": [{ rtol: 1e-5, atol: 1e-5 }],
    },
    seeds: 1,
  },
  lipman: {
    description: "Lipman et al.'s CIFAR-10 recipe (their Table 3): adm-unet:lipman, effective " +
      "batch 256, Adam lr 5e-4 (0.9, 0.999, eps 1e-8, no weight decay), 45,000 warm-up steps " +
      "then polynomial decay, 391,000 iterations; bits/dim with K = 50, FID of 50,000 samples " +
      "(a GPU budget)",
    recipe: {
      source: "Lipman et al. 2023, Flow Matching for Generative Modeling, Table 3 and Table 4",
      notes: "polynomial decay of power 1 to 0 assumed (the paper names the schedule, not its " +
        "parameters); bits/dim K = 50 because their Table 1 NLL is the K = 50 column of Table 4",
    },
    preset: "lipman",
    model: "adm-unet",
    methods: ["FM w/ OT", "FM w/ Diffusion"],
    train: {
      steps: 391_000,
      batch: 256,
      lr: 5e-4,
      warmup: 45_000,
      decay: { kind: "polynomial", power: 1, endLr: 0 },
      adam: TORCH_ADAM,
      clip: 0,
      ema: 0.9999,
      minutes: 0,
      logEvery: 500,
      microBatch: 8,
    },
    eval: {
      samples: 50_000,
      nll: imageNll(10_000, 1e-5, 50),
      straightnessSteps: 100,
      trajectories: 0,
      reflowPairs: 100_000,
    },
    data: FULL_FID,
    solvers: {
      euler: [{ steps: 100 }],
      "dopri5-torchdiffeq": [{ rtol: 1e-5, atol: 1e-5 }],
    },
    seeds: 1,
  },
};

const cache = new Map<string, DataSource>();

/**
 * Load CIFAR-10 once per (dataDir, limits); downloads when absent (see harness/data/cifar10.ts).
 * @example
 * const source = await loadCifarSource(config.data); // source.shape: [32, 32, 3]
 */
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

/**
 * The cifar10 suite: FID against training-set statistics and bits/dim on the test set.
 * @example
 * cifar10Suite.smokeBudgets; // ["quick"]
 */
export const cifar10Suite: SuiteDef<CifarData> = {
  name: "cifar10",
  description: "CIFAR-10 32x32 (official binary files); FID, KID, precision/recall, " +
    "density/coverage, Inception Score and bits/dim; U-Net",
  datasets: ["cifar10"],
  defaultDatasets: ["cifar10"],
  budgets: Object.fromEntries(Object.entries(CIFAR_BUDGETS).map(([k, b]) => [k, b.description])),
  smokeBudgets: ["quick"],
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
      seeds: b.seeds,
      model: b.model,
      methods: b.methods,
      recipe: b.recipe,
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
  load: ({ config }) => loadCifarSource(config.data),
  features: IMAGE_FEATURES,
  featureSource: ({ data, config, wanted }) =>
    imageFeatureSource({ data, settings: config.data, generated: config.eval.samples, wanted }),
  headline: { quality: "fid", nll: "bpd" },
};
