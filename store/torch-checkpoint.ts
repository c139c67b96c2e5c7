// Read a PyTorch state dict saved by torch.save, without running it: the zip layout (torch >= 1.6,
// `<name>/data.pkl` + raw storages `<name>/data/<key>`) and the legacy stream (pickles followed by
// the storages). Tensors are views on their storage: offset, size and stride are honoured.
import { halfToFloat } from "./safetensors.ts";
import {
  type AllowedGlobal,
  describe,
  PickleError,
  PickleGlobal,
  PickleTuple,
  type PickleValue,
  unpickle,
} from "./pickle.ts";
import { looksLikeZip, ZipArchive, ZipError } from "./zip.ts";
import { quote, quoteList, safeText } from "./quote.ts";

/**
 * Raised for a checkpoint that is not a readable state dict; the message names the file.
 * @example
 * new TorchCheckpointError("w.pth", "no tensor named \"x\"").message; // "PyTorch checkpoint w.pth: no tensor named \"x\""
 */
export class TorchCheckpointError extends Error {
  constructor(source: string, problem: string) {
    super(`PyTorch checkpoint ${source}: ${problem}`);
    this.name = "TorchCheckpointError";
  }
}

/** Storage classes by name, with the safetensors-style dtype and bytes per element. */
const STORAGE_TYPES: Record<string, { dtype: string; bytes: number }> = {
  FloatStorage: { dtype: "F32", bytes: 4 },
  DoubleStorage: { dtype: "F64", bytes: 8 },
  HalfStorage: { dtype: "F16", bytes: 2 },
  BFloat16Storage: { dtype: "BF16", bytes: 2 },
  LongStorage: { dtype: "I64", bytes: 8 },
  IntStorage: { dtype: "I32", bytes: 4 },
  ShortStorage: { dtype: "I16", bytes: 2 },
  CharStorage: { dtype: "I8", bytes: 1 },
  ByteStorage: { dtype: "U8", bytes: 1 },
  BoolStorage: { dtype: "BOOL", bytes: 1 },
};

/**
 * Most elements a tensor view may decode to beyond what its storage holds (a stride-0 or
 * overlapping view repeats elements): 2^24, 64 MiB of float32.
 * @example
 * MAX_EXPANDED_ELEMENTS; // 16777216
 */
export const MAX_EXPANDED_ELEMENTS = 1 << 24;

/**
 * Most dimensions a tensor may have (PyTorch's own limit is 64).
 * @example
 * MAX_RANK; // 64
 */
export const MAX_RANK = 64;

/** The magic number that opens a legacy (pre-zip) torch.save stream. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** A storage named by a persistent id; `bytes` are filled in once the data is located. */
interface StorageRef {
  readonly kind: "storage";
  key: string;
  dtype: string;
  elementBytes: number;
  /** Elements the pickle says the storage holds. */
  numel: number;
  bytes?: Uint8Array;
}

/** A tensor as the pickle describes it: a strided view of a storage. */
export interface TorchTensor {
  readonly kind: "tensor";
  storage: StorageRef;
  /** safetensors-style dtype: F32, F64, F16, BF16, I64, ... */
  dtype: string;
  shape: number[];
  stride: number[];
  /** Offset into the storage, in elements. */
  offset: number;
}

function isTensor(v: unknown): v is TorchTensor {
  return typeof v === "object" && v !== null && (v as { kind?: string }).kind === "tensor";
}

function isStorage(v: unknown): v is StorageRef {
  return typeof v === "object" && v !== null && (v as { kind?: string }).kind === "storage";
}

/** Which on-disk layout a checkpoint uses. */
export type TorchFormat = "zip" | "legacy";

/**
 * A PyTorch state dict (a dict of tensor name -> tensor) read from torch.save bytes. Implements
 * the same lookup interface as SafetensorsFile (names, entry, float32, float64).
 * @example
 * const ckpt = readTorchCheckpoint(await Deno.readFile("pt_inception-2015-12-05-6726825d.pth"), "w.pth");
 * ckpt.entry("Conv2d_1a_3x3.conv.weight"); // { dtype: "F32", shape: [32, 3, 3, 3] }
 * const w = ckpt.float32("Conv2d_1a_3x3.conv.weight"); // row-major values
 */
