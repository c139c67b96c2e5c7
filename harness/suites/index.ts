// The suites fmbench knows: their data sets, default budgets, and how samples are scored.
import { loadToy2d, TOY2D } from "../data/toy2d.ts";
import { type DataSource, vectorSource } from "../data/source.ts";
import { w2 } from "../metrics/w2.ts";
import type { QualityFn } from "../evaluate.ts";
import type { SuiteConfig } from "./types.ts";
import { TOY2D_DATA, TOY2D_DATASETS, TOY2D_EVAL, TOY2D_TRAIN } from "./toy2d.ts";

export interface SuiteDef {
  name: string;
  description: string;
  datasets: string[];
  defaultDatasets: string[];
  defaults: Pick<SuiteConfig, "train" | "eval" | "data">;
  /** Data for one data set of the suite. */
  load(dataset: string, cfg: SuiteConfig): Promise<DataSource>;
  /** How generated samples are scored against held-out data. */
  quality(data: DataSource, cfg: SuiteConfig): Promise<{ fn: QualityFn; dispose(): void }>;
  headline: { quality: "w2" | "fid"; nll: "nats" | "bpd" };
}

const toy2d: SuiteDef = {
  name: "toy2d",
  description: "2-D toy data (moons, 8gaussians, checkerboard, circles); exact W2 and NLL",
  datasets: Object.keys(TOY2D),
  defaultDatasets: TOY2D_DATASETS,
  defaults: { train: TOY2D_TRAIN, eval: TOY2D_EVAL, data: TOY2D_DATA },
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
  headline: { quality: "w2", nll: "nats" },
};

export const SUITES: Record<string, SuiteDef> = { toy2d };
