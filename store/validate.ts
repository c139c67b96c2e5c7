// Small explicit schema checks for the files fmbench reads back (checkpoints, weights, reflow
// pairs, locks, caches): typed checkers that name the field, the value and what is valid.
import { quote, safeMessage } from "./quote.ts";

/**
 * A file that fails its check: names the file and the problem; the caller sets the file aside.
 * @example
 * new FileCheckError("runs/x/ck.safetensors", "state.step = -1, expected an integer in [0, 40]")
 *   .message; // "runs/x/ck.safetensors: state.step = -1, expected an integer in [0, 40]"
 */
export class FileCheckError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
    this.name = "FileCheckError";
  }
}

/**
 * A value that fails a check: `at` is its field path.
 * @example
 * new ValidationError("state.step", "= -1, expected an integer >= 0").message;
 * // "state.step = -1, expected an integer >= 0"
 */
export class ValidationError extends Error {
  constructor(readonly at: string, readonly problem: string) {
    super(`${at} ${problem}`);
    this.name = "ValidationError";
  }
}

/** Checks `v` (found at field path `at`) and returns it typed, or throws a ValidationError. */
export type Check<T> = ((v: unknown, at: string) => T) & { optional?: boolean };

/**
 * A short, safe rendering of a checked value for a message.
 * @example
 * show(-1e308); // "-1e+308"
 * show("a\nb"); // "\"a\\nb\""
 */
export function show(v: unknown): string {
  if (typeof v === "string") return quote(v, 40);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v !== null && typeof v === "object") return "an object";
  return String(v);
}

function fail(at: string, v: unknown, expected: string): never {
  throw new ValidationError(
    at,
    v === undefined ? `is missing, expected ${expected}` : `= ${show(v)}, expected ${expected}`,
  );
}

/**
 * A number: finite unless `finite: false`; `int`, and bounds `min`/`max` (inclusive).
 * @example
 * num({ int: true, min: 0, max: 40 })(-1, "state.step"); // throws "state.step = -1, expected an integer in [0, 40]"
 */
export function num(
  o: { int?: boolean; min?: number; max?: number; finite?: boolean } = {},
): Check<number> {
  const kind = o.int ? "an integer" : o.finite === false ? "a number" : "a finite number";
  const range = o.min !== undefined && o.max !== undefined
    ? ` in [${o.min}, ${o.max}]`
    : o.min !== undefined
    ? ` >= ${o.min}`
    : o.max !== undefined
    ? ` <= ${o.max}`
    : "";
  return (v, at) => {
    const ok = typeof v === "number" && (o.finite === false || Number.isFinite(v)) &&
      (!o.int || Number.isInteger(v)) && (o.min === undefined || v >= o.min) &&
      (o.max === undefined || v <= o.max);
    return ok ? v : fail(at, v, kind + range);
  };
}

/**
 * A string of at most `max` characters (default 10,000).
 * @example
 * str({ max: 64 })("abc", "lock.host"); // "abc"
 */
export function str(o: { max?: number } = {}): Check<string> {
  const max = o.max ?? 10_000;
  return (v, at) =>
    typeof v === "string" && v.length <= max ? v : fail(at, v, `a string of <= ${max} chars`);
}

/**
 * One of the given values.
 * @example
 * literal("fmbench/checkpoint@1")(meta.format, "format");
 */
export function literal<T extends string | number | boolean>(...values: T[]): Check<T> {
  const what = values.map((x) => JSON.stringify(x)).join(" or ");
  return (v, at) => values.includes(v as T) ? v as T : fail(at, v, what);
}

/**
 * An array of at most `max` items (default 10,000,000), each checked by `item`.
 * @example
 * arr(num({ int: true }), { max: 100 })([1, 2], "resumedFrom"); // [1, 2]
 */
export function arr<T>(item: Check<T>, o: { max?: number; min?: number } = {}): Check<T[]> {
  const max = o.max ?? 10_000_000, min = o.min ?? 0;
  return (v, at) => {
    if (!Array.isArray(v) || v.length > max || v.length < min) {
      return fail(at, v, `an array of ${min > 0 ? `${min} to ` : "<= "}${max} items`);
    }
    for (let i = 0; i < v.length; i++) item(v[i], `${at}[${i}]`);
    return v as T[];
  };
}

/**
 * A fixed-length array with one check per position.
 * @example
 * tuple(num({ int: true }), num())([10, 0.5], "curve[0]"); // [10, 0.5]
 */