export class TorchCheckpoint {
  constructor(
    private readonly tensors: Map<string, TorchTensor>,
    /** Where the bytes came from (a path), used in error messages. */
    readonly source: string,
    readonly format: TorchFormat,
    private readonly littleEndian = true,
  ) {}

  /** Tensor names in the order the state dict holds them. */
  names(): string[] {
    return [...this.tensors.keys()];
  }

  /** dtype and shape of `name`, or undefined. */
  entry(name: string): { dtype: string; shape: number[] } | undefined {
    const t = this.tensors.get(name);
    return t && { dtype: t.dtype, shape: [...t.shape] };
  }

  /** The full description of a tensor: storage key, offset, shape and stride. */
  tensor(name: string): TorchTensor | undefined {
    return this.tensors.get(name);
  }

  /** A floating-point tensor (F32, F64, F16, BF16) as a new row-major Float32Array. */
  float32(name: string): Float32Array {
    return this.decode(name, new Float32Array(this.count(name)));
  }

  /** A floating-point tensor as a new row-major Float64Array (exact for F64). */
  float64(name: string): Float64Array {
    return this.decode(name, new Float64Array(this.count(name)));
  }

  /**
   * Every tensor as { shape, data } with row-major float32 values (what Model.loadStateDict
   * takes); throws naming the first tensor that is not floating-point.
   */
  float32Tensors(): Map<string, { shape: number[]; data: Float32Array }> {
    return new Map(
      this.names().map((n) => [n, { shape: this.entry(n)!.shape, data: this.float32(n) }]),
    );
  }

  private require(name: string): TorchTensor {
    const t = this.tensors.get(name);
    if (!t) throw new TorchCheckpointError(this.source, `no tensor named ${quote(name)}`);
    return t;
  }

  private count(name: string): number {
    return this.require(name).shape.reduce((a, b) => a * b, 1);
  }

  private decode<T extends Float32Array | Float64Array>(name: string, out: T): T {
    const t = this.require(name);
    const read = this.reader(name, t);
    // Walk the strided view in row-major order (an odometer over the multi-index); the last axis
    // is copied in a tight loop.
    const rank = t.shape.length;
    if (rank === 0) {
      if (out.length) out[0] = read(t.offset);
      return out;
    }
    const inner = t.shape[rank - 1];
    const step = t.stride[rank - 1];
    const idx = new Array<number>(rank).fill(0);
    let src = t.offset;
    for (let o = 0; o < out.length; o += inner) {
      for (let k = 0; k < inner; k++) out[o + k] = read(src + k * step);
      for (let d = rank - 2; d >= 0; d--) {
        if (++idx[d] < t.shape[d]) {
          src += t.stride[d];
          break;
        }
        src -= (t.shape[d] - 1) * t.stride[d];
        idx[d] = 0;
      }
    }
    return out;
  }

  /** Element i of the tensor's storage as a number (a typed-array view when aligned and LE). */
  private reader(name: string, t: TorchTensor): (i: number) => number {
    const raw = t.storage.bytes!;
    const le = this.littleEndian;
    const native = le === (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1);
    if (native && (t.dtype === "F32" || t.dtype === "F64")) {
      const size = t.dtype === "F32" ? 4 : 8;
      // Typed views need aligned offsets: copy once if the storage is not aligned.
      const bytes = raw.byteOffset % size === 0 ? raw : raw.slice();
      const n = Math.floor(bytes.byteLength / size);
      const arr = t.dtype === "F32"
        ? new Float32Array(bytes.buffer, bytes.byteOffset, n)
        : new Float64Array(bytes.buffer, bytes.byteOffset, n);
      return (i) => arr[i];
    }
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    switch (t.dtype) {
      case "F32":
        return (i) => dv.getFloat32(4 * i, le);
      case "F64":
        return (i) => dv.getFloat64(8 * i, le);
      case "F16":
        return (i) => halfToFloat(dv.getUint16(2 * i, le));
      case "BF16": {
        const f = new Float32Array(1);
        const bits = new Uint32Array(f.buffer);
        return (i) => ((bits[0] = dv.getUint16(2 * i, le) << 16), f[0]);
      }
    }
    throw new TorchCheckpointError(
      this.source,
      `tensor ${quote(name)} has dtype ${t.dtype}; decodable: F32, F64, F16, BF16`,
    );
  }
}

