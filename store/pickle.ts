// A restricted unpickler: the data opcodes of pickle protocols 2-4 and only the globals a caller
// allows; every other global, opcode or call is refused with an error naming it. Nothing runs,
// nothing recurses, and the stack and memo have stated limits a file cannot raise.
import { safeText } from "./quote.ts";

/**
 * Most items the unpickler's stack may hold (a state dict's pickle holds a few thousand): more is
 * refused with this limit named, before the items are built.
 * @example
 * MAX_STACK_ITEMS; // 4194304
 */
export const MAX_STACK_ITEMS = 1 << 22;
/**
 * Most memo entries a pickle may define.
 * @example
 * MAX_MEMO_ENTRIES; // 4194304
 */
export const MAX_MEMO_ENTRIES = 1 << 22;

/**
 * Raised for a pickle that is malformed or asks for something not allowed.
 * @example
 * new PickleError("x.pkl", "refused global os.system").message; // "pickle x.pkl: refused global os.system"
 */
export class PickleError extends Error {
  constructor(source: string, problem: string) {
    super(`pickle ${source}: ${problem}`);
    this.name = "PickleError";
  }
}

/**
 * A Python tuple (lists are plain arrays, dicts are Maps).
 * @example
 * new PickleTuple([1, 2]).items; // [1, 2]
 */
export class PickleTuple {
  constructor(readonly items: PickleValue[]) {}
}

/**
 * A reference to an allowed global that has not been called (e.g. torch.FloatStorage).
 * @example
 * new PickleGlobal("collections", "OrderedDict").qualified; // "collections.OrderedDict"
 */
