// Read and write the safetensors format (8-byte LE header length, JSON header, raw LE data).
import { quote, safeMessage, safeText } from "./quote.ts";

/**
 * Raised for a file that is not valid safetensors; the message names the file.
 * @example
 * new SafetensorsError("model.safetensors", "header is not JSON").message;
 * // "safetensors model.safetensors: header is not JSON"
 */
export class SafetensorsError extends Error {
  constructor(source: string, problem: string) {
    super(`safetensors ${source}: ${problem}`);
    this.name = "SafetensorsError";
  }
}

/** One tensor's header entry. */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** Byte range [begin, end) relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** Bytes per element of the dtypes the format defines (decodable or not). */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

/**
 * Dtypes that `float32` / `float64` can decode.
 * @example
 * (FLOAT_DTYPES as readonly string[]).includes("BF16"); // true
 */
export const FLOAT_DTYPES = ["F32", "F16", "BF16", "F64"] as const;

/** Headers larger than this are rejected (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * A parsed safetensors file held in memory.
 * @example
 * const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
 * new SafetensorsFile(bytes, "memory").float32("w"); // Float32Array [1, 2]
 */
export class SafetensorsFile {
  /** The `__metadata__` string map, if present. */
  readonly metadata: Record<string, string>;
  private readonly entries: Map<string, SafetensorsEntry>;
  private readonly dataStart: number;

  constructor(
    private readonly bytes: Uint8Array,
    /** Where the bytes came from (a path), used in error messages. */
    readonly source: string,
  ) {
    if (bytes.length < 8) {
      throw new SafetensorsError(source, `truncated: ${bytes.length} bytes, need at least 8`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLen = Number(view.getBigUint64(0, true));
    if (headerLen > MAX_HEADER_BYTES) {
      throw new SafetensorsError(
        source,
        `bad header: declared header length ${headerLen} exceeds ${MAX_HEADER_BYTES} bytes`,
      );
    }
    if (8 + headerLen > bytes.length) {
      throw new SafetensorsError(
        source,
        `truncated: header declares ${headerLen} bytes but only ${bytes.length - 8} follow`,
      );
    }
    this.dataStart = 8 + headerLen;
    const header = parseHeader(bytes.subarray(8, this.dataStart), source);
    this.metadata = header.metadata;
    this.entries = header.entries;
    const dataLen = bytes.length - this.dataStart;
    for (const [name, e] of this.entries) {
      if (e.dataOffsets[1] > dataLen) {
        throw new SafetensorsError(
          source,
          `truncated: tensor ${quote(name)} ends at data byte ${e.dataOffsets[1]} ` +
            `but the data section has ${dataLen} bytes`,
        );
      }
    }
  }

  /** Tensor names in header order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The header entry of `name`, or undefined. */
  entry(name: string): SafetensorsEntry | undefined {
    return this.entries.get(name);
  }

  /** The raw little-endian bytes of a tensor (a view, not a copy). */
  raw(name: string): Uint8Array {
    const e = this.require(name);
    return this.bytes.subarray(
      this.dataStart + e.dataOffsets[0],
      this.dataStart + e.dataOffsets[1],
    );
  }

  /** Decode a floating-point tensor (F32, F16, BF16, F64) to a new Float32Array. */
  float32(name: string): Float32Array {
    const e = this.require(name);
    const raw = this.raw(name);
    const n = raw.length / DTYPE_BYTES[e.dtype];
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(n);
    switch (e.dtype) {
      case "F32":
        for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
        return out;
      case "F64":
        for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
        return out;
      case "F16":
        for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
        return out;
      case "BF16": {
        const bits = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
        return out;
      }
    }
    throw this.badDtype(name, e.dtype);
  }

  /** Decode a floating-point tensor to a new Float64Array (exact for F64). */
  float64(name: string): Float64Array {
    const e = this.require(name);
    if (e.dtype === "F64") {
      const raw = this.raw(name);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const out = new Float64Array(raw.length / 8);
      for (let i = 0; i < out.length; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    }
    return Float64Array.from(this.float32(name));
  }

  private require(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) {
      throw new SafetensorsError(this.source, `no tensor named ${quote(name)}`);
    }
    return e;
  }

  private badDtype(name: string, dtype: string): SafetensorsError {
    return new SafetensorsError(
      this.source,
      `tensor ${quote(name)} has dtype ${dtype}; decodable: ${FLOAT_DTYPES.join(", ")}`,
    );
  }
}

function parseHeader(
  headerBytes: Uint8Array,
  source: string,
): { metadata: Record<string, string>; entries: Map<string, SafetensorsEntry> } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (e) {
    throw new SafetensorsError(source, `bad header: not UTF-8 JSON (${safeMessage(e, 120)})`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new SafetensorsError(source, "bad header: expected a JSON object");
  }
  const metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsEntry>();
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (value === null || typeof value !== "object") {
        throw new SafetensorsError(source, "bad header: __metadata__ must be an object");
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string") {
          throw new SafetensorsError(
            source,
            `bad header: __metadata__.${safeText(k, 60)} must be a string`,
          );
        }
        metadata[k] = v;
      }
      continue;
    }
    entries.set(name, parseEntry(name, value, source));
  }
  return { metadata, entries };
}

