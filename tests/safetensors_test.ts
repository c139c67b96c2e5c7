// Tests for the safetensors reader/writer: round trip, F16/BF16 decoding, unaligned data,
// truncated files and bad headers (errors must name the file).
import assert from "node:assert/strict";
import {
  encodeSafetensors,
  halfToFloat,
  readSafetensors,
  SafetensorsError,
  SafetensorsFile,
} from "../store/safetensors.ts";

/** Assemble a file from a header object (serialised as given, no padding) and raw data bytes. */
function rawFile(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const h = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function u16(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setUint16(2 * i, v, true));
  return b;
}

Deno.test("safetensors: write then read back F32/F64 tensors and metadata from a file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.safetensors`;
    const a = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
    const b = Float64Array.from([Math.PI, -1e-300, 1e300]);
    const bytes = encodeSafetensors(
      { "layer.a": { shape: [2, 3, 4], data: a }, b: { shape: [3], data: b } },
      { who: "test" },
    );
    assert.equal((bytes.length - 8 - 24 * 4 - 3 * 8) % 8, 0, "header is padded to 8 bytes");
    await Deno.writeFile(path, bytes);
    const f = await readSafetensors(path);
    assert.deepEqual(f.names(), ["layer.a", "b"]);
    assert.deepEqual(f.metadata, { who: "test" });
    assert.deepEqual(f.entry("layer.a"), { dtype: "F32", shape: [2, 3, 4], dataOffsets: [0, 96] });
    assert.deepEqual(f.float32("layer.a"), a);
    assert.deepEqual(f.float64("b"), b);
    assert.equal(f.entry("missing"), undefined);
    assert.throws(() => f.float32("missing"), /t\.safetensors.*no tensor named "missing"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("safetensors: F16 and BF16 decode exactly; unaligned data offsets work", () => {
  const f16 = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0x8000, 0x3555];
  const want16 = [1, -2, 0.5, 65504, 2 ** -24, Infinity, -0, 0.333251953125];
  const bf16 = [0x3f80, 0xc040, 0x3e80];
  const f32 = new Uint8Array(new Float32Array([1.25, -7]).buffer);
  // A 1-byte U8 tensor first makes the following tensors start at odd offsets.
  const data = new Uint8Array([7, ...u16(f16), ...u16(bf16), ...f32]);
  const header = {
    u8: { dtype: "U8", shape: [1], data_offsets: [0, 1] },
    h: { dtype: "F16", shape: [8], data_offsets: [1, 17] },
    bf: { dtype: "BF16", shape: [3], data_offsets: [17, 23] },
    f: { dtype: "F32", shape: [2], data_offsets: [23, 31] },
  };
  const file = new SafetensorsFile(rawFile(header, data, JSON.stringify(header) + " "), "mem");
  assert.deepEqual([...file.float32("h")], want16.map((v) => Math.fround(v)));
  assert.ok(Object.is(file.float32("h")[6], -0));
  assert.deepEqual([...file.float32("bf")], [1, -3, 0.25]);
  assert.deepEqual([...file.float32("f")], [1.25, -7]);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.throws(() => file.float32("u8"), /mem: tensor "u8" has dtype U8; decodable: F32/);
});

Deno.test("safetensors: truncated files are rejected naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = encodeSafetensors({ w: { shape: [4, 4], data: new Float32Array(16) } });
    const cases: Array<[Uint8Array, RegExp]> = [
      [good.subarray(0, 5), /truncated: 5 bytes, need at least 8/],
      [good.subarray(0, 20), /truncated: header declares \d+ bytes but only 12 follow/],
      [good.subarray(0, good.length - 4), /truncated: tensor "w" ends at data byte 64/],
    ];
    for (const [i, [bytes, re]] of cases.entries()) {
      const path = `${dir}/cut${i}.safetensors`;
      await Deno.writeFile(path, bytes);
      await assert.rejects(readSafetensors(path), (e: Error) => {
        assert.ok(e instanceof SafetensorsError);
        assert.match(e.message, new RegExp(`cut${i}\\.safetensors`));
        assert.match(e.message, re);
        return true;
      });
    }
    await assert.rejects(readSafetensors(`${dir}/absent.safetensors`), /absent.*cannot read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("safetensors: bad headers are rejected naming the file and the problem", () => {
  const bad = (header: unknown, re: RegExp, text?: string, data = new Uint8Array(16)) =>
    assert.throws(() => new SafetensorsFile(rawFile(header, data, text), "bad.st"), (e: Error) => {
      assert.ok(e instanceof SafetensorsError, String(e));
      assert.match(e.message, /^safetensors bad\.st: /);
      assert.match(e.message, re);
      return true;
    });
  bad(null, /bad header: not UTF-8 JSON/, "{not json");
  bad(null, /bad header: expected a JSON object/, "[1, 2]");
  bad({ w: { dtype: "F99", shape: [4], data_offsets: [0, 16] } }, /"w" has unknown dtype "F99"/);
  bad({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 16] } }, /"w" has invalid shape/);
  bad({ w: { dtype: "F32", shape: [4], data_offsets: [8, 0] } }, /"w" has invalid data_offsets/);
  bad(
    { w: { dtype: "F32", shape: [3], data_offsets: [0, 16] } },
    /"w" spans 16 bytes but F32 \[3\] needs 12/,
  );
  bad({ __metadata__: { a: 1 } }, /__metadata__\.a must be a string/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
  assert.throws(() => new SafetensorsFile(huge, "huge.st"), /huge\.st: bad header: declared/);
});
