// The file-format readers under hostile input (issue 23, findings 6, 7, 9 and 10): no stack
// overflow or RangeError, limits refused before allocating, and messages that quote a file's
// bytes escaped, cut, at offsets that are never negative.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { PickleError, unpickle } from "../store/pickle.ts";
import { readTorchCheckpoint, TorchCheckpointError } from "../store/torch-checkpoint.ts";
import {
  encodePthLegacy,
  encodePthZip,
  f32Bytes,
  PickleWriter,
  type PthSpec,
  storedZip,
} from "../store/torch-save.ts";
import { ZipArchive, ZipError } from "../store/zip.ts";
import { SafetensorsError, SafetensorsFile } from "../store/safetensors.ts";
import { extractTarGz } from "../store/tar.ts";
import { readResults, ResultsFileError } from "../results/io.ts";
import { Cifar10Error, loadCifar10 } from "../harness/data/cifar10.ts";
import { acquireRunLock, LOCK_FILE, LockHeldError } from "../store/lock.ts";
import { ustarHeader } from "../store/tar-write.ts";

/** No byte a terminal would act on (C0 controls but tab, DEL, C1), and a bounded length. */
function assertSafe(message: string, max = 2000): void {
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(message, /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/, message);
  assert.ok(message.length <= max, `message of ${message.length} chars`);
  assert.doesNotMatch(message, /byte -\d/, "offsets are never negative");
}

/** The error `fn` throws (it must throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

Deno.test("finding 6: one APPENDS of 130,000 items does not overflow the stack", () => {
  const w = new PickleWriter().op(0x5d).mark();
  for (let i = 0; i < 130_000; i++) w.int(i % 200);
  const pkl = w.op(0x65).bytes();
  const { value } = unpickle(pkl, { source: "long.pkl", globals: {} });
  assert.ok(Array.isArray(value));
  assert.equal(value.length, 130_000);
  assert.equal(value[129_999], 129_999 % 200);
  // As a checkpoint's data.pkl: refused as not a state dict, in the project's own words.
  const zip = storedZip([["archive/data.pkl", pkl]]);
  const e = thrown(() => readTorchCheckpoint(zip, "long.pth"));
  assert.ok(e instanceof TorchCheckpointError, String(e));
  assert.match(e.message, /^PyTorch checkpoint long\.pth: holds a list, expected a state dict/);
});

/** A zip whose central directory sits in the EOCD comment, ending in `extra` (its last bytes). */
function zipWithCentralExtra(extra: Uint8Array, size = 0xffffffff): Uint8Array {
  const name = new TextEncoder().encode("a/data.pkl");
  const central = new Uint8Array(46 + name.length + extra.length);
  const cv = new DataView(central.buffer);
  cv.setUint32(0, 0x02014b50, true);
  cv.setUint32(20, size, true);
  cv.setUint32(24, size, true);
  cv.setUint16(28, name.length, true);
  cv.setUint16(30, extra.length, true);
  central.set(name, 46);
  central.set(extra, 46 + name.length);
  const eocd = new Uint8Array(22 + central.length);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, 1, true);
  ev.setUint16(10, 1, true);
  ev.setUint32(12, central.length, true);
  ev.setUint32(16, 22, true); // the directory starts right after the EOCD's fixed part
  ev.setUint16(20, central.length, true);
  eocd.set(central, 22);
  return eocd;
}

Deno.test("finding 7: a zip64 extra field of length 0 at the end of the file is a ZipError", () => {
  const bytes = zipWithCentralExtra(Uint8Array.from([1, 0, 0, 0]));
  const e = thrown(() => new ZipArchive(bytes, "z64.pth"));
  assert.ok(e instanceof ZipError, String(e));
  assert.match(e.message, /^zip z64\.pth: entry "a\/data\.pkl": its zip64 extra field \(0 bytes\)/);
  // An extra field whose length runs past the entry's extra data.
  const long = thrown(() =>
    new ZipArchive(zipWithCentralExtra(Uint8Array.from([1, 0, 9, 0])), "x")
  );
  assert.ok(long instanceof ZipError, String(long));
  assert.match(long.message, /extra field 0x1 of 9 bytes runs past/);
  // Through the checkpoint reader: the file named, no RangeError.
  const t = thrown(() => readTorchCheckpoint(bytes, "z64.pth"));
  assert.ok(t instanceof TorchCheckpointError, String(t));
});