/**
 * Which layout the bytes are in, or undefined if neither.
 * @example
 * torchFormatOf(await Deno.readFile("pt_inception-2015-12-05-6726825d.pth")); // "legacy"
 */
export function torchFormatOf(bytes: Uint8Array): TorchFormat | undefined {
  if (looksLikeZip(bytes)) return "zip";
  // Legacy: PROTO 2, then LONG1 of 10 bytes holding the magic number.
  const legacy = [
    0x80,
    0x02,
    0x8a,
    0x0a,
    0x6c,
    0xfc,
    0x9c,
    0x46,
    0xf9,
    0x20,
    0x6a,
    0xa8,
    0x50,
    0x19,
  ];
  if (bytes.length >= legacy.length && legacy.every((b, i) => bytes[i] === b)) return "legacy";
  return undefined;
}

/** Options of readTorchCheckpoint. */
export interface TorchCheckpointOptions {
  /**
   * The top-level key holding the state dict, for a checkpoint that is a dict of several things
   * (TorchCFM's {net_model, ema_model, optim, sched, step}); absent: the file is the state dict.
   */
  key?: string;
}

/**
 * Parse torch.save bytes holding a state dict (zip or legacy layout), or a dict holding state
 * dicts under `opts.key`. The pickle may only use the globals such files need
 * (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and its relatives, torch.*Storage);
 * anything else is refused before anything is built.
 * @example
 * const ckpt = readTorchCheckpoint(await Deno.readFile("model.pth"), "model.pth");
 * ckpt.names(); // ["conv.weight", ...]
 * const ema = readTorchCheckpoint(bytes, "otcfm_cifar10_weights_step_400000.pt", { key: "ema_model" });
 */
export function readTorchCheckpoint(
  bytes: Uint8Array,
  source: string,
  opts: TorchCheckpointOptions = {},
): TorchCheckpoint {
  const saved = readTorchSaved(bytes, source);
  const value = opts.key === undefined ? saved.value : entryAt(saved, opts.key);
  const tensors = stateDict(value, source, opts.key);
  return new TorchCheckpoint(tensors, source, saved.format, saved.littleEndian);
}

/**
 * What a torch.save file holds, decoded with the restricted unpickler: nested dicts (Maps),
 * lists, tuples (PickleTuple), ints, floats, bools, None, strings and tensors (TorchTensor, with
 * their storages read). Nothing outside that is built, and no code runs.
 * @example
 * const saved = readTorchSaved(await Deno.readFile("otcfm_cifar10_weights_step_400000.pt"), "otcfm.pt");
 * (saved.value as Map<string, unknown>).get("step"); // 400000
 */
export interface TorchSaved {
  value: PickleValue;
  format: TorchFormat;
  littleEndian: boolean;
  source: string;
}

/**
 * Decode any torch.save file made of data and tensors (a state dict, or a checkpoint dict of
 * state dicts, optimiser and scheduler states and numbers); errors name the file.
 * @example
 * const saved = readTorchSaved(bytes, "ckpt.pt");
 * [...(saved.value as Map<string, unknown>).keys()]; // ["net_model", "ema_model", "sched", "optim", "step"]
 */
export function readTorchSaved(bytes: Uint8Array, source: string): TorchSaved {
  const format = torchFormatOf(bytes);
  try {
    if (format === "zip") return readZip(bytes, source);
    if (format === "legacy") return readLegacy(bytes, source);
  } catch (e) {
    if (e instanceof PickleError || e instanceof ZipError) {
      throw new TorchCheckpointError(source, e.message);
    }
    throw e;
  }
  throw new TorchCheckpointError(
    source,
    "not a torch.save file (neither a zip archive nor the legacy pickle stream)",
  );
}

