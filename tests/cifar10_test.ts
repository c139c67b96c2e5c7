// CIFAR-10 loader on tiny synthetic files: parsing, layout, scaling, flips, errors, MD5, download.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  CIFAR10_ARCHIVE,
  CIFAR10_FOLDER,
  CIFAR10_RECORD_BYTES,
  CIFAR10_TEST_FILES,
  CIFAR10_TRAIN_FILES,
  Cifar10Error,
  type Cifar10Progress,
  loadCifar10,
  toTensor,
} from "../harness/data/cifar10.ts";
import { md5File, verifyMd5 } from "../store/md5.ts";
import { tf } from "../core/tf.ts";
import { ustarHeader } from "../store/tar-write.ts";

await tf.setBackend("cpu");

const PER_FILE = 4;

/** Pixel value of record r of file f, channel c, pixel p: a pattern that exposes layout bugs. */
function pixel(f: number, r: number, c: number, p: number): number {
  return (f * 31 + r * 17 + c * 101 + p * 7) % 256;
}

function makeFile(f: number, records = PER_FILE): Uint8Array {
  const buf = new Uint8Array(records * CIFAR10_RECORD_BYTES);
  for (let r = 0; r < records; r++) {
    const rec = buf.subarray(r * CIFAR10_RECORD_BYTES);
    rec[0] = (f + r) % 10;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) rec[1 + c * 1024 + p] = pixel(f, r, c, p);
    }
  }
  return buf;
}

const ALL_FILES = [...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES];

async function writeDataset(dir: string): Promise<void> {
  const folder = join(dir, CIFAR10_FOLDER);
  await Deno.mkdir(folder, { recursive: true });
  for (const [f, name] of ALL_FILES.entries()) {
    await Deno.writeFile(join(folder, name), makeFile(f));
  }
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fmbench-cifar-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("parses labels and converts planar RGB to interleaved NHWC across files", async () => {
  await withTempDir(async (dir) => {
    await writeDataset(dir);
    const train = await loadCifar10({
      dataDir: dir,
      split: "train",
      recordsPerFile: PER_FILE,
      download: false,
    });
    assert.equal(train.n, 5 * PER_FILE);
    assert.equal(train.images.length, train.n * 32 * 32 * 3);
    for (let i = 0; i < train.n; i++) {
      const f = Math.floor(i / PER_FILE), r = i % PER_FILE;
      assert.equal(train.labels[i], (f + r) % 10);
      for (const [y, x] of [[0, 0], [0, 31], [17, 5], [31, 31]]) {
        for (let c = 0; c < 3; c++) {
          const got = train.images[((i * 32 + y) * 32 + x) * 3 + c];
          assert.equal(got, pixel(f, r, c, y * 32 + x), `image ${i} (${y},${x}) channel ${c}`);
        }
      }
    }
    const limited = await loadCifar10({
      dataDir: dir,
      split: "train",
      limit: 6,
      recordsPerFile: 4,
    });
    assert.equal(limited.n, 6);
    assert.deepEqual(limited.labels, train.labels.subarray(0, 6));
    assert.deepEqual(limited.images, train.images.subarray(0, 6 * 3072));
    const test = await loadCifar10({ dataDir: dir, split: "test", recordsPerFile: PER_FILE });
    assert.equal(test.n, PER_FILE);
    assert.equal(test.labels[1], (5 + 1) % 10);
    await assert.rejects(
      loadCifar10({ dataDir: dir, split: "test", limit: 5, recordsPerFile: PER_FILE }),
      /limit must be an integer in 1\.\.4/,
    );
  });
});

Deno.test("toTensor scales bytes to [-1, 1] and flips horizontally per seed", () => {
  const images = new Uint8Array(2 * 3072);
  for (let i = 0; i < images.length; i++) images[i] = i % 256;
  images[0] = 0;
  images[1] = 255;
  const plain = toTensor(images, [0, 1]);
  assert.deepEqual(plain.shape, [2, 32, 32, 3]);
  const v = plain.dataSync();
  for (let i = 0; i < v.length; i++) assert.ok(Math.abs(v[i] - (images[i] / 127.5 - 1)) < 1e-6);
  assert.equal(v[0], -1);
  assert.equal(v[1], 1);
  const mirrored = (a: Float32Array | Int32Array | Uint8Array, b: typeof a, img: number) => {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 3; c++) {
          const o = img * 3072;
          if (a[o + (y * 32 + x) * 3 + c] !== b[o + (y * 32 + 31 - x) * 3 + c]) return false;
        }
      }
    }
    return true;
  };
  const seen = new Set<string>();
  for (let seed = 0; seed < 16; seed++) {
    const f = toTensor(images, [0, 1], { flip: true, seed });
    const fv = f.dataSync();
    const again = toTensor(images, [0, 1], { flip: true, seed });
    assert.deepEqual(again.dataSync(), fv, "flips must be deterministic for a seed");
    const pattern = [0, 1].map((img) => {
      const same = fv.slice(img * 3072, (img + 1) * 3072).every((x, k) => x === v[img * 3072 + k]);
      assert.ok(same || mirrored(fv, v, img), `image ${img} neither kept nor mirrored`);
      return same ? "kept" : "flipped";
    }).join(",");
    seen.add(pattern);
    tf.dispose([f, again]);
  }
  assert.ok(seen.size >= 3, `flip patterns over 16 seeds: ${[...seen]}`);
  assert.throws(() => toTensor(images, [2]), /index 2 .* outside 0\.\.1/);
  plain.dispose();
});

