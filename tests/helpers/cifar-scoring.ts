// Test helpers for scoring cifar10 samples without the data set: seeded random 8-bit images and a
// quick-budget cifar10 config with small FID and KID reference sets.
import { rng } from "../../core/rng.ts";
import { CIFAR_BUDGETS, type CifarData } from "../../harness/suites/cifar10.ts";
import type { SuiteConfig } from "../../harness/suites/types.ts";

/**
 * n seeded random 32x32x3 images (values 0-255), in the shape image sources take.
 * @example
 * imageSource("cifar10", randomImages(4, 1), randomImages(2, 2), [32, 32, 3]);
 */
export function randomImages(n: number, seed: number): { images: Uint8Array; n: number } {
  const u = rng(seed);
  return { images: Uint8Array.from({ length: n * 32 * 32 * 3 }, () => Math.floor(256 * u())), n };
}

/**
 * The quick cifar10 budget's config with no grid, `samples` per evaluation, data in `dataDir`
 * and `reference` images for both FID and KID statistics (`kidReference` apart where given).
 * @example
 * const config = quickCifarConfig({ dataDir: dir, samples: 3, reference: 4, kidReference: 3 });
 */
export function quickCifarConfig(
  o: { dataDir: string; samples: number; reference: number; kidReference?: number },
): SuiteConfig<CifarData> {
  const b = CIFAR_BUDGETS.quick;
  return {
    suite: "cifar10",
    datasets: ["cifar10"],
    methods: [],
    models: [],
    solvers: [],
    adaptiveSolver: "dopri5",
    train: b.train,
    eval: { ...b.eval, samples: o.samples },
    seeds: [0],
    data: {
      ...b.data,
      dataDir: o.dataDir,
      fidReference: o.reference,
      kidReference: o.kidReference ?? o.reference,
      budget: "quick",
    },
  };
}
