// Tests for the PyTorch checkpoint reader: zip and legacy layouts written by code (the opcodes
// torch.save emits), shared/offset storages and strided views, hostile pickles, broken files.
import assert from "node:assert/strict";
import { PickleError, PickleTuple, unpickle } from "../store/pickle.ts";
import {
  readTorchCheckpoint,
  TorchCheckpointError,
  torchFormatOf,
} from "../store/torch-checkpoint.ts";
import { ZipArchive } from "../store/zip.ts";
import { crc32 } from "../store/crc32.ts";
import {
  encodePthLegacy,
  encodePthZip,
  f32Bytes,
  i64Bytes,
  PickleWriter,
  type PthSpec,
  storedZip,
} from "../store/torch-save.ts";

/** A small state dict exercising what torch.save produces. */
function smallSpec(): PthSpec {
  const base = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
  const storages = new Map([
    ["0", { type: "FloatStorage", data: f32Bytes(base), numel: 24 }],
    ["1", { type: "LongStorage", data: i64Bytes([7]), numel: 1 }],
  ]);
  return {
    storages,
    tensors: [
      // a contiguous [2, 3] view at offset 4 of storage 0
      ["offset", { storage: "0", offset: 4, shape: [2, 3], stride: [3, 1] }],
      // the same storage again, shared: a transposed [3, 2] view (non-contiguous)
      ["transposed", { storage: "0", offset: 0, shape: [3, 2], stride: [1, 3] }],
      // a permuted 4-D view: logical [2, 3, 2, 2] over a storage laid out as [2, 2, 3, 2]
      ["permuted", { storage: "0", offset: 0, shape: [2, 3, 2, 2], stride: [1, 2, 12, 6] }],
      // a scalar int64 (like num_batches_tracked)
      ["count", { storage: "1", offset: 0, shape: [], stride: [] }],
    ],
  };
}

/** What smallSpec's tensors hold, computed independently from the view definitions. */
function expectedSmall(): Record<string, number[]> {
  const v = (i: number) => i * 0.5 - 3;
  const permuted: number[] = [];
  for (let a = 0; a < 2; a++) {
    for (let b = 0; b < 3; b++) {
      for (let c = 0; c < 2; c++) {
        for (let d = 0; d < 2; d++) permuted.push(v(a + 2 * b + 12 * c + 6 * d));
      }
    }
  }
  return {
    offset: [4, 5, 6, 7, 8, 9].map(v),
    transposed: [0, 3, 1, 4, 2, 5].map(v),
    permuted,
  };
}

for (const layout of ["zip", "legacy"] as const) {
  Deno.test(`torch checkpoint (${layout}): offsets, shared storages and strided views`, () => {
    const bytes = layout === "zip" ? encodePthZip(smallSpec()) : encodePthLegacy(smallSpec());
    assert.equal(torchFormatOf(bytes), layout);
    const ckpt = readTorchCheckpoint(bytes, `small.${layout}.pth`);
    assert.equal(ckpt.format, layout);
    assert.deepEqual(ckpt.names(), ["offset", "transposed", "permuted", "count"]);
    assert.deepEqual(ckpt.entry("transposed"), { dtype: "F32", shape: [3, 2] });
    assert.deepEqual(ckpt.entry("count"), { dtype: "I64", shape: [] });
    assert.equal(ckpt.tensor("offset")!.offset, 4);
    assert.deepEqual(ckpt.tensor("transposed")!.stride, [1, 3]);
    assert.equal(ckpt.tensor("offset")!.storage, ckpt.tensor("transposed")!.storage, "shared");
    for (const [name, want] of Object.entries(expectedSmall())) {
      assert.deepEqual([...ckpt.float32(name)], want, name);
      assert.deepEqual([...ckpt.float64(name)], want, name);
    }
    assert.throws(() => ckpt.float32("count"), /small\..*tensor "count" has dtype I64/);
    assert.throws(() => ckpt.float32("nope"), /no tensor named "nope"/);
  });
}