/** The value under a top-level key; a missing key lists the keys that exist. */
function entryAt(saved: TorchSaved, key: string): PickleValue {
  const top = saved.value;
  if (!(top instanceof Map)) {
    throw new TorchCheckpointError(
      saved.source,
      `holds a ${describe(top)}, not a dict, so it has no key ${quote(key)}`,
    );
  }
  if (!top.has(key)) {
    const keys = quoteList([...top.keys()]);
    throw new TorchCheckpointError(
      saved.source,
      `has no key ${quote(key)}; the keys that exist: ${keys || "none"}`,
    );
  }
  return top.get(key)!;
}

/**
 * Read a .pth file from disk; errors name the path.
 * @example
 * const ckpt = await readTorchCheckpointFile("data/pt_inception-2015-12-05-6726825d.pth");
 */
export async function readTorchCheckpointFile(path: string): Promise<TorchCheckpoint> {
  return readTorchCheckpoint(await Deno.readFile(path), path);
}

/** The globals a state dict may use, with what each is allowed to do. */
function stateDictGlobals(source: string): Record<string, AllowedGlobal> {
  const bad = (problem: string): never => {
    throw new TorchCheckpointError(source, problem);
  };
  const rebuild = (args: PickleValue[], fn: string): TorchTensor => {
    const [storage, offset, size, stride] = args;
    if (!isStorage(storage)) bad(`${fn}: first argument is a ${describe(storage)}, not a storage`);
    const shape = intTuple(size, `${fn} size`, bad);
    const strides = intTuple(stride, `${fn} stride`, bad);
    if (shape.length !== strides.length) {
      bad(`${fn}: size [${shape}] and stride [${strides}] have different lengths`);
    }
    if (typeof offset !== "number" || !Number.isInteger(offset) || offset < 0) {
      bad(`${fn}: storage offset ${String(offset)} is not a non-negative integer`);
    }
    const s = storage as StorageRef;
    const off = offset as number;
    // Elements the view decodes to: more than its storage holds only by repeating elements
    // (stride 0, overlapping strides), which is capped, so a few bytes cannot ask for gigabytes.
    const count = shape.reduce((a, n) => a * n, 1);
    if (count > s.numel && count > MAX_EXPANDED_ELEMENTS) {
      bad(
        `${fn}: a view of size [${shape}] (${count} elements) over storage ${quote(s.key)} of ` +
          `${s.numel} elements repeats elements beyond the limit of ${MAX_EXPANDED_ELEMENTS}`,
      );
    }
    const empty = shape.some((n) => n === 0);
    const last = off + shape.reduce((acc, n, i) => acc + (n - 1) * strides[i], 0);
    if (!empty && last >= s.numel) {
      bad(
        `${fn}: a view with offset ${off}, size [${shape}], stride [${strides}] reaches element ` +
          `${last} of storage ${quote(s.key)}, which holds ${s.numel}`,
      );
    }
    return { kind: "tensor", storage: s, dtype: s.dtype, shape, stride: strides, offset: off };
  };
  const allowed: Record<string, AllowedGlobal> = {
    "collections.OrderedDict": {
      call: (args) => {
        if (args.length !== 0) {
          bad(`OrderedDict called with ${args.length} arguments, expected none`);
        }
        return new Map();
      },
      // The state is the instance __dict__ (torch keeps `_metadata` there): not needed, dropped.
      build: () => {},
    },
    "torch._utils._rebuild_tensor_v2": {
      call: (args) => rebuild(args, "_rebuild_tensor_v2"),
    },
    "torch._utils._rebuild_tensor": {
      call: (args) => rebuild(args, "_rebuild_tensor"),
    },
    "torch._utils._rebuild_parameter": {
      call: (args) => {
        if (!isTensor(args[0])) bad(`_rebuild_parameter of a ${describe(args[0])}`);
        return args[0] as TorchTensor;
      },
    },
  };
  // Storage classes are only referenced inside persistent ids, never called.
  for (const name of Object.keys(STORAGE_TYPES)) allowed[`torch.${name}`] = {};
  return allowed;
}

