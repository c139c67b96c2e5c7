// The suites fmbench knows: their data sets, default budgets, and how samples are scored.
import { loadToy2d, TOY2D } from "../data/toy2d.ts";
import { type DataSource, vectorSource } from "../data/source.ts";
import { w2 } from "../metrics/w2.ts";
import type { Quality } from "../evaluate.ts";
import type { SolverSetting, SuiteConfig } from "./types.ts";
import { SOLVER_SETTINGS, TOY2D_DATA, TOY2D_DATASETS, TOY2D_EVAL, TOY2D_TRAIN } from "./toy2d.ts";
import { CIFAR_BUDGETS, cifarQuality, loadCifarSource } from "./cifar10.ts";

/** Budget-dependent defaults of a suite. */
export interface SuiteDefaults {
  train: SuiteConfig["train"];
  eval: SuiteConfig["eval"];
  data: SuiteConfig["data"];
  solvers: Record<string, SolverSetting[]>;
  /** Model preset used unless --preset or NAME:PRESET says otherwise. */
  preset?: string;
}

export interface SuiteDef {
  name: string;
  description: string;
  datasets: string[];
  defaultDatasets: string[];
  /** Named budgets (first is the default) and their descriptions. */
  budgets: Record<string, string>;
  defaults(budget: string, opts: { dataDir: string }): SuiteDefaults;
  /** Data kind, which picks the default model. */
  kind: "vector" | "image";
  /** Data for one data set of the suite. */
  load(dataset: string, cfg: SuiteConfig): Promise<DataSource>;
  /** How generated samples are scored against held-out data. */
  quality(data: DataSource, cfg: SuiteConfig): Promise<Quality>;
  /** The quality metric between two disjoint held-out samples (a perfect model's score). */
  reference?(data: DataSource, cfg: SuiteConfig): Promise<Record<string, number>>;
  headline: { quality: "w2" | "fid"; nll: "nats" | "bpd" };
}

const toy2d: SuiteDef = {
  name: "toy2d",
  description: "2-D toy data (moons, 8gaussians, checkerboard, circles); exact W2 and NLL",
  datasets: Object.keys(TOY2D),
  defaultDatasets: TOY2D_DATASETS,
  budgets: { default: "MLP 3x256, 1000 steps at batch 256, 500 samples per solver setting" },
  defaults: () => ({
    train: TOY2D_TRAIN,
    eval: TOY2D_EVAL,
    data: TOY2D_DATA,
    solvers: SOLVER_SETTINGS,
  }),
  kind: "vector",
  load(dataset, cfg) {
    const d = cfg.data as typeof TOY2D_DATA;
    const s = loadToy2d(dataset, d.nTrain, d.nTest, cfg.seed);
    return Promise.resolve(vectorSource(dataset, s.train, s.test, 2));
  },
  async quality(data, cfg) {
    const n = Math.min(cfg.eval.samples, data.nTest);
    const ref = data.testSet(n);
    const refData = await ref.data() as Float32Array;
    ref.dispose();
    return {
      fn: async (samples) => {
        const got = await samples.data() as Float32Array;
        const m = Math.min(n, samples.shape[0]);
        return { w2: w2(got.subarray(0, m * 2), refData.subarray(0, m * 2), m, 2) };
      },
      dispose() {},
    };
  },
  async reference(data, cfg) {
    const n = Math.min(cfg.eval.samples, Math.floor(data.nTest / 2));
    const all = data.testSet(2 * n);
    const v = await all.data() as Float32Array;
    all.dispose();
    return { w2: w2(v.subarray(0, 2 * n), v.subarray(2 * n, 4 * n), n, 2) };
  },
  headline: { quality: "w2", nll: "nats" },
};

const cifar10: SuiteDef = {
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
    };
  },
  kind: "image",
  load: (_dataset, cfg) => loadCifarSource(cfg.data as never),
  quality: cifarQuality,
  headline: { quality: "fid", nll: "bpd" },
};

export const SUITES: Record<string, SuiteDef> = { toy2d, cifar10 };