Deno.test("torch checkpoint: F16, BF16 and F64 storages decode exactly", () => {
  const half = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x55, 0x35]); // 1, -2, 0.333251953125
  const bf16 = new Uint8Array([0x80, 0x3f, 0x40, 0xc0]); // 1, -3
  const f64 = new Uint8Array(new Float64Array([Math.PI, -1e-300]).buffer);
  const spec: PthSpec = {
    storages: new Map([
      ["h", { type: "HalfStorage", data: half, numel: 3 }],
      ["b", { type: "BFloat16Storage", data: bf16, numel: 2 }],
      ["d", { type: "DoubleStorage", data: f64, numel: 2 }],
    ]),
    tensors: [
      ["h", { storage: "h", offset: 0, shape: [3], stride: [1] }],
      ["b", { storage: "b", offset: 0, shape: [2], stride: [1] }],
      ["d", { storage: "d", offset: 0, shape: [2], stride: [1] }],
    ],
  };
  const ckpt = readTorchCheckpoint(encodePthZip(spec), "dtypes.pth");
  assert.deepEqual([...ckpt.float32("h")], [1, -2, 0.333251953125]);
  assert.deepEqual([...ckpt.float32("b")], [1, -3]);
  assert.deepEqual([...ckpt.float64("d")], [Math.PI, -1e-300]);
});

/** A pickle body (after PROTO) from raw opcode bytes. */
function raw(...ops: Array<number | string>): Uint8Array {
  const w = new PickleWriter();
  for (const o of ops) typeof o === "string" ? w.op(...new TextEncoder().encode(o)) : w.op(o);
  return w.bytes();
}

/** Put a data.pkl into a zip next to one valid storage. */
function zipWith(pkl: Uint8Array): Uint8Array {
  return storedZip([["archive/data.pkl", pkl], ["archive/data/0", f32Bytes([1, 2])]]);
}

Deno.test("hostile pickles are refused with the global or opcode named; nothing runs", () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    // GLOBAL os.system; REDUCE("echo pwned",)
    [
      "GLOBAL os.system",
      raw("cos\nsystem\n", 0x58, 4, 0, 0, 0, "echo", 0x85, 0x52),
      /refused global os\.system/,
    ],
    ["GLOBAL builtins.eval", raw("cbuiltins\neval\n"), /refused global builtins\.eval/],
    ["GLOBAL posix.system", raw("cposix\nsystem\n"), /refused global posix\.system/],
    [
      "STACK_GLOBAL os.system",
      raw(0x8c, 2, "os", 0x8c, 6, "system", 0x93),
      /refused global os\.system/,
    ],
    // An allowed global that is not a function: torch.FloatStorage(...) via REDUCE.
    [
      "REDUCE torch.FloatStorage",
      raw("ctorch\nFloatStorage\n", 0x29, 0x52),
      /refused call of torch\.FloatStorage/,
    ],
    // REDUCE of something that is not a global at all.
    ["REDUCE of a string", raw(0x58, 1, 0, 0, 0, "x", 0x29, 0x52), /REDUCE of a string/],
    ["INST os system", raw("(ios\nsystem\n"), /refused opcode 0x69 INST/],
    ["OBJ", raw(0x28, 0x6f), /refused opcode 0x6f OBJ/],
    ["NEWOBJ", raw(0x29, 0x29, 0x81), /refused opcode 0x81 NEWOBJ/],
    ["EXT1", raw(0x82, 1), /refused opcode 0x82 EXT1/],
    ["PERSID (text)", raw("P0\n"), /refused opcode 0x50 PERSID/],
    // BUILD on an object no allowed global made (a plain dict from EMPTY_DICT).
    ["BUILD on a dict", raw(0x7d, 0x7d, 0x62), /refused BUILD on a dict/],
  ];
  for (const [what, pkl, re] of cases) {
    let called = false;
    assert.throws(
      () =>
        unpickle(pkl, {
          source: "evil.pkl",
          globals: {
            "collections.OrderedDict": { call: () => ((called = true), new Map()) },
            "torch.FloatStorage": {},
          },
        }),
      (e: Error) => {
        assert.ok(e instanceof PickleError, `${what}: ${e}`);
        assert.match(e.message, /^pickle evil\.pkl: /, what);
        assert.match(e.message, re, what);
        return true;
      },
    );
    assert.equal(called, false, `${what}: no allowed callable ran either`);
  }
  // Inside a checkpoint the error names the file; the allowed globals are listed.
  const evil = zipWith(raw("cos\nsystem\n", 0x58, 2, 0, 0, 0, "id", 0x85, 0x52));
  assert.throws(() => readTorchCheckpoint(evil, "evil.pth"), (e: Error) => {
    assert.ok(e instanceof TorchCheckpointError);
    assert.match(e.message, /^PyTorch checkpoint evil\.pth: .*refused global os\.system/);
    assert.match(e.message, /torch\._utils\._rebuild_tensor_v2/);
    assert.match(e.message, /nothing was executed/);
    return true;
  });
  // A REDUCE of torch's rebuilder with a non-storage argument is refused too.
  const fake = zipWith(
    raw("ctorch._utils\n_rebuild_tensor_v2\n", 0x58, 1, 0, 0, 0, "x", 0x85, 0x52),
  );
  assert.throws(
    () => readTorchCheckpoint(fake, "fake.pth"),
    /first argument is a string, not a storage/,
  );
});

