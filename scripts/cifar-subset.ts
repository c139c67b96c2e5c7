// A CIFAR-10 subset that fmbench's loader reads as the binary version: the first N training and
// M test records, each file padded to 10,000 records with records labelled 255, which the loader
// rejects if it ever reads that far (so a run can never train on padding). Compresses to ~N+M
// images' worth of bytes.
// Usage: deno run --allow-read --allow-write scripts/cifar-subset.ts SRC_DIR DEST_DIR N M
import { join } from "node:path";
import {
  CIFAR10_FOLDER,
  CIFAR10_RECORD_BYTES,
  CIFAR10_RECORDS_PER_FILE,
} from "../harness/data/cifar10.ts";

/**
 * Label byte of the padding records: outside 0..9, so reading one is an error.
 * @example
 * subsetFile(full, 2000)[2000 * CIFAR10_RECORD_BYTES]; // 255: the first padding record's label
 */
export const PADDING_LABEL = 255;

/**
 * The first `keep` records of a CIFAR-10 binary file followed by padding records up to 10,000.
 * @example
 * const bytes = subsetFile(await Deno.readFile("data_batch_1.bin"), 2000);
 */
export function subsetFile(full: Uint8Array, keep: number): Uint8Array {
  const R = CIFAR10_RECORD_BYTES, n = CIFAR10_RECORDS_PER_FILE;
  if (!Number.isInteger(keep) || keep < 1 || keep > n) {
    throw new Error(`records to keep must be an integer in 1..${n}, got ${keep}`);
  }
  if (full.length !== R * n) {
    throw new Error(`expected a ${R * n}-byte CIFAR-10 batch file, got ${full.length} bytes`);
  }
  const out = new Uint8Array(R * n);
  out.set(full.subarray(0, keep * R));
  for (let r = keep; r < n; r++) out[r * R] = PADDING_LABEL;
  return out;
}

if (import.meta.main) {
  const [src, dest, train, test] = Deno.args;
  if (!src || !dest || !train || !test) {
    console.error("usage: scripts/cifar-subset.ts SRC_DIR DEST_DIR TRAIN_RECORDS TEST_RECORDS");
    Deno.exit(2);
  }
  const folder = join(dest, CIFAR10_FOLDER);
  await Deno.mkdir(folder, { recursive: true });
  for (const [name, keep] of [["data_batch_1.bin", train], ["test_batch.bin", test]]) {
    const bytes = subsetFile(await Deno.readFile(join(src, name)), Number(keep));
    await Deno.writeFile(join(folder, name), bytes);
  }
  await Deno.writeTextFile(
    join(folder, "SUBSET.md"),
    `CIFAR-10 subset for fmbench's GPU proof: data_batch_1.bin holds the first ${train} records ` +
      `of ${src}/data_batch_1.bin and test_batch.bin the first ${test} of its test_batch.bin; ` +
      `the rest of each file is padding labelled ${PADDING_LABEL} (an error if read). ` +
      `Use --budget quick (2,000 training and 500 test images) or limits within these counts.\n`,
  );
  console.error(`wrote ${folder} (${train} training, ${test} test records)`);
}