Deno.test("a file of the wrong size is an error that names it", async () => {
  await withTempDir(async (dir) => {
    await writeDataset(dir);
    const bad = join(dir, CIFAR10_FOLDER, "data_batch_2.bin");
    await Deno.writeFile(bad, makeFile(1).subarray(0, PER_FILE * CIFAR10_RECORD_BYTES - 100));
    await assert.rejects(
      loadCifar10({ dataDir: dir, split: "train", recordsPerFile: PER_FILE }),
      (e: Error) =>
        e instanceof Cifar10Error && e.message.includes(bad) && /expected/.test(e.message),
    );
    // The first file alone is still readable.
    const first = await loadCifar10({ dataDir: dir, split: "train", limit: 3, recordsPerFile: 4 });
    assert.equal(first.n, 3);
    await Deno.remove(join(dir, CIFAR10_FOLDER, "test_batch.bin"));
    await assert.rejects(
      loadCifar10({ dataDir: dir, split: "test", recordsPerFile: PER_FILE }),
      /test_batch\.bin is missing/,
    );
  });
});

Deno.test("download disabled: the error says exactly where to put the files", async () => {
  await withTempDir(async (dir) => {
    const err = await loadCifar10({ dataDir: dir, split: "train", download: false }).then(
      () => undefined,
      (e) => e as Error,
    );
    assert.ok(err instanceof Cifar10Error);
    assert.ok(err.message.includes(join(dir, CIFAR10_FOLDER)), err.message);
    assert.ok(err.message.includes(join(dir, CIFAR10_ARCHIVE)), err.message);
    assert.ok(err.message.includes("data_batch_1.bin") && err.message.includes("test_batch.bin"));
    assert.ok(err.message.includes("c32a1d4ab5d03f1284b67883e8d87530"));
    assert.ok(/downloading is disabled/.test(err.message));
  });
});

Deno.test("MD5 of a file, checked against an expected digest", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "hello.txt");
    await Deno.writeTextFile(path, "hello world");
    assert.equal(await md5File(path), "5eb63bbbe01eeed093cb22bb8f5acdc3");
    assert.equal((await verifyMd5(path, "5EB63BBBE01EEED093CB22BB8F5ACDC3")).ok, true);
    const bad = await verifyMd5(path, "00000000000000000000000000000000");
    assert.equal(bad.ok, false);
    assert.equal(bad.actual, "5eb63bbbe01eeed093cb22bb8f5acdc3");
    await assert.rejects(verifyMd5(path, "xyz"), /not 32 hex digits/);
  });
});