function intTuple(v: PickleValue, what: string, bad: (p: string) => never): number[] {
  if (!(v instanceof PickleTuple)) return bad(`${what} is a ${describe(v)}, not a tuple`);
  if (v.items.length > MAX_RANK) {
    return bad(`${what} has ${v.items.length} dimensions, more than the limit of ${MAX_RANK}`);
  }
  return v.items.map((x) => {
    if (typeof x !== "number" || !Number.isInteger(x) || x < 0) {
      return bad(`${what} holds ${String(x)}, not a non-negative integer`);
    }
    return x;
  });
}

/** Decode a persistent id ('storage', torch.XStorage, key, location, numel[, view]). */
function storageFromPid(
  pid: PickleValue,
  source: string,
  storages: Map<string, StorageRef>,
): StorageRef {
  const bad = (problem: string): never => {
    throw new TorchCheckpointError(source, problem);
  };
  if (!(pid instanceof PickleTuple) || pid.items[0] !== "storage") {
    return bad(`persistent id ${describe(pid)} is not a ('storage', ...) tuple`);
  }
  const [, type, key, , numel, view] = pid.items;
  if (!(type instanceof PickleGlobal) || type.module !== "torch") {
    return bad(`persistent id names ${describe(type)}, not a torch storage class`);
  }
  const kind = STORAGE_TYPES[(type as PickleGlobal).name];
  if (!kind) return bad(`persistent id names ${describe(type)}, not a storage class`);
  if (typeof key !== "string") return bad(`storage key is a ${describe(key)}, not a string`);
  if (typeof numel !== "number" || !Number.isInteger(numel) || numel < 0) {
    return bad(`storage ${quote(key)} has size ${String(numel)}`);
  }
  if (view !== undefined && view !== null) {
    return bad(`storage ${quote(key)} is a legacy storage view, which torch >= 0.4 never writes`);
  }
  const seen = storages.get(key);
  if (seen) {
    if (seen.dtype !== kind.dtype) bad(`storage ${quote(key)} is used with two dtypes`);
    seen.numel = Math.max(seen.numel, numel);
    return seen;
  }
  const ref: StorageRef = {
    kind: "storage",
    key,
    dtype: kind.dtype,
    elementBytes: kind.bytes,
    numel,
  };
  storages.set(key, ref);
  return ref;
}

/** True for a dict whose every entry is a tensor under a string name. */
function isStateDict(v: PickleValue): boolean {
  return v instanceof Map && [...v].every(([k, t]) => typeof k === "string" && isTensor(t));
}

/**
 * Turn an unpickled value into name -> tensor; anything else is an error. `key` names where the
 * value came from; without one, a top-level dict holding state dicts gets an error naming them.
 */
function stateDict(value: PickleValue, source: string, key?: string): Map<string, TorchTensor> {
  const notSd = key === undefined ? "" : `key ${quote(key)} is not a state dict: `;
  if (!(value instanceof Map)) {
    throw new TorchCheckpointError(
      source,
      `${notSd}${notSd ? "it " : ""}holds a ${describe(value)}, expected a state dict (a dict ` +
        `of tensors)`,
    );
  }
  if (key === undefined && !isStateDict(value)) {
    const inner = [...value].filter(([, v]) => isStateDict(v)).map(([k]) => k);
    if (inner.length > 0) {
      throw new TorchCheckpointError(
        source,
        `is a checkpoint dict (keys ${quoteList([...value.keys()])}), not a state dict; ` +
          `choose the state dict with a checkpoint key: ${quoteList(inner)}`,
      );
    }
  }
  const out = new Map<string, TorchTensor>();
  for (const [k, v] of value) {
    if (typeof k !== "string" || !isTensor(v)) {
      throw new TorchCheckpointError(
        source,
        `${notSd}${notSd ? "its " : ""}entry ${quote(String(k))} holds a ` +
          `${describe(v as PickleValue)}, ` +
          `expected a tensor (a state dict holds only tensors)`,
      );
    }
    out.set(k, v);
  }
  return out;
}

