// Test helper: a CIFAR-10 folder in the official binary layout (full-size files: the loader checks
// sizes) whose first records are seeded random images and the rest black.
import { join } from "node:path";
import { rng } from "../../core/rng.ts";
import {
  CIFAR10_FOLDER,
  CIFAR10_RECORD_BYTES,
  CIFAR10_RECORDS_PER_FILE,
  CIFAR10_TEST_FILES,
  CIFAR10_TRAIN_FILES,
} from "../../harness/data/cifar10.ts";

/**
 * Write `<dir>/cifar-10-batches-bin/` with `records` random images at the start of each file
 * (labels 0-9), the rest of its 10,000 records black.
 * @example
 * await writeTinyCifar(await Deno.makeTempDir(), 8); // then --data-dir that folder
 */
export async function writeTinyCifar(dir: string, records = 8, seed = 1): Promise<void> {
  const folder = join(dir, CIFAR10_FOLDER);
  await Deno.mkdir(folder, { recursive: true });
  const u = rng(seed);
  for (const name of [...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES]) {
    const buf = new Uint8Array(CIFAR10_RECORDS_PER_FILE * CIFAR10_RECORD_BYTES);
    for (let r = 0; r < records; r++) {
      buf[r * CIFAR10_RECORD_BYTES] = r % 10;
      for (let i = 1; i < CIFAR10_RECORD_BYTES; i++) {
        buf[r * CIFAR10_RECORD_BYTES + i] = Math.floor(256 * u());
      }
    }
    await Deno.writeFile(join(folder, name), buf);
  }
}