function parseEntry(name: string, value: unknown, source: string): SafetensorsEntry {
  const bad = (what: string) =>
    new SafetensorsError(source, `bad header: tensor ${quote(name)} ${what}`);
  if (value === null || typeof value !== "object") throw bad("entry is not an object");
  const v = value as Record<string, unknown>;
  const dtype = v.dtype;
  if (typeof dtype !== "string" || !Object.hasOwn(DTYPE_BYTES, dtype)) {
    throw bad(`has unknown dtype ${show(dtype)}; valid: ${Object.keys(DTYPE_BYTES)}`);
  }
  const shape = v.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw bad(`has invalid shape ${show(shape)}; expected non-negative integers`);
  }
  const off = v.data_offsets;
  if (
    !Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) ||
    off[1] < off[0]
  ) {
    throw bad(`has invalid data_offsets ${show(off)}; expected [begin, end]`);
  }
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const want = count * DTYPE_BYTES[dtype];
  if (off[1] - off[0] !== want) {
    throw bad(
      `spans ${off[1] - off[0]} bytes but ${dtype} ${show(shape)} needs ${want}`,
    );
  }
  return { dtype, shape: shape as number[], dataOffsets: [off[0], off[1]] };
}

/** A header value as a short, safe string for a message. */
function show(v: unknown): string {
  return safeText(JSON.stringify(v) ?? String(v), 80);
}

/**
 * IEEE 754 binary16 bits to a number.
 * @example
 * halfToFloat(0x3c00); // 1
 * halfToFloat(0xc000); // -2
 */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Read and parse a safetensors file; errors name the path.
 * @example
 * const file = await readSafetensors("runs/x/checkpoints/moons__1-rf__mlp-default.safetensors");
 */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new SafetensorsError(path, `cannot read (${msg})`);
  }
  return new SafetensorsFile(bytes, path);
}

/** A tensor to write: F32 or F64 data in row-major order. */
export interface TensorToWrite {
  shape: number[];
  data: Float32Array | Float64Array;
}

/**
 * Serialise tensors to safetensors bytes (F32 for Float32Array, F64 for Float64Array), in the
 * given key order, with an optional string-valued `__metadata__`. The header is space-padded so
 * the data section starts 8-byte aligned.
 * @example
 * const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } }, {
 *   step: "10",
 * }); // 104 bytes: header length, JSON header padded to 8 bytes, 8 data bytes
 */
export function encodeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new Error(
        `encodeSafetensors: "${name}" has ${t.data.length} values but shape ` +
          `${JSON.stringify(t.shape)} needs ${count}`,
      );
    }
    const f64 = t.data instanceof Float64Array;
    const end = offset + t.data.length * (f64 ? 8 : 4);
    header[name] = { dtype: f64 ? "F64" : "F32", shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const t of Object.values(tensors)) {
    if (t.data instanceof Float64Array) {
      for (let i = 0; i < t.data.length; i++, pos += 8) dv.setFloat64(pos, t.data[i], true);
    } else {
      for (let i = 0; i < t.data.length; i++, pos += 4) dv.setFloat32(pos, t.data[i], true);
    }
  }
  return out;
}

/**
 * Read only the `__metadata__` of a safetensors file (its header), without loading the tensors.
 * @example
 * const meta = await readSafetensorsMetadata("runs/x/checkpoints/r.safetensors"); // { format: ... }
 */
export async function readSafetensorsMetadata(path: string): Promise<Record<string, string>> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new SafetensorsError(path, `cannot read (${msg})`);
  }
  try {
    const readExactly = async (n: number): Promise<Uint8Array> => {
      const buf = new Uint8Array(n);
      let off = 0;
      while (off < n) {
        const got = await f.read(buf.subarray(off));
        if (got === null) throw new SafetensorsError(path, `truncated: header needs ${n} bytes`);
        off += got;
      }
      return buf;
    };
    const len = Number(new DataView((await readExactly(8)).buffer).getBigUint64(0, true));
    if (len > MAX_HEADER_BYTES) {
      throw new SafetensorsError(path, `bad header: declared length ${len} is too large`);
    }
    const size = (await f.stat()).size;
    if (8 + len > size) {
      throw new SafetensorsError(
        path,
        `truncated: header declares ${len} bytes but only ${Math.max(0, size - 8)} follow`,
      );
    }
    return parseHeader(await readExactly(len), path).metadata;
  } finally {
    f.close();
  }
}