export function tuple<T extends unknown[]>(...items: { [K in keyof T]: Check<T[K]> }): Check<T> {
  return (v, at) => {
    if (!Array.isArray(v) || v.length !== items.length) {
      return fail(at, v, `an array of ${items.length} items`);
    }
    items.forEach((c, i) => c(v[i], `${at}[${i}]`));
    return v as T;
  };
}

/**
 * `c`, or absent (undefined) as an object field.
 * @example
 * obj({ seconds: optional(num({ min: 0 })) })({}, "state"); // {}
 */
export function optional<T>(c: Check<T>): Check<T | undefined> {
  const f: Check<T | undefined> = (v, at) => v === undefined ? undefined : c(v, at);
  f.optional = true;
  return f;
}

/**
 * `c`, or null (JSON writes NaN and Infinity as null).
 * @example
 * nullable(num())(null, "lastLoss"); // null
 */
export function nullable<T>(c: Check<T>): Check<T | null> {
  return (v, at) => v === null ? null : c(v, at);
}

/** The checked type of an object shape. */
export type Shape<S> = { [K in keyof S]: S[K] extends Check<infer T> ? T : never };

/**
 * A JSON object with the given fields (those made with `optional` may be absent); other fields
 * are ignored.
 * @example
 * obj({ pid: num({ int: true, min: 1 }) })({ pid: 7 }, "lock"); // { pid: 7 }
 */
export function obj<S extends Record<string, Check<unknown>>>(shape: S): Check<Shape<S>> {
  return (v, at) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return fail(at, v, "an object");
    const o = v as Record<string, unknown>;
    for (const [k, c] of Object.entries(shape)) {
      const has = Object.hasOwn(o, k);
      if (!has && !c.optional) fail(`${at}.${k}`, undefined, "a value");
      c(has ? o[k] : undefined, `${at}.${k}`);
    }
    return v as Shape<S>;
  };
}

/**
 * A JSON object whose every value passes `item` (at most `max` keys, default 1,000).
 * @example
 * record(num())({ rtol: 1e-5 }, "setting"); // { rtol: 1e-5 }
 */
export function record<T>(item: Check<T>, o: { max?: number } = {}): Check<Record<string, T>> {
  const max = o.max ?? 1000;
  return (v, at) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return fail(at, v, "an object");
    const keys = Object.keys(v);
    if (keys.length > max) return fail(at, v, `an object of <= ${max} keys`);
    for (const k of keys) item((v as Record<string, unknown>)[k], `${at}.${k}`);
    return v as Record<string, T>;
  };
}

/**
 * Deepest nesting of arrays and objects in a parsed JSON value, counted without recursion and
 * only up to `limit + 1` (enough to refuse).
 * @example
 * jsonDepth([[1], { a: [] }]); // 3
 */
export function jsonDepth(value: unknown, limit = Infinity): number {
  let deepest = 0;
  const todo: Array<[unknown, number]> = [[value, 1]];
  while (todo.length) {
    const [v, d] = todo.pop()!;
    if (v === null || typeof v !== "object") continue;
    deepest = Math.max(deepest, d);
    if (deepest > limit) return deepest;
    for (const x of Object.values(v as object)) todo.push([x, d + 1]);
  }
  return deepest;
}

/**
 * Deepest JSON nesting a file fmbench reads may have (its own files nest a few levels).
 * @example
 * jsonDepth(value) <= MAX_JSON_DEPTH; // else the file is refused
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Parse JSON text and check it: a ValidationError at `at` names the syntax error (quoted
 * safely), a nesting deeper than `maxDepth` (default MAX_JSON_DEPTH), or the failing field.
 * @example
 * parseJson('{"pid": 7}', obj({ pid: num({ int: true }) }), "lock"); // { pid: 7 }
 */
export function parseJson<T>(
  text: string,
  check: Check<T>,
  at: string,
  o: { maxDepth?: number } = {},
): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(at, `is not JSON (${safeMessage(e)})`);
  }
  const max = o.maxDepth ?? MAX_JSON_DEPTH;
  if (jsonDepth(value, max) > max) {
    throw new ValidationError(at, `nests deeper than ${max} levels`);
  }
  return check(value, at);
}

/**
 * Run `fn` (a check of file `file`'s content) and turn its ValidationError into a FileCheckError
 * naming the file.
 * @example
 * const state = checkFile("runs/x/ck.safetensors", () => parseJson(text, STATE, "state"));
 */
export function checkFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError) throw new FileCheckError(file, e.message);
    throw e;
  }
}