/** A minimal ustar archive of the given files, gzip-compressed. */
async function tarGz(files: Array<[string, Uint8Array]>): Promise<Uint8Array> {
  const blocks: Uint8Array[] = [];
  for (const [name, data] of files) {
    const h = ustarHeader(name, data.length, "0");
    blocks.push(h, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const tar = new Uint8Array(blocks.reduce((a, b) => a + b.length, 0));
  let off = 0;
  for (const b of blocks) {
    tar.set(b, off);
    off += b.length;
  }
  const stream = new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function syntheticArchive(): Promise<{ bytes: Uint8Array; md5: string }> {
  const files: Array<[string, Uint8Array]> = ALL_FILES.map((name, f) => [
    `${CIFAR10_FOLDER}/${name}`,
    makeFile(f),
  ]);
  files.push([`${CIFAR10_FOLDER}/batches.meta.txt`, new TextEncoder().encode("airplane\n")]);
  const bytes = await tarGz(files);
  return { bytes, md5: createHash("md5").update(bytes).digest("hex") };
}

/** A fetch that serves the given bodies in turn, each announcing the full archive length. */
function fakeFetch(full: Uint8Array, bodies: Uint8Array[]): { fetch: typeof fetch; calls: number } {
  const state = { calls: 0, fetch: undefined as unknown as typeof fetch };
  state.fetch = (() => {
    const body = bodies[Math.min(state.calls++, bodies.length - 1)];
    return Promise.resolve(
      new Response(body.slice() as Uint8Array<ArrayBuffer>, {
        headers: { "content-length": String(full.length) },
      }),
    );
  }) as typeof fetch;
  return state;
}

Deno.test("download: a partial file is reported, deleted and retried; then extracted", async () => {
  const { bytes, md5 } = await syntheticArchive();
  await withTempDir(async (dir) => {
    const events: Cifar10Progress[] = [];
    const fake = fakeFetch(bytes, [bytes.subarray(0, bytes.length - 10), bytes]);
    const data = await loadCifar10({
      dataDir: dir,
      split: "test",
      recordsPerFile: PER_FILE,
      md5,
      fetch: fake.fetch,
      onProgress: (p) => events.push(p),
    });
    assert.equal(fake.calls, 2);
    assert.equal(data.n, PER_FILE);
    assert.equal(data.labels[0], 5);
    assert.ok(events.some((e) => e.phase === "retry" && /partial download/.test(e.message)));
    assert.ok(events.some((e) => e.phase === "extract"));
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, [CIFAR10_FOLDER], "archive and temporary files are cleaned up");
  });
});

Deno.test("download: a corrupt archive (MD5 mismatch) twice is a clear error", async () => {
  const { bytes, md5 } = await syntheticArchive();
  const corrupt = bytes.slice();
  corrupt[100] ^= 0xff;
  await withTempDir(async (dir) => {
    const events: Cifar10Progress[] = [];
    const fake = fakeFetch(bytes, [corrupt]);
    await assert.rejects(
      loadCifar10({
        dataDir: dir,
        split: "train",
        md5,
        fetch: fake.fetch,
        recordsPerFile: PER_FILE,
        onProgress: (p) => events.push(p),
      }),
      (e: Error) => e instanceof Cifar10Error && /MD5/.test(e.message) && /twice/.test(e.message),
    );
    assert.equal(fake.calls, 2);
    assert.equal(events.filter((e) => e.phase === "retry").length, 2);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "corrupt downloads are deleted");
  });
});

Deno.test("no network: the error says where to put the files", async () => {
  await withTempDir(async (dir) => {
    const offline = (() => Promise.reject(new TypeError("error sending request"))) as typeof fetch;
    await assert.rejects(
      loadCifar10({ dataDir: dir, split: "train", fetch: offline }),
      (e: Error) =>
        e instanceof Cifar10Error && /download failed/.test(e.message) &&
        e.message.includes(join(dir, CIFAR10_FOLDER)),
    );
  });
});

Deno.test("a local archive is verified and extracted without downloading", async () => {
  const { bytes, md5 } = await syntheticArchive();
  await withTempDir(async (dir) => {
    await Deno.writeFile(join(dir, CIFAR10_ARCHIVE), bytes);
    const noFetch = (() => Promise.reject(new Error("must not download"))) as typeof fetch;
    const data = await loadCifar10({
      dataDir: dir,
      split: "train",
      limit: 5,
      md5,
      fetch: noFetch,
      recordsPerFile: PER_FILE,
      download: false,
    });
    assert.equal(data.n, 5);
    assert.equal(data.labels[4], 1); // file 1, record 0
  });
});

Deno.test('download: every "deleted" message is printed only once the file is gone', async () => {
  const { bytes, md5 } = await syntheticArchive();
  const corrupt = bytes.slice();
  corrupt[100] ^= 0xff;
  await withTempDir(async (dir) => {
    // A corrupt local archive, then a partial download, then a corrupt one, then a good one.
    await Deno.writeFile(join(dir, CIFAR10_ARCHIVE), corrupt);
    const checked: string[] = [];
    const fake = fakeFetch(bytes, [bytes.subarray(0, bytes.length - 10), corrupt]);
    await loadCifar10({
      dataDir: dir,
      split: "test",
      recordsPerFile: PER_FILE,
      md5,
      fetch: fake.fetch,
      onProgress: (p) => {
        const m = /(\S+) is corrupt .*; deleted$|; deleted (\S+)$/.exec(p.message);
        if (!m) return;
        const path = m[1] ?? m[2];
        let there = true;
        try {
          Deno.statSync(path);
        } catch {
          there = false;
        }
        assert.equal(there, false, `"${p.message}" while ${path} is still there`);
        checked.push(path);
      },
    }).catch(() => {});
    assert.deepEqual(checked.map((p) => p.slice(dir.length + 1)), [
      CIFAR10_ARCHIVE,
      `${CIFAR10_ARCHIVE}.part`,
      `${CIFAR10_ARCHIVE}.part`,
    ]);
  });
});
