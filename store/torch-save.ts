// Write PyTorch checkpoints from code (fixtures and parity exports), in torch.save's zip layout (stored entries,
// 64-byte aligned data) or its legacy stream, with the opcodes torch emits (protocol 2, memoised
// globals), plus a small pickle assembler for hostile inputs.
import { crc32 } from "./crc32.ts";

/** A storage: raw little-endian elements of one dtype. */
export interface PthStorage {
  /** torch storage class name, e.g. "FloatStorage", "LongStorage". */
  type: string;
  data: Uint8Array;
  /** Element count (data.length / element size). */
  numel: number;
}

/** A tensor as a strided view of a named storage. */
export interface PthTensor {
  storage: string;
  offset: number;
  shape: number[];
  stride: number[];
}

/** A state dict to write: storages by key, tensors by name in order. */
export interface PthSpec {
  storages: Map<string, PthStorage>;
  tensors: Array<[string, PthTensor]>;
  /** Add the `_metadata` BUILD that model.state_dict() carries (default true). */
  metadata?: boolean;
}

/** Little-endian float32 bytes of values. */
export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) {
    return new Uint8Array(Float32Array.from(values).buffer);
  }
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(4 * i, values[i], true);
  return out;
}

/** Little-endian int64 bytes of values. */
export function i64Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
  return out;
}

/** A protocol-2 pickle assembler: call the opcode methods, then bytes(). */
export class PickleWriter {
  private parts: number[] = [];
  private memo = new Map<string, number>();

  constructor() {
    this.op(0x80, 2); // PROTO 2
  }

  /** Raw opcode bytes. */
  op(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }

  private u32(v: number): number[] {
    return [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
  }

  /** BINUNICODE */
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.op(0x58, ...this.u32(b.length), ...b);
  }

  /** BININT1 / BININT2 / BININT / LONG1 as torch's pickler would choose. */
  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(0x4b, v);
    if (v >= 0 && v < 65536) return this.op(0x4d, v & 255, v >> 8);
    if (v >= -(2 ** 31) && v < 2 ** 31) return this.op(0x4a, ...this.u32(v >>> 0));
    let x = BigInt(v);
    const bytes: number[] = [];
    while (x !== 0n && x !== -1n) {
      bytes.push(Number(x & 255n));
      x >>= 8n;
    }
    if (v > 0 && bytes[bytes.length - 1] & 0x80) bytes.push(0);
    return this.op(0x8a, bytes.length, ...bytes);
  }

  /** GLOBAL "module\nname\n", memoised: BINPUT the first time, BINGET after. */
  global(module: string, name: string): this {
    const key = `${module}\n${name}\n`;
    const hit = this.memo.get(key);
    if (hit !== undefined) return this.op(0x68, hit);
    const id = this.memo.size;
    this.memo.set(key, id);
    return this.op(0x63, ...new TextEncoder().encode(key)).op(0x71, id);
  }

  mark(): this {
    return this.op(0x28);
  }

  tuple(): this {
    return this.op(0x74);
  }

  emptyTuple(): this {
    return this.op(0x29);
  }

  reduce(): this {
    return this.op(0x52);
  }

  /** The pickle, terminated with STOP. */
  bytes(): Uint8Array {
    return Uint8Array.from([...this.parts, 0x2e]);
  }
}

/** The state-dict pickle torch.save writes; `legacy` adds the legacy persistent-id view slot. */
export function stateDictPickle(spec: PthSpec, legacy: boolean): Uint8Array {
  const w = new PickleWriter();
  writeStateDict(w, spec, legacy);
  return w.bytes();
}

/** A state dict (an OrderedDict of tensors) onto the pickle stack. */
function writeStateDict(w: PickleWriter, spec: PthSpec, legacy: boolean): void {
  w.global("collections", "OrderedDict").emptyTuple().reduce().mark();
  for (const [name, t] of spec.tensors) {
    const s = spec.storages.get(t.storage);
    if (!s) throw new Error(`stateDictPickle: tensor ${name} names unknown storage ${t.storage}`);
    w.str(name).global("torch._utils", "_rebuild_tensor_v2").mark();
    w.mark().str("storage").global("torch", s.type).str(t.storage).str("cpu").int(s.numel);
    if (legacy) w.op(0x4e); // view_metadata = None
    w.tuple().op(0x51); // BINPERSID
    w.int(t.offset);
    w.mark();
    for (const n of t.shape) w.int(n);
    w.tuple().mark();
    for (const n of t.stride) w.int(n);
    w.tuple().op(0x89); // requires_grad False
    w.global("collections", "OrderedDict").emptyTuple().reduce(); // backward hooks
    w.tuple().reduce();
  }
  w.op(0x75); // SETITEMS
  if (spec.metadata ?? true) {
    // state = {"_metadata": OrderedDict({"": {"version": 1}})}, then BUILD
    w.op(0x7d).mark().str("_metadata");
    w.global("collections", "OrderedDict").emptyTuple().reduce();
    w.mark().str("").op(0x7d).mark().str("version").int(1).op(0x75).op(0x75);
    w.op(0x75).op(0x62);
  }
}

/** A training checkpoint in TorchCFM's layout: state dicts and plain values under string keys. */
export interface CheckpointSpec {
  /** State dicts by key (e.g. net_model, ema_model); their storage keys must not collide. */
  stateDicts: Record<string, PthSpec>;
  /** Integer entries (e.g. step), and empty dicts standing for optimizer/scheduler states. */
  ints?: Record<string, number>;
  emptyDicts?: string[];
}

