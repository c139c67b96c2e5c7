// CIFAR-10 (binary version) loader: finds or downloads, verifies and extracts the archive, parses
// records into NHWC bytes, and turns batches into [-1, 1] tensors with random horizontal flips.
import { join, resolve } from "node:path";
import { rng } from "../../core/rng.ts";
import { type Tensor, tf } from "../../core/tf.ts";
import { verifyMd5 } from "../../store/md5.ts";
import { extractTarGz, TarError } from "../../store/tar.ts";
import { moveAside } from "../../store/move-aside.ts";
import { dataDirOf } from "../../store/folders.ts";

/**
 * Official download address of the binary version.
 * @example
 * const response = await fetch(CIFAR10_URL); // cifar-10-binary.tar.gz, checked with CIFAR10_MD5
 */
export const CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/**
 * MD5 of cifar-10-binary.tar.gz as published on the CIFAR-10 page.
 * @example
 * await verifyMd5(join(dataDir, CIFAR10_ARCHIVE), CIFAR10_MD5);
 */
export const CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
/**
 * Archive file name (in the data folder).
 * @example
 * join(resolveDataDir(), CIFAR10_ARCHIVE); // "/home/me/fmbench/data/cifar-10-binary.tar.gz"
 */
export const CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz";
/**
 * The folder the archive extracts to, in the data folder; it holds the batch files.
 * @example
 * join(resolveDataDir(), CIFAR10_FOLDER, CIFAR10_TEST_FILES[0]);
 * // "/home/me/fmbench/data/cifar-10-batches-bin/test_batch.bin"
 */
export const CIFAR10_FOLDER = "cifar-10-batches-bin";
/**
 * One record: 1 label byte then 1024 R, 1024 G, 1024 B bytes (row-major 32x32).
 * @example
 * CIFAR10_RECORDS_PER_FILE * CIFAR10_RECORD_BYTES; // 30730000: the size of each batch file
 */
export const CIFAR10_RECORD_BYTES = 3073;
/**
 * Records (images) in each of the six batch files.
 * @example
 * CIFAR10_TRAIN_FILES.length * CIFAR10_RECORDS_PER_FILE; // 50000 training images
 */
export const CIFAR10_RECORDS_PER_FILE = 10000;
/**
 * The training split's batch files, in order.
 * @example
 * CIFAR10_TRAIN_FILES[0]; // "data_batch_1.bin"
 */
export const CIFAR10_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
/**
 * The test split's batch file.
 * @example
 * CIFAR10_TEST_FILES; // ["test_batch.bin"]
 */
export const CIFAR10_TEST_FILES = ["test_batch.bin"];
/**
 * The class names, indexed by label byte (0..9).
 * @example
 * CIFAR10_CLASSES[data.labels[0]]; // e.g. "cat" for label 3
 */
export const CIFAR10_CLASSES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

const SIDE = 32;
const PIXELS = SIDE * SIDE;

/** A progress or status event while obtaining or reading the data. */
export interface Cifar10Progress {
  phase: "download" | "verify" | "retry" | "extract" | "read";
  message: string;
  /** Bytes done and total (download: total from Content-Length when the server sends it). */
  bytes?: number;
  total?: number;
}

export interface LoadCifar10Options {
  /** Folder holding cifar-10-batches-bin/ (default: env FMBENCH_DATA_DIR, else "data"). */
  dataDir?: string;
  split: "train" | "test";
  /** Read only the first `limit` records of the split (in file order). */
  limit?: number;
  /** Allow downloading when the data is absent (default true). */
  download?: boolean;
  onProgress?: (p: Cifar10Progress) => void;
  /** Mirror or test overrides of the source; defaults are the official URL and MD5. */
  url?: string;
  md5?: string;
  fetch?: typeof fetch;
  /** Records per file (10000 for the real data; tests use tiny files). */
  recordsPerFile?: number;
}

/** A split in memory: images N*32*32*3 bytes in NHWC (interleaved RGB), labels 0..9. */
export interface Cifar10Data {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

/**
 * Raised when the data is missing, cannot be obtained, or a file is malformed.
 * @example
 * throw new Cifar10Error(whereToPutFiles(dataDir, "the download failed"));
 */
export class Cifar10Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Cifar10Error";
  }
}

