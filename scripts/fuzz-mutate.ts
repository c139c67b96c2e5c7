// The fuzz test's mutations, seeded and deterministic: byte-level (flips, interesting integers,
// truncation, splices) and structure-aware (a JSON value's nodes replaced by hostile values).
import { rng } from "../core/rng.ts";

/** A seeded source of choices. */
export interface Rand {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
}

/**
 * A seeded Rand (core/rng's generator).
 * @example
 * rand(7).int(10); // the same number on every run
 */
export function rand(seed: number): Rand {
  const u = rng(seed);
  return {
    next: u,
    int: (n) => Math.floor(u() * n),
    pick: (xs) => xs[Math.floor(u() * xs.length)],
  };
}

/** Integers that find off-by-one, sign and overflow bugs in length and offset fields. */
const INTERESTING_U32 = [
  0,
  1,
  2,
  7,
  8,
  0x7f,
  0x80,
  0xff,
  0x100,
  0xffff,
  0x10000,
  0x7fffffff,
  0x80000000,
  0xfffffff8,
  0xfffffffe,
  0xffffffff,
];

/**
 * One to three byte-level mutations of `input` (a copy): bit flips, an interesting byte, a 2-,
 * 4- or 8-byte interesting little-endian integer, truncation, a deleted, duplicated or
 * inserted run.
 * @example
 * const bad = mutateBytes(good, rand(1));
 */
export function mutateBytes(input: Uint8Array, r: Rand): Uint8Array {
  let b: Uint8Array = input.slice();
  for (let n = 1 + r.int(3); n > 0; n--) {
    const at = b.length ? r.int(b.length) : 0;
    switch (r.int(8)) {
      case 0:
        if (b.length) b[at] ^= 1 << r.int(8);
        break;
      case 1:
        if (b.length) b[at] = r.pick([0, 0xff, 0x7f, 0x80, 0x0a, 0x1b, 0x22, 0x5c, 0x2e, 0x28]);
        break;
      case 2: {
        const width = r.pick([2, 4, 8]);
        if (at + width > b.length) break;
        const v = r.pick(INTERESTING_U32);
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        if (width === 2) dv.setUint16(at, v & 0xffff, true);
        else if (width === 4) dv.setUint32(at, v >>> 0, true);
        else dv.setBigUint64(at, r.next() < 0.5 ? BigInt(v) : 0xffffffffffffff00n, true);
        break;
      }
      case 3:
        b = b.slice(0, at);
        break;
      case 4: {
        const len = 1 + r.int(Math.min(64, b.length - at || 1));
        b = concat(b.subarray(0, at), b.subarray(at + len));
        break;
      }
      case 5: {
        const len = 1 + r.int(Math.min(256, b.length - at || 1));
        const run = b.slice(at, at + len);
        b = concat(b.subarray(0, at), run, b.subarray(at));
        break;
      }
      case 6: {
        const ins = Uint8Array.from({ length: 1 + r.int(16) }, () => r.int(256));
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      default:
        for (let i = 0; i < 1 + r.int(8) && b.length; i++) b[r.int(b.length)] = r.int(256);
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A nest of `depth` arrays, built without recursion. */
function deep(depth: number): unknown {
  let v: unknown = [1];
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** Values a file fmbench reads back must survive. */
const HOSTILE: Array<() => unknown> = [
  () => -1e308,
  () => 1e308,
  () => -1,
  () => -1000000,
  () => 0,
  () => 0.5,
  () => 2.5,
  () => 1e29,
  () => 2 ** 53,
  () => -0,
  () => null,
  () => true,
  () => "NaN",
  () => "",
  () => "\u001b[2J\u001b]0;pwned\u0007\n",
  () => "x".repeat(70_000),
  () => [],
  () => ({}),
  () => [1, "a", null],
  () => [[10, 0.5], [5, "x"]],
  () => JSON.parse('{"a": 1, "__proto__": 2, "constructor": 3}'),
  () => deep(200),
  () => Array.from({ length: 100_000 }, (_, i) => i),
];

/**
 * A structure-aware mutation of a parsed JSON value (a copy): one to three nodes replaced by
 * hostile values (huge, negative, non-integer, wrong type, deep, long), removed, or duplicated.
 * @example
 * const bad = mutateJson({ step: 20, curve: [[10, 0.5]] }, rand(3));
 */
export function mutateJson(value: unknown, r: Rand): unknown {
  const root = { v: structuredClone(value) as unknown };
  for (let n = 1 + r.int(3); n > 0; n--) {
    // Every (container, key) pair, found without recursion (capped).
    const slots: Array<[Record<string, unknown>, string]> = [[
      root as Record<string, unknown>,
      "v",
    ]];
    for (let i = 0; i < slots.length && slots.length < 5000; i++) {
      const [o, k] = slots[i];
      const v = o[k];
      if (v !== null && typeof v === "object") {
        for (const key of Object.keys(v).slice(0, 200)) {
          slots.push([v as Record<string, unknown>, key]);
        }
      }
    }
    const [o, k] = r.pick(slots);
    const op = r.int(10);
    if (op === 0 && o !== root) {
      if (Array.isArray(o)) o.splice(Number(k), 1);
      else delete o[k];
    } else if (op === 1 && Array.isArray(o[k])) {
      const a = o[k] as unknown[];
      if (a.length) a.push(structuredClone(a[r.int(a.length)]));
    } else if (op === 2 && typeof o[k] === "number") {
      o[k] = (o[k] as number) * r.pick([-1, 2, 1e6, 0.5]) + r.pick([0, 1, -1]);
    } else {
      o[k] = r.pick(HOSTILE)();
    }
  }
  return root.v;
}

/**
 * Mutate JSON text: mostly structure-aware (when it parses), else byte-level.
 * @example
 * const text = mutateJsonText('{"pid": 7}', rand(2));
 */
export function mutateJsonText(text: string, r: Rand): string {
  if (r.next() < 0.75) {
    try {
      return JSON.stringify(mutateJson(JSON.parse(text), r)) ?? "null";
    } catch {
      // not JSON any more: mutate the bytes
    }
  }
  return new TextDecoder().decode(mutateBytes(new TextEncoder().encode(text), r));
}