Deno.test("unpickle: the data opcodes of a state dict's pickle", () => {
  // pickle.dumps({"a": (1, 2), "b": [None, True, 3.5, -7, 70000, 2**40]}, protocol=2)
  const w = new PickleWriter().op(0x7d).mark().str("a").int(1).int(2).op(0x86).str("b").op(0x5d)
    .mark().op(0x4e, 0x88).op(0x47, 0x40, 0x0c, 0, 0, 0, 0, 0, 0).int(-7).int(70000).int(2 ** 40)
    .op(0x65).op(0x75);
  const { value } = unpickle(w.bytes(), { source: "t", globals: {} });
  assert.ok(value instanceof Map);
  const a = value.get("a");
  assert.ok(a instanceof PickleTuple);
  assert.deepEqual(a.items, [1, 2]);
  assert.deepEqual(value.get("b"), [null, true, 3.5, -7, 70000, 2 ** 40]);
  assert.throws(
    () => unpickle(Uint8Array.from([0x80, 2, 0x58, 9, 0, 0]), { source: "cut", globals: {} }),
    /cut: truncated/,
  );
});

Deno.test("broken checkpoints: errors name the file and the problem", () => {
  const good = encodePthZip(smallSpec());
  const bad = (bytes: Uint8Array, re: RegExp) =>
    assert.throws(() => readTorchCheckpoint(bytes, "b.pth"), (e: Error) => {
      assert.ok(e instanceof TorchCheckpointError, String(e));
      assert.match(e.message, /^PyTorch checkpoint b\.pth: /);
      assert.match(e.message, re);
      return true;
    });
  bad(new TextEncoder().encode("<html>not found</html>"), /not a torch\.save file/);
  bad(good.subarray(0, good.length - 30), /end-of-central-directory/);
  // Flip one byte inside storage 0: its CRC-32 no longer matches.
  const zip = new ZipArchive(good, "x");
  const e0 = zip.entry("archive/data/0")!;
  const flipped = good.slice();
  const dataStart = e0.localOffset + 30 +
    new DataView(good.buffer).getUint16(e0.localOffset + 26, true) +
    new DataView(good.buffer).getUint16(e0.localOffset + 28, true);
  flipped[dataStart + 5] ^= 1;
  bad(flipped, /entry "archive\/data\/0" is corrupt: CRC-32/);
  // A compressed (deflate) entry.
  const deflated = good.slice();
  const cd = findCentral(deflated, "archive/data.pkl");
  new DataView(deflated.buffer).setUint16(cd + 10, 8, true);
  bad(deflated, /"archive\/data\.pkl" is compressed \(method 8\)/);
  // A missing storage entry, a view past its storage, a non-tensor value.
  const spec = smallSpec();
  bad(
    storedZip([["archive/data.pkl", encodePthZipPickle(spec)]]),
    /storage entry archive\/data\/0 is missing/,
  );
  spec.tensors.push(["past", { storage: "0", offset: 20, shape: [2, 3], stride: [3, 1] }]);
  bad(encodePthZip(spec), /reaches element 25 of storage "0", which holds 24/);
  const notTensor = zipWith(new PickleWriter().op(0x7d).str("epoch").int(3).op(0x73).bytes());
  bad(notTensor, /entry "epoch" holds a number, expected a tensor/);
  bad(zipWith(new PickleWriter().op(0x5d).bytes()), /holds a list, expected a state dict/);
  // Legacy: truncated storage data.
  const legacy = encodePthLegacy(smallSpec());
  bad(legacy.subarray(0, legacy.length - 3), /truncated: storage "1" declares 1 elements/);
});

function encodePthZipPickle(spec: PthSpec): Uint8Array {
  const zip = new ZipArchive(encodePthZip(spec), "x");
  return zip.read("archive/data.pkl").slice();
}

/** Offset of the central directory entry for `name`. */
function findCentral(bytes: Uint8Array, name: string): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  for (let at = bytes.length - 22; at >= 0; at--) {
    if (dv.getUint32(at, true) !== 0x02014b50) continue;
    const len = dv.getUint16(at + 28, true);
    if (new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + len)) === name) return at;
  }
  throw new Error(`no central entry ${name}`);
}

Deno.test("crc32: the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});