function readZip(bytes: Uint8Array, source: string): TorchSaved {
  const zip = new ZipArchive(bytes, source);
  const pkl = zip.names().filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkl.length !== 1) {
    throw new TorchCheckpointError(
      source,
      `expected exactly one <name>/data.pkl entry, found ${pkl.length} ` +
        `(entries: ${quoteList(zip.names())})`,
    );
  }
  const prefix = pkl[0].slice(0, -"data.pkl".length);
  const order = zip.entry(`${prefix}byteorder`);
  const littleEndian = order
    ? new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim() !== "big"
    : true;
  const storages = new Map<string, StorageRef>();
  const { value } = unpickle(zip.read(pkl[0]), {
    source: `${source}:${pkl[0]}`,
    globals: stateDictGlobals(source),
    persistentLoad: (pid) => storageFromPid(pid, source, storages),
  });
  for (const s of storages.values()) {
    const name = `${prefix}data/${s.key}`;
    if (!zip.entry(name)) {
      throw new TorchCheckpointError(source, `storage entry ${safeText(name)} is missing`);
    }
    s.bytes = zip.read(name);
    checkLength(s, source);
  }
  return { value, format: "zip", littleEndian, source };
}

function readLegacy(bytes: Uint8Array, source: string): TorchSaved {
  const plain = { source, globals: {} };
  const magic = unpickle(bytes, plain);
  if (magic.value !== LEGACY_MAGIC) {
    throw new TorchCheckpointError(source, "legacy stream without torch's magic number");
  }
  const version = unpickle(bytes, plain, magic.end);
  if (version.value !== 1001) {
    throw new TorchCheckpointError(
      source,
      `legacy protocol version ${String(version.value)}, expected 1001`,
    );
  }
  const sysInfo = unpickle(bytes, plain, version.end);
  const info = sysInfo.value instanceof Map ? sysInfo.value : new Map();
  if (info.get("little_endian") === false) {
    throw new TorchCheckpointError(source, "saved on a big-endian machine; not supported");
  }
  const storages = new Map<string, StorageRef>();
  const main = unpickle(bytes, {
    source,
    globals: stateDictGlobals(source),
    persistentLoad: (pid) => storageFromPid(pid, source, storages),
  }, sysInfo.end);
  const keys = unpickle(bytes, plain, main.end);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === "string")) {
    throw new TorchCheckpointError(source, "the storage key list after the state dict is missing");
  }
  // Then, per key in that order: the element count (int64 LE) and the raw elements.
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const s = storages.get(key);
    if (!s) {
      throw new TorchCheckpointError(source, `storage ${quote(key)} is listed but never used`);
    }
    if (pos + 8 > bytes.length) {
      throw new TorchCheckpointError(source, `truncated: storage ${quote(key)} has no size`);
    }
    const count = Number(dv.getBigInt64(pos, true));
    const len = count * s.elementBytes;
    if (count < 0 || pos + 8 + len > bytes.length) {
      throw new TorchCheckpointError(
        source,
        `truncated: storage ${quote(key)} declares ${count} elements but the file ends first`,
      );
    }
    s.bytes = bytes.subarray(pos + 8, pos + 8 + len);
    pos += 8 + len;
    checkLength(s, source);
  }
  for (const s of storages.values()) {
    if (!s.bytes) throw new TorchCheckpointError(source, `storage ${quote(s.key)} has no data`);
  }
  return { value: main.value, format: "legacy", littleEndian: true, source };
}

function checkLength(s: StorageRef, source: string): void {
  const want = s.numel * s.elementBytes;
  if (s.bytes!.length < want) {
    throw new TorchCheckpointError(
      source,
      `storage ${quote(s.key)} has ${s.bytes!.length} bytes, its tensors need ${want}`,
    );
  }
}