export class PickleGlobal {
  constructor(readonly module: string, readonly name: string) {}
  /** "module.name" */
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A value the unpickler produces. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleTuple
  | PickleValue[]
  | Map<PickleKey, PickleValue>
  | PickleGlobal
  | PickleObject;

/** An object made by a caller's callback (persistentLoad, an allowed call), tagged by kind. */
export interface PickleObject {
  readonly kind: string;
}

/** Dict keys the unpickler accepts (hashable scalars). */
export type PickleKey = string | number | bigint | boolean | null;

/** What an allowed global may be used for. */
export interface AllowedGlobal {
  /** REDUCE: called with the argument tuple's items; absent = the global cannot be called. */
  call?: (args: PickleValue[]) => PickleValue;
  /** BUILD on an object this global's call made; absent = BUILD is refused. */
  build?: (obj: PickleValue, state: PickleValue) => void;
}

/** Options for unpickle. */
export interface UnpickleOptions {
  /** Where the bytes came from, for error messages. */
  source: string;
  /** Allowed globals by "module.name"; everything else is refused. */
  globals: Record<string, AllowedGlobal>;
  /** BINPERSID: turns a persistent id into a value; absent = persistent ids are refused. */
  persistentLoad?: (pid: PickleValue) => PickleValue;
}

/** Opcode names for error messages (all of pickle's opcodes, allowed or not). */
const OPCODE_NAMES: Record<number, string> = {
  0x28: "MARK",
  0x2e: "STOP",
  0x30: "POP",
  0x31: "POP_MARK",
  0x32: "DUP",
  0x46: "FLOAT",
  0x49: "INT",
  0x4a: "BININT",
  0x4b: "BININT1",
  0x4c: "LONG",
  0x4d: "BININT2",
  0x4e: "NONE",
  0x50: "PERSID",
  0x51: "BINPERSID",
  0x52: "REDUCE",
  0x53: "STRING",
  0x54: "BINSTRING",
  0x55: "SHORT_BINSTRING",
  0x56: "UNICODE",
  0x58: "BINUNICODE",
  0x61: "APPEND",
  0x62: "BUILD",
  0x63: "GLOBAL",
  0x64: "DICT",
  0x7d: "EMPTY_DICT",
  0x65: "APPENDS",
  0x67: "GET",
  0x68: "BINGET",
  0x69: "INST",
  0x6a: "LONG_BINGET",
  0x6c: "LIST",
  0x5d: "EMPTY_LIST",
  0x6f: "OBJ",
  0x70: "PUT",
  0x71: "BINPUT",
  0x72: "LONG_BINPUT",
  0x73: "SETITEM",
  0x74: "TUPLE",
  0x29: "EMPTY_TUPLE",
  0x75: "SETITEMS",
  0x47: "BINFLOAT",
  0x80: "PROTO",
  0x81: "NEWOBJ",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x85: "TUPLE1",
  0x86: "TUPLE2",
  0x87: "TUPLE3",
  0x88: "NEWTRUE",
  0x89: "NEWFALSE",
  0x8a: "LONG1",
  0x8b: "LONG4",
  0x42: "BINBYTES",
  0x43: "SHORT_BINBYTES",
  0x8c: "SHORT_BINUNICODE",
  0x8d: "BINUNICODE8",
  0x8e: "BINBYTES8",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
  0x92: "NEWOBJ_EX",
  0x93: "STACK_GLOBAL",
  0x94: "MEMOIZE",
  0x95: "FRAME",
  0x96: "BYTEARRAY8",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
};

const MARK = Symbol("mark");
type StackItem = PickleValue | typeof MARK;

/** The result of unpickle: the value and the byte just past its STOP opcode. */
export interface Unpickled {
  value: PickleValue;
  end: number;
}

/**
 * Unpickle one pickle starting at `offset` (several may follow each other, as in PyTorch's legacy
 * format). Only data opcodes are interpreted; GLOBAL/STACK_GLOBAL resolve to `opts.globals` or
 * are refused, REDUCE calls only an allowed global's `call`, BUILD only its `build`.
 * @example
 * // pickle.dumps({"a": (1, 2)}, protocol=2)
 * const bytes = Uint8Array.from([128, 2, 125, 113, 0, 88, 1, 0, 0, 0, 97, 113, 1, 75, 1, 75, 2, 134, 113, 2, 115, 46]);
 * const { value } = unpickle(bytes, { source: "example", globals: {} }); // Map { "a" => PickleTuple [1, 2] }
 */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions, offset = 0): Unpickled {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  const remember = (key: number, v: PickleValue) => {
    if (memo.size >= MAX_MEMO_ENTRIES && !memo.has(key)) {
      fail(`more than ${MAX_MEMO_ENTRIES} memo entries (the limit) at byte ${pos - 1}`);
    }
    memo.set(key, v);
  };
  const madeBy = new WeakMap<object, AllowedGlobal>();
  let pos = offset;
  const fail = (problem: string): never => {
    throw new PickleError(opts.source, problem);
  };
  const need = (n: number) => {
    if (pos + n > bytes.length) fail(`truncated: needs ${n} more bytes at byte ${pos}`);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const utf8 = (n: number) => {
    const b = take(n); // a truncated string fails here, at the byte its length was read
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(b);
    } catch {
      return fail(`invalid UTF-8 string at byte ${pos - n}`);
    }
  };
  const latin1 = (n: number) => new TextDecoder("latin1").decode(take(n));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail(`truncated: unterminated line at byte ${pos}`);
    const s = new TextDecoder().decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PickleValue => {
    if (stack.length === 0) fail(`stack underflow at byte ${pos - 1}`);
    const v = stack.pop()!;
    if (v === MARK) fail(`unexpected MARK at byte ${pos - 1}`);
    return v as PickleValue;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail(`stack underflow at byte ${pos - 1}`);
    return v as PickleValue;
  };
  const popMark = (): PickleValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) fail(`no MARK on the stack at byte ${pos - 1}`);
    const items = stack.splice(at) as PickleValue[];
    items.shift();
    return items;
  };
  const resolveGlobal = (module: string, name: string): PickleGlobal => {
    const key = `${module}.${name}`;
    if (!Object.hasOwn(opts.globals, key)) {
      const allowed = Object.keys(opts.globals).join(", ") || "none";
      fail(
        `refused global ${
          safeText(key)
        } (only these are allowed: ${allowed}); nothing was executed`,
      );
    }
    return new PickleGlobal(module, name);
  };
  const asKey = (k: PickleValue): PickleKey => {
    const t = typeof k;
    if (k === null || t === "string" || t === "number" || t === "bigint" || t === "boolean") {
      return k as PickleKey;
    }
    return fail(`unsupported dict key of type ${describe(k)} at byte ${pos - 1}`);
  };
  const asMap = (v: PickleValue, op: string): Map<PickleKey, PickleValue> => {
    if (!(v instanceof Map)) fail(`${op} on a ${describe(v)} at byte ${pos - 1}, not a dict`);
    return v as Map<PickleKey, PickleValue>;
  };
  const asList = (v: PickleValue, op: string): PickleValue[] => {
    if (!Array.isArray(v)) fail(`${op} on a ${describe(v)} at byte ${pos - 1}, not a list`);
    return v as PickleValue[];
  };

  for (;;) {
    if (stack.length > MAX_STACK_ITEMS) {
      fail(`more than ${MAX_STACK_ITEMS} items on the stack (the limit) at byte ${pos}`);
    }
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: { // PROTO
        const p = u8();
        if (p > 5) fail(`unsupported pickle protocol ${p}`);
        break;
      }
      case 0x95: // FRAME: framing only, the data follows inline
        take(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) fail(`STOP with ${stack.length} items on the stack`);
        return { value: pop(), end: pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PickleTuple([]));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(take(u8())));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(u8()));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str)
        stack.push(latin1(u8()));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x85: // TUPLE1
        stack.push(new PickleTuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push(new PickleTuple([pop(), b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PickleTuple([pop(), b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new PickleTuple(popMark()));
        break;
      case 0x61: { // APPEND
        const v = pop();
        asList(top(), "APPEND").push(v);
        break;
      }
      case 0x65: { // APPENDS: a loop, never push(...items): a long list would overflow the stack
        const items = popMark();
        const list = asList(top(), "APPENDS");
        for (let i = 0; i < items.length; i++) list.push(items[i]);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = asKey(pop());
        asMap(top(), "SETITEM").set(k, v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) fail(`SETITEMS with an odd number of items at byte ${at}`);
        const m = asMap(top(), "SETITEMS");
        for (let i = 0; i < items.length; i += 2) m.set(asKey(items[i]), items[i + 1]);
        break;
      }
      case 0x71: // BINPUT
        remember(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        remember(u32(), top());
        break;
      case 0x94: // MEMOIZE
        remember(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`memo key ${i} not defined (byte ${at})`);
        stack.push(memo.get(i)!);
        break;
      }
      case 0x63: { // GLOBAL
        const module = line();
        stack.push(resolveGlobal(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          fail(`STACK_GLOBAL needs two strings at byte ${at}`);
        }
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail(`persistent id at byte ${at} but none are expected`);
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PickleGlobal)) fail(`REDUCE of a ${describe(fn)} at byte ${at}`);
        const g = opts.globals[(fn as PickleGlobal).qualified];
        if (!g.call) {
          fail(
            `refused call of ${(fn as PickleGlobal).qualified} at byte ${at} (not callable here)`,
          );
        }
        if (!(args instanceof PickleTuple)) fail(`REDUCE arguments are not a tuple at byte ${at}`);
        const out = g.call!((args as PickleTuple).items);
        if (out !== null && typeof out === "object") madeBy.set(out, g);
        stack.push(out);
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        const g = obj !== null && typeof obj === "object" ? madeBy.get(obj) : undefined;
        if (!g?.build) fail(`refused BUILD on a ${describe(obj)} at byte ${at}`);
        g!.build!(obj, state);
        break;
      }
      default:
        fail(
          `refused opcode 0x${op.toString(16).padStart(2, "0")} ${
            OPCODE_NAMES[op] ?? "(unknown)"
          } at byte ${at}; only the data opcodes of a state dict are allowed`,
        );
    }
  }
}

/** Little-endian two's complement integer (LONG1); a number when it is safe, else a bigint. */
function long(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  const safe = v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER);
  return safe ? Number(v) : v;
}

/**
 * A short description of a value's kind for error messages.
 * @example
 * describe(new PickleTuple([])); // "tuple"
 */
export function describe(v: PickleValue | undefined): string {
  if (v === null) return "None";
  if (v instanceof PickleTuple) return "tuple";
  if (v instanceof PickleGlobal) return `global ${v.qualified}`;
  if (v instanceof Map) return "dict";
  if (Array.isArray(v)) return "list";
  if (v instanceof Uint8Array) return "bytes";
  return typeof v === "object" ? "object" : typeof v;
}