/**
 * torch.save of a dict like TorchCFM's `{net_model, ema_model, optim, sched, step}` in the zip
 * layout (the optimizer and scheduler states as empty dicts here).
 * @example
 * const bytes = encodeCheckpointZip({ stateDicts: { ema_model: spec }, ints: { step: 400000 } });
 */
export function encodeCheckpointZip(spec: CheckpointSpec, prefix = "archive"): Uint8Array {
  const w = new PickleWriter();
  w.op(0x7d).mark(); // EMPTY_DICT, MARK
  const storages: Array<[string, PthStorage]> = [];
  for (const [key, sd] of Object.entries(spec.stateDicts)) {
    w.str(key);
    writeStateDict(w, sd, false);
    for (const [k, s] of sd.storages) {
      if (storages.some(([x]) => x === k)) {
        throw new Error(`encodeCheckpointZip: storage key ${k} is used by two state dicts`);
      }
      storages.push([k, s]);
    }
  }
  for (const key of spec.emptyDicts ?? []) w.str(key).op(0x7d);
  for (const [key, n] of Object.entries(spec.ints ?? {})) w.str(key).int(n);
  w.op(0x75); // SETITEMS
  const entries: Array<[string, Uint8Array]> = [[`${prefix}/data.pkl`, w.bytes()]];
  for (const [key, s] of storages) entries.push([`${prefix}/data/${key}`, s.data]);
  entries.push([`${prefix}/version`, new TextEncoder().encode("3\n")]);
  return storedZip(entries);
}

/** torch.save's zip layout: `<prefix>/data.pkl`, `<prefix>/data/<key>`, `<prefix>/version`. */
export function encodePthZip(spec: PthSpec, prefix = "archive"): Uint8Array {
  const entries: Array<[string, Uint8Array]> = [[
    `${prefix}/data.pkl`,
    stateDictPickle(spec, false),
  ]];
  for (const [key, s] of spec.storages) entries.push([`${prefix}/data/${key}`, s.data]);
  entries.push([`${prefix}/version`, new TextEncoder().encode("3\n")]);
  return storedZip(entries);
}

/** A zip of stored entries with data aligned to 64 bytes (padding in the local extra field). */
export function storedZip(entries: Array<[string, Uint8Array]>): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const base = offset + 30 + nameBytes.length + 4;
    const pad = (64 - (base % 64)) % 64;
    const local = new Uint8Array(30 + nameBytes.length + 4 + pad);
    const dv = new DataView(local.buffer);
    const crc = crc32(data);
    dv.setUint32(0, 0x04034b50, true);
    dv.setUint16(4, 20, true);
    dv.setUint32(14, crc, true);
    dv.setUint32(18, data.length, true);
    dv.setUint32(22, data.length, true);
    dv.setUint16(26, nameBytes.length, true);
    dv.setUint16(28, 4 + pad, true);
    local.set(nameBytes, 30);
    dv.setUint16(30 + nameBytes.length, 0x4246, true); // "FB" padding field, as torch writes
    dv.setUint16(32 + nameBytes.length, pad, true);
    const c = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    c.set(nameBytes, 46);
    chunks.push(local, data);
    central.push(c);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  return concat([...chunks, ...central, eocd]);
}

/** torch.save's legacy stream: magic, version, sys_info, state dict, key list, storages. */
export function encodePthLegacy(spec: PthSpec): Uint8Array {
  // The magic number 0x1950a86a20f9469cfc6c exceeds 2^53: its LONG1 bytes, written out.
  const magicBytes = new PickleWriter()
    .op(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).bytes();
  const version = new PickleWriter().int(1001).bytes();
  const sys = new PickleWriter().op(0x7d).mark().str("protocol_version").int(1001)
    .str("little_endian").op(0x88).str("type_sizes").op(0x7d).mark().str("short").int(2)
    .str("int").int(4).str("long").int(4).op(0x75).op(0x75).bytes();
  const keys = [...spec.storages.keys()].sort();
  const list = new PickleWriter().op(0x5d).mark();
  for (const k of keys) list.str(k);
  list.op(0x65); // APPENDS
  const data: Uint8Array[] = [];
  for (const k of keys) {
    const s = spec.storages.get(k)!;
    data.push(i64Bytes([s.numel]), s.data);
  }
  return concat([magicBytes, version, sys, stateDictPickle(spec, true), list.bytes(), ...data]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Row-major strides of a shape. */
export function contiguousStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * A float32 state dict as a PthSpec: one contiguous FloatStorage per tensor, in order, keyed
 * `${prefix}0`, `${prefix}1`, ... (distinct prefixes keep two state dicts of one checkpoint apart).
 * @example
 * const spec = float32StateDictSpec(new Map([["w", { shape: [2], data: Float32Array.of(1, 2) }]]));
 * encodeCheckpointZip({ stateDicts: { net_model: spec } });
 */
export function float32StateDictSpec(
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
  prefix = "",
): PthSpec {
  const storages = new Map<string, PthStorage>(), list: PthSpec["tensors"] = [];
  for (const [name, t] of tensors) {
    const key = `${prefix}${storages.size}`;
    storages.set(key, { type: "FloatStorage", data: f32Bytes(t.data), numel: t.data.length });
    list.push([name, {
      storage: key,
      offset: 0,
      shape: t.shape,
      stride: contiguousStrides(t.shape),
    }]);
  }
  return { storages, tensors: list };
}