/**
 * The data folder: the argument, else env FMBENCH_DATA_DIR, else "data".
 * @example
 * resolveDataDir("data"); // "/home/me/fmbench/data" (an absolute path)
 */
export function resolveDataDir(dataDir?: string): string {
  let env: string | undefined;
  try {
    env = Deno.env.get("FMBENCH_DATA_DIR");
  } catch {
    env = undefined; // no --allow-env: fall back to the default
  }
  return resolve(dataDirOf(dataDir, env));
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function removeIfThere(path: string): Promise<void> {
  await Deno.remove(path, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/**
 * The message that says exactly where to put the files by hand.
 * @example
 * whereToPutFiles("data", "no network access");
 * // "CIFAR-10 is not available: no network access.\nPut the binary version here: ..."
 */
export function whereToPutFiles(dataDir: string, reason: string, md5 = CIFAR10_MD5): string {
  const dir = resolve(dataDir);
  return [
    `CIFAR-10 is not available: ${reason}.`,
    `Put the binary version here: ${join(dir, CIFAR10_FOLDER)}/ holding ` +
    `${[...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES].join(", ")} ` +
    `(${CIFAR10_RECORDS_PER_FILE * CIFAR10_RECORD_BYTES} bytes each),`,
    `or the archive itself here: ${join(dir, CIFAR10_ARCHIVE)} (MD5 ${md5}), ` +
    `downloaded from ${CIFAR10_URL} (it is verified and extracted on the next run;`,
    `by hand: tar -xzf ${CIFAR10_ARCHIVE} -C ${dir}).`,
    `Another folder can be used with --data-dir or FMBENCH_DATA_DIR.`,
  ].join("\n");
}

interface Source {
  url: string;
  md5: string;
  fetch: typeof fetch;
  report: (p: Cifar10Progress) => void;
}

/** Stream the URL into `dest`; returns bytes written and the announced length (if any). */
async function downloadOnce(
  src: Source,
  dest: string,
): Promise<{ bytes: number; total?: number }> {
  const res = await src.fetch(src.url); // throws on no network: the caller reports that
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Cifar10Error(`GET ${src.url} answered HTTP ${res.status} ${res.statusText}`);
  }
  const len = Number(res.headers.get("content-length"));
  const total = Number.isFinite(len) && len > 0 ? len : undefined;
  let bytes = 0;
  let lastReport = 0;
  using file = await Deno.open(dest, { write: true, create: true, truncate: true });
  try {
    for await (const chunk of res.body) {
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
      bytes += chunk.length;
      if (bytes - lastReport >= (1 << 20) || bytes === total) {
        lastReport = bytes;
        const pct = total ? ` (${((100 * bytes) / total).toFixed(1)}%)` : "";
        src.report({ phase: "download", bytes, total, message: `downloaded ${bytes} bytes${pct}` });
      }
    }
  } catch (e) {
    // A connection dropped mid-body leaves a partial file: the size check below reports it.
    src.report({ phase: "download", bytes, total, message: `download interrupted: ${e}` });
  }
  return { bytes, total };
}

/** Check an archive's MD5; report and delete it when it does not match. */
async function archiveOk(path: string, src: Source, what: string): Promise<boolean> {
  src.report({ phase: "verify", message: `verifying MD5 of ${what} ${path}` });
  const check = await verifyMd5(path, src.md5);
  if (check.ok) return true;
  // Delete first, then say so: the message is only printed once it is true.
  await Deno.remove(path);
  src.report({
    phase: "retry",
    message:
      `${what} ${path} is corrupt (MD5 ${check.actual}, expected ${check.expected}); deleted`,
  });
  return false;
}

/** Download with one retry on a partial or corrupt file; leaves a verified archive at `archive`. */
async function downloadArchive(dataDir: string, archive: string, src: Source): Promise<void> {
  const part = `${archive}.part`;
  let lastProblem = "";
  for (let attempt = 1; attempt <= 2; attempt++) {
    src.report({ phase: "download", message: `downloading ${src.url} (attempt ${attempt} of 2)` });
    let got: { bytes: number; total?: number };
    try {
      got = await downloadOnce(src, part);
    } catch (e) {
      await removeIfThere(part);
      const why = e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied
        ? `no network permission (run with --allow-net): ${e.message}`
        : `download failed (${e instanceof Error ? e.message : e})`;
      throw new Cifar10Error(whereToPutFiles(dataDir, why, src.md5));
    }
    if (got.total !== undefined && got.bytes !== got.total) {
      lastProblem = `partial download: got ${got.bytes} of ${got.total} bytes`;
      await Deno.remove(part);
      src.report({ phase: "retry", message: `${lastProblem}; deleted ${part}` });
      continue;
    }
    if (await archiveOk(part, src, "downloaded archive")) {
      await Deno.rename(part, archive);
      return;
    }
    lastProblem = `downloaded archive failed the MD5 check (expected ${src.md5})`;
  }
  throw new Cifar10Error(whereToPutFiles(dataDir, `${lastProblem}, twice`, src.md5));
}

/** Extract the archive next to itself, then move the folder into place and drop the archive. */
async function extractArchive(dataDir: string, archive: string, src: Source): Promise<void> {
  const tmp = join(dataDir, ".cifar-10-extracting");
  await removeIfThere(tmp);
  src.report({ phase: "extract", message: `extracting ${archive}` });
  try {
    await extractTarGz(archive, tmp);
  } catch (e) {
    if (!(e instanceof TarError)) throw e;
    // It passed its checksum, so fetching it again gives the same bytes: keep it aside, say why.
    await removeIfThere(tmp);
    const backup = await moveAside(archive);
    throw new Cifar10Error(
      whereToPutFiles(dataDir, `${e.message}; moved it to ${backup ?? "(gone)"}`, src.md5),
    );
  }
  const inner = join(tmp, CIFAR10_FOLDER);
  if (!(await exists(inner))) {
    throw new Cifar10Error(`${archive} has no ${CIFAR10_FOLDER}/ folder: not the binary version`);
  }
  await Deno.rename(inner, join(dataDir, CIFAR10_FOLDER));
  await removeIfThere(tmp);
  await Deno.remove(archive);
}

/** Make sure `<dataDir>/cifar-10-batches-bin/` exists: use a local archive or download one. */
async function ensureFolder(dataDir: string, opts: LoadCifar10Options): Promise<string> {
  const folder = join(dataDir, CIFAR10_FOLDER);
  if (await exists(folder)) return folder;
  const src: Source = {
    url: opts.url ?? CIFAR10_URL,
    md5: opts.md5 ?? CIFAR10_MD5,
    fetch: opts.fetch ?? fetch,
    report: opts.onProgress ?? (() => {}),
  };
  const archive = join(dataDir, CIFAR10_ARCHIVE);
  const haveArchive = (await exists(archive)) && (await archiveOk(archive, src, "local archive"));
  if (!haveArchive) {
    if (opts.download === false) {
      throw new Cifar10Error(
        whereToPutFiles(dataDir, `${folder} does not exist and downloading is disabled`, src.md5),
      );
    }
    await Deno.mkdir(dataDir, { recursive: true });
    await downloadArchive(dataDir, archive, src);
  }
  await extractArchive(dataDir, archive, src);
  return folder;
}

/** Copy one planar record (R plane, G plane, B plane) into interleaved HWC at `out[at..]`. */
function planarToInterleaved(rec: Uint8Array, out: Uint8Array, at: number): void {
  for (let p = 0; p < PIXELS; p++) {
    const o = at + 3 * p;
    out[o] = rec[1 + p];
    out[o + 1] = rec[1 + PIXELS + p];
    out[o + 2] = rec[1 + 2 * PIXELS + p];
  }
}

async function readRecords(path: string, count: number): Promise<Uint8Array> {
  using f = await Deno.open(path, { read: true });
  const buf = new Uint8Array(count * CIFAR10_RECORD_BYTES);
  let off = 0;
  while (off < buf.length) {
    const n = await f.read(buf.subarray(off));
    if (n === null) throw new Cifar10Error(`${path} ended after ${off} bytes while reading`);
    off += n;
  }
  return buf;
}

/**
 * Load a CIFAR-10 split. Looks for `<dataDir>/cifar-10-batches-bin/`; otherwise verifies a local
 * `cifar-10-binary.tar.gz` or downloads it (MD5-checked, one retry), extracts it and keeps it.
 * @example
 * const { images, labels, n } = await loadCifar10({ split: "train", limit: 1000 });
 */
export async function loadCifar10(opts: LoadCifar10Options): Promise<Cifar10Data> {
  if (opts.split !== "train" && opts.split !== "test") {
    throw new Cifar10Error(`split must be "train" or "test", got "${opts.split}"`);
  }
  const perFile = opts.recordsPerFile ?? CIFAR10_RECORDS_PER_FILE;
  if (!Number.isInteger(perFile) || perFile < 1) {
    throw new Cifar10Error(`recordsPerFile must be a positive integer, got ${perFile}`);
  }
  const files = opts.split === "train" ? CIFAR10_TRAIN_FILES : CIFAR10_TEST_FILES;
  const available = files.length * perFile;
  const n = opts.limit ?? available;
  if (!Number.isInteger(n) || n < 1 || n > available) {
    throw new Cifar10Error(
      `limit must be an integer in 1..${available} for the ${opts.split} split, got ${opts.limit}`,
    );
  }
  const dataDir = resolveDataDir(opts.dataDir);
  const folder = await ensureFolder(dataDir, opts);
  const expected = perFile * CIFAR10_RECORD_BYTES;
  const images = new Uint8Array(n * PIXELS * 3);
  const labels = new Uint8Array(n);
  let done = 0;
  for (const name of files) {
    if (done >= n) break;
    const path = join(folder, name);
    let size: number;
    try {
      size = (await Deno.stat(path)).size;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new Cifar10Error(
        `${path} is missing from ${folder}/ (the ${opts.split} split needs ${files.join(", ")})`,
      );
    }
    if (size !== expected) {
      throw new Cifar10Error(
        `${path} has ${size} bytes, expected ${expected} (${perFile} records of ` +
          `${CIFAR10_RECORD_BYTES} bytes): truncated or not the CIFAR-10 binary version; ` +
          `replace it, or delete ${folder}/ to obtain the data again`,
      );
    }
    const take = Math.min(perFile, n - done);
    const buf = await readRecords(path, take);
    for (let r = 0; r < take; r++) {
      const rec = buf.subarray(r * CIFAR10_RECORD_BYTES, (r + 1) * CIFAR10_RECORD_BYTES);
      if (rec[0] > 9) {
        throw new Cifar10Error(`${path}: record ${r} has label ${rec[0]}, expected 0..9`);
      }
      labels[done] = rec[0];
      planarToInterleaved(rec, images, done * PIXELS * 3);
      done++;
    }
    opts.onProgress?.({ phase: "read", bytes: done, total: n, message: `read ${done} of ${n}` });
  }
  return { images, labels, n };
}

/** Options for turning a batch of images into a tensor. */
export interface ToTensorOptions {
  /** Mirror each image left-right with probability 1/2 (training augmentation). */
  flip?: boolean;
  /** Seed of the flip draws (deterministic per batch). */
  seed?: number;
}

/**
 * Batch `indices` of NHWC bytes into a float32 [B, 32, 32, 3] tensor scaled to [-1, 1]
 * (v / 127.5 - 1), optionally with seeded random horizontal flips. The caller owns the tensor.
 * @example
 * const x = toTensor(train.images, [0, 1, 2, 3], { flip: true, seed: 7 }); // shape [4, 32, 32, 3]
 */
export function toTensor(
  images: Uint8Array,
  indices: ArrayLike<number>,
  opts: ToTensorOptions = {},
): Tensor {
  const per = PIXELS * 3;
  const count = images.length / per;
  if (!Number.isInteger(count)) {
    throw new Cifar10Error(`images has ${images.length} bytes, not a multiple of ${per}`);
  }
  const b = indices.length;
  const out = new Float32Array(b * per);
  const u = rng(opts.seed ?? 0);
  for (let i = 0; i < b; i++) {
    const idx = indices[i];
    if (!Number.isInteger(idx) || idx < 0 || idx >= count) {
      throw new Cifar10Error(`index ${idx} (position ${i}) is outside 0..${count - 1}`);
    }
    const flip = opts.flip === true && u() < 0.5;
    const src = idx * per, dst = i * per;
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const sx = flip ? SIDE - 1 - x : x;
        const s = src + 3 * (y * SIDE + sx), d = dst + 3 * (y * SIDE + x);
        out[d] = images[s] / 127.5 - 1;
        out[d + 1] = images[s + 1] / 127.5 - 1;
        out[d + 2] = images[s + 2] / 127.5 - 1;
      }
    }
  }
  return tf.tensor4d(out, [b, SIDE, SIDE, 3]);
}