Deno.test("finding 9: a stride-0 view of 2^31 elements is refused before anything is allocated", () => {
  const spec: PthSpec = {
    storages: new Map([["0", { type: "FloatStorage", data: f32Bytes([1]), numel: 1 }]]),
    tensors: [["big", { storage: "0", offset: 0, shape: [2 ** 31], stride: [0] }]],
  };
  for (const bytes of [encodePthZip(spec), encodePthLegacy(spec)]) {
    assert.ok(bytes.length < 1000, `${bytes.length} bytes`);
    const e = thrown(() => readTorchCheckpoint(bytes, "tiny.pth"));
    assert.ok(e instanceof TorchCheckpointError, String(e));
    assert.match(e.message, /\(2147483648 elements\) over storage "0" of 1 elements/);
    assert.match(e.message, /beyond the limit of 16777216/);
  }
  // A stride-0 view within the limit still decodes (torch saves expand()ed tensors so).
  spec.tensors = [["row", { storage: "0", offset: 0, shape: [3, 4], stride: [0, 0] }]];
  assert.deepEqual([...readTorchCheckpoint(encodePthZip(spec), "ok.pth").float32("row")], [
    ...new Array(12).fill(1),
  ]);
});

async function gzip(parts: Uint8Array[]): Promise<Uint8Array> {
  const stream = new Blob(parts as Uint8Array<ArrayBuffer>[]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("finding 9: a gzip that expands a tar long-name field is refused with the limit named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A GNU long-name header declaring 3 GiB (what a gzip of 3 MiB can expand to), followed by
    // 512 KiB of zeros: refused at the header, before its body is read.
    const bomb = await gzip([
      ustarHeader("././@LongLink", 3 * 2 ** 30, "L"),
      new Uint8Array(2 ** 19),
    ]);
    await Deno.writeFile(`${dir}/bomb.tar.gz`, bomb);
    await assert.rejects(
      extractTarGz(`${dir}/bomb.tar.gz`, `${dir}/out`),
      /^TarError: tar .*bomb\.tar\.gz: a GNU long-name header of 3221225472 bytes exceeds the limit of 1048576/,
    );
    // A file entry of zeros: refused once it passes 100 times the archive's size.
    const zeros = await gzip([ustarHeader("a.bin", 2 ** 26, "0"), new Uint8Array(2 ** 26)]);
    await Deno.writeFile(`${dir}/zeros.tar.gz`, zeros);
    await assert.rejects(
      extractTarGz(`${dir}/zeros.tar.gz`, `${dir}/out`),
      /expands past \d+ bytes, the limit for its size/,
    );
    // Through loadCifar10 (an archive that passes its checksum): a Cifar10Error, archive kept aside.
    const data = join(dir, "data");
    await Deno.mkdir(data);
    await Deno.writeFile(join(data, "cifar-10-binary.tar.gz"), bomb);
    await assert.rejects(
      loadCifar10({
        dataDir: data,
        split: "test",
        md5: createHash("md5").update(bomb).digest("hex"),
        download: false,
      }),
      (e: Error) =>
        e instanceof Cifar10Error && /exceeds the limit of 1048576; moved it to /.test(e.message),
    );
    assert.ok(
      [...Deno.readDirSync(data)].some((e) => /\.tar\.gz\.unreadable-/.test(e.name)),
      "the archive is set aside with the reason",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("finding 10: a file's bytes reach messages escaped, cut, at non-negative offsets", async () => {
  // A global name with terminal escape sequences.
  const esc = new PickleWriter().op(...new TextEncoder().encode("c\x1b]0;pwned\x07os\nsystem\n"))
    .bytes();
  const g = thrown(() => unpickle(esc, { source: "esc.pkl", globals: {} }));
  assert.ok(g instanceof PickleError);
  assert.match(g.message, /refused global \\u001b\]0;pwned\\u0007os\.system/);
  assertSafe(g.message);
  // A 2 MB global name is cut.
  const huge = new Uint8Array(2_000_006).fill(0x41);
  huge.set([0x80, 2, 0x63]);
  huge.set([10, 0x41, 10], huge.length - 3);
  const h = thrown(() => unpickle(huge, { source: "huge.pkl", globals: {} }));
  assert.ok(h instanceof PickleError);
  assert.match(h.message, /refused global A{120}\.\.\.\(\+\d+ chars\)/);
  assertSafe(h.message, 1000);
  // A truncated string: the offset where its length was read, never "byte -4294967288".
  const cut = Uint8Array.from([0x80, 2, 0x58, 0xf8, 0xff, 0xff, 0xff]);
  const c = thrown(() => unpickle(cut, { source: "cut.pkl", globals: {} }));
  assert.ok(c instanceof PickleError);
  assert.match(c.message, /^pickle cut\.pkl: truncated: needs 4294967288 more bytes at byte 7$/);
  assertSafe(c.message);
  // A safetensors header whose JSON error quotes the escape sequence.
  const json = new TextEncoder().encode("[1, 2, \x1b[2J]");
  const st = new Uint8Array(8 + json.length);
  new DataView(st.buffer).setBigUint64(0, BigInt(json.length), true);
  st.set(json, 8);
  const s = thrown(() => new SafetensorsFile(st, "esc.safetensors"));
  assert.ok(s instanceof SafetensorsError);
  assert.match(s.message, /^safetensors esc\.safetensors: bad header: not UTF-8 JSON \(.*\\u001b/);
  assertSafe(s.message);
  // A tensor name with a newline and escape sequences, in a header error.
  const named = new TextEncoder().encode(
    JSON.stringify({
      ["w\n\x1b[31m" + "x".repeat(5000)]: { dtype: "F32", shape: [1], data_offsets: [0, 8] },
    }),
  );
  const st2 = new Uint8Array(8 + named.length);
  new DataView(st2.buffer).setBigUint64(0, BigInt(named.length), true);
  st2.set(named, 8);
  const n = thrown(() => new SafetensorsFile(st2, "named.safetensors"));
  assert.ok(n instanceof SafetensorsError);
  assert.match(n.message, /tensor "w\\n\\u001b\[31mxxx.*\.\.\.\(\+\d+ chars\)" spans 8 bytes/);
  assertSafe(n.message);
  // results.json: the JSON error quotes its bytes escaped, naming the file.
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/results.json`, "[1, 2, \x1b]0;title\x07]");
  await assert.rejects(readResults(dir), (e: Error) => {
    assert.ok(e instanceof ResultsFileError);
    assert.ok(e.message.startsWith(`${dir}/results.json is not valid JSON: `), e.message);
    assertSafe(e.message);
    return true;
  });
  // A zip entry name with escape sequences.
  const zip = storedZip([["a\x1b[2J/data.pkl", new Uint8Array([0x80, 2, 0x5d, 0x2e])]]);
  const z = thrown(() => new ZipArchive(zip, "z.pth").read("a\x1b[2J/nope"));
  assert.ok(z instanceof ZipError);
  assert.match(z.message, /no entry named "a\\u001b\[2J\/nope"/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("finding 10: a lock file's details are checked and quoted safely", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/${LOCK_FILE}`;
  const lock = await acquireRunLock(dir);
  try {
    // Held, with hostile details: the holder's command is shown escaped and cut.
    const evil = {
      pid: 42,
      host: "h\x1b[2J",
      startedAt: "now",
      command: "x\n\x1b]0;t\x07" + "y".repeat(5000),
    };
    await Deno.writeTextFile(path, JSON.stringify(evil));
    await assert.rejects(acquireRunLock(dir), (e: Error) => {
      assert.ok(e instanceof LockHeldError);
      assert.match(
        e.message,
        /PID 42 on host h\\u001b\[2J, started now: x\\n\\u001b\]0;t\\u0007y+\.\.\./,
      );
      assertSafe(e.message);
      return true;
    });
    // Held, with details that fail the schema: the problem is named, escaped.
    await Deno.writeTextFile(path, JSON.stringify({ pid: "1\x1b[31m", host: "", startedAt: "" }));
    await assert.rejects(acquireRunLock(dir), (e: Error) => {
      assert.ok(e instanceof LockHeldError);
      assert.match(e.message, /cannot be read: .*lock\.pid = "1\\u001b\[31m", expected an integer/);
      assertSafe(e.message);
      return true;
    });
  } finally {
    lock.release();
  }
  // Left unlocked with garbage in it: taken over, a copy of the garbage kept, the reason logged.
  await Deno.writeTextFile(path, "\x1b[2J{ not json");
  const lines: string[] = [];
  (await acquireRunLock(dir, { log: (l) => lines.push(l) })).release();
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /lock: .*\.fmbench\.lock: lock is not JSON .*; kept a copy at .*\.unreadable-/,
  );
  assertSafe(lines[0]);
  assert.ok([...Deno.readDirSync(dir)].some((e) => e.name.startsWith(`${LOCK_FILE}.unreadable-`)));
  await Deno.remove(dir, { recursive: true });
});
