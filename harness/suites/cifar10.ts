// The cifar10 suite: CIFAR-10 32x32 from the official binary files, the U-Net, FID and KID against
// cached training-set statistics (weights downloaded when missing; n/a without them), bits/dim via
// Hutchinson, and budgets.
import { Cifar10Error, loadCifar10, whereToPutFiles } from "../data/cifar10.ts";
import { imageSource } from "../data/image-source.ts";
import type { DataSource } from "../data/source.ts";
import type { Quality } from "../evaluate.ts";
import { firstLine } from "../../core/error-message.ts";
import { tf } from "../../core/tf.ts";
import { computeFid, ensureFidModel, type FidModel } from "../../features/fid.ts";
import { defaultFeatureBatch } from "../../features/image-stats.ts";
import { tfDotProducts } from "../../features/kid.ts";
import { type ReferenceStats, referenceStats } from "../../features/reference-stats.ts";
import { byteProgress } from "../progress.ts";
import type { FeatureMetricProtocol } from "../../results/schema.ts";
import { throwIfStopped } from "../stop.ts";
import type { TrainConfig } from "../train.ts";
import type { EvalConfig, SolverSetting, SuiteDef, SuiteRequest } from "./types.ts";

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

/** KID settings (clean-fid's and torch-fidelity's defaults). */
const KID = { subsets: 100, subsetSize: 1000 };

/** How samples become Inception inputs (features.ts toUnitImages + FidInception.features). */
const PREPROCESSING = "samples in [-1, 1] mapped to [0, 1], clipped and rounded to 8 bits " +
  "(floor(255 x + 0.5) / 255, as a PNG round trip); bilinear resize to 299x299 " +
  "(align_corners=False), scaled to [-1, 1]";

/**
 * The protocol every FID/KID of this suite is computed with (recorded in results.json).
 * @example
 * cifarProtocol(model, ref, 50000).network; // "pytorch-fid InceptionV3 pool3 (2048-d)"
 */
export function cifarProtocol(
  { model, ref, generated }: { model: FidModel; ref: ReferenceStats; generated: number },
): FeatureMetricProtocol {
  const file = model.path.slice(model.path.lastIndexOf("/") + 1);
  return {
    network: "pytorch-fid InceptionV3 pool3 (2048-d)",
    weights: {
      file,
      sha256: model.sha256,
      contentSha256: model.contentSha256,
      published: model.publishedFile,
    },
    reference: {
      dataset: ref.provenance.dataset,
      split: ref.provenance.split,
      n: ref.provenance.n,
      kidFeatures: ref.provenance.kidFeatures,
    },
    generated,
    preprocessing: PREPROCESSING,
    kid: {
      subsets: KID.subsets,
      subsetSize: Math.min(KID.subsetSize, generated, ref.provenance.kidFeatures),
      kernel: "(x.y/d + 1)^3",
      estimator: "unbiased MMD^2, mean and std over subsets",
    },
  };
}

/** Why FID is n/a, per data dir: the download is tried once per process, not once per run. */
const unavailable = new Map<string, string>();

/**
 * FID and KID of generated samples against cached training statistics, or n/a notes.
 * @example
 * const quality = await cifarQuality({ data: source, config, seed: 0 }); // quality.notes: why FID is n/a, if it is
 */
export async function cifarQuality(
  { data, config: cfg, seed }: SuiteRequest<CifarData> & { data: DataSource },
): Promise<Quality> {
  const d = cfg.data;
  const known = unavailable.get(d.dataDir);
  const model = known !== undefined
    ? await ensureFidModel({ dataDir: d.dataDir, download: false })
    : await ensureFidModel({
      dataDir: d.dataDir,
      onProgress: byteProgress("fid: Inception weights"),
      log: (line) => console.error(`fid: ${line}`),
    });
  if (!model.available) {
    if (known === undefined) console.error(`fid: ${model.reason}`);
    const reason = known ?? model.reason;
    unavailable.set(d.dataDir, reason);
    const notes = { fid: reason, kid: reason };
    return { fn: () => Promise.resolve({}), notes, dispose() {} };
  }
  const batch = d.fidBatch > 0 ? d.fidBatch : defaultFeatureBatch(tf.getBackend());
  const n = Math.min(d.fidReference, data.nTrain);
  const ref = await referenceStats({
    dataDir: d.dataDir,
    dataset: "cifar10",
    split: "train",
    n,
    kidFeatures: Math.min(d.kidReference, n),
    extractor: model.extractor,
    weightsSha256: model.contentSha256,
    images: (offset, count) => Promise.resolve(data.trainImages!(offset, count)),
    range: [-1, 1],
    batch,
    onProgress: (done, total) =>
      done === total && console.error(`fid: reference statistics of ${total} images`),
    log: (line) => console.error(`fid: ${line}`),
  });
  return {
    async fn(samples, stop) {
      let offset = 0;
      const r = await computeFid({
        extractor: model.extractor,
        reference: ref.stats,
        referenceFeatures: ref.features,
        kid: { ...KID, seed, dot: tfDotProducts },
        n: samples.shape[0],
        range: [-1, 1],
        batch,
        generate: (count) => {
          throwIfStopped(stop); // between Inception batches
          const slice = samples.slice(offset, count);
          offset += count;
          return Promise.resolve(slice);
        },
      });
      return { fid: r.fid, ...(r.kid ? { kid: r.kid.mean, kid_std: r.kid.std } : {}) };
    },
    protocol: cifarProtocol({ model, ref, generated: cfg.eval.samples }),
    dispose() {
      model.extractor.dispose();
    },
  };
}

/**
 * The cifar10 suite: FID against training-set statistics and bits/dim on the test set.
 * @example
 * cifar10Suite.smokeBudgets; // ["quick"]
 */
export const cifar10Suite: SuiteDef<CifarData> = {
  name: "cifar10",
  description: "CIFAR-10 32x32 (official binary files); FID and bits/dim; U-Net",
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
  quality: cifarQuality,
  headline: { quality: "fid", nll: "bpd" },
};
