// Field builders for the results schema (valibot): each refuses a bad value with the part of a
// message after the field's path ("= "12" is a string, expected an integer"), which
// results/check.ts prefixes with the path; and the limits no results file can exceed.
import * as v from "valibot";

/**
 * Hard limits on a results file's fields, far above what a run writes (a toy2d run keeps 500
 * points and 12 trajectories; a run writes one name per plugin, method and solver).
 * @example
 * LIMITS.name; // 1000 characters: names, ids, labels, hashes, dates, versions
 */
export const LIMITS = {
  /** Names, ids, labels, hashes, dates, versions (characters). */
  name: 1_000,
  /** Free text: descriptions, error messages, notes, paths, command-line arguments. */
  text: 100_000,
  /** A data-URI PNG sample grid (characters). */
  image: 16 * 2 ** 20,
  /** Items of a list that grows with the run: runs, loss-curve points, sample points. */
  many: 1_000_000,
  /** Items of a list that grows with the plugins and settings: evaluations, methods, notes. */
  some: 10_000,
} as const;

/**
 * A value as a message shows it: numbers as they are (Infinity too), anything else as JSON cut to
 * 40 characters, so a huge or hostile field never floods a terminal (JSON escapes control
 * characters).
 * @example
 * show(Infinity); // "Infinity"
 * show("x".repeat(100)).length; // 40 (the JSON string's first 37 characters, then "...")
 */
export function show(x: unknown): string {
  if (typeof x === "number") return String(x);
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function kind(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  return typeof x === "object" ? "an object" : `a ${typeof x}`;
}

/**
 * "is missing, expected X" or "= V is a string, expected X": the wrong-type message.
 * @example
 * expected("12", "an integer"); // '= "12" is a string, expected an integer'
 */
export function expected(input: unknown, what: string): string {
  return input === undefined
    ? `is missing, expected ${what}`
    : `= ${show(input)} is ${kind(input)}, expected ${what}`;
}

/** What each builder's schema expects, in words, for "x is missing, expected ..." messages. */
const WHAT = new WeakMap<object, string>();

function named<T extends object>(schema: T, what: string): T {
  WHAT.set(schema, what);
  return schema;
}

const isObject = (x: unknown) => x !== null && typeof x === "object" && !Array.isArray(x);

/**
 * A string of at most `max` characters (LIMITS.name by default).
 * @example
 * v.parse(str(), "dopri5"); v.parse(str(LIMITS.text), "a description");
 */
export function str(max: number = LIMITS.name) {
  return named(
    v.pipe(
      v.string((i) => expected(i.input, "a string")),
      v.maxLength(max, (i) => `is ${i.input.length} characters long, over the limit of ${max}`),
    ),
    "a string",
  );
}

/**
 * true or false.
 * @example
 * v.parse(bool(), false);
 */
export function bool() {
  return named(v.boolean((i) => expected(i.input, "true or false")), "true or false");
}

/**
 * One of a few strings; the message lists them.
 * @example
 * v.parse(oneOf(["exact", "hutchinson"]), "exact");
 */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const list = values.map((x) => `"${x}"`).join(" or ");
  return named(
    v.picklist(
      values,
      (i) =>
        i.input === undefined
          ? `is missing, expected ${list}`
          : `= ${show(i.input)}, expected ${list}`,
    ),
    list,
  );
}

/**
 * Exactly this string (a file's schema tag).
 * @example
 * v.parse(exactly("fmbench/results@1"), "fmbench/results@1");
 */
export function exactly<const T extends string>(value: T) {
  const what = JSON.stringify(value);
  return named(
    v.literal(
      value,
      (i) =>
        i.input === undefined
          ? `is missing, expected ${what}`
          : `= ${show(i.input)}, expected ${what}`,
    ),
    what,
  );
}

/** Options for {@link num}. */
export interface NumOptions {
  /** Integers only. */
  int?: boolean;
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Why the bound holds, for the message ("W2 is a distance"). */
  why?: string;
}

function numberSchema(o: NumOptions, nullable: boolean) {
  const what = `${o.int ? "an integer" : "a number"}${nullable ? " or null" : ""}`;
  const because = (op: string, bound: number) => (o.why ? ` (${o.why}, ${op} ${bound})` : "");
  // One check for finiteness and every bound: a results file holds many numbers.
  return v.pipe(
    v.number((i) => expected(i.input, what)),
    v.check(
      (x) =>
        Number.isFinite(x) && (!o.int || Number.isInteger(x)) &&
        (o.min === undefined || x >= o.min) && (o.above === undefined || x > o.above),
      (i) => {
        const x = i.input;
        if (!Number.isFinite(x)) return `= ${show(x)} is not finite, expected ${what}`;
        if (o.int && !Number.isInteger(x)) return `= ${show(x)} is a number, expected an integer`;
        if (o.min !== undefined && x < o.min) {
          return `= ${show(x)} is ${o.min === 0 ? "negative" : `below ${o.min}`}` +
            because(">=", o.min);
        }
        return `= ${show(x)} is not above ${o.above}${because(">", o.above!)}`;
      },
    ),
  );
}

/**
 * A finite number (JSON's 1e999 is Infinity: refused), with optional bounds.
 * @example
 * v.parse(num({ int: true, min: 0, why: "a count of velocity evaluations" }), 12);
 */
export function num(o: NumOptions = {}) {
  return named(numberSchema(o, false), o.int ? "an integer" : "a number");
}

/**
 * A measured value: a finite number or null (JSON writes NaN and Infinity as null; every reader
 * shows null as n/a, which the inferred `number | null` type makes it handle).
 * @example
 * v.parse(measured({ min: 0, why: "a standard error" }), null); // null
 */
export function measured(o: NumOptions = {}) {
  return named(
    v.nullable(numberSchema(o, true)),
    `${o.int ? "an integer" : "a number"} or null`,
  );
}

/**
 * A list of at most `max` items.
 * @example
 * v.parse(arr(str(), LIMITS.some), ["a", "b"]);
 */
export function arr<T extends v.GenericSchema>(item: T, max: number) {
  return named(
    v.pipe(
      v.array(item, (i) => expected(i.input, "an array")),
      v.maxLength(max, (i) => `has ${i.input.length} items, over the limit of ${max}`),
    ),
    "an array",
  );
}

/** "x is missing, expected <what its schema expects>" for a required field that is absent. */
function missing(entries: v.ObjectEntries) {
  return (i: v.BaseIssue<unknown>) => {
    const key = i.path?.at(-1)?.key;
    if (i.path?.at(-1)?.origin !== "key" || typeof key !== "string") {
      return expected(i.input, "an object");
    }
    return `is missing, expected ${WHAT.get(entries[key]) ?? "a value"}`;
  };
}

/**
 * An object (not an array) with these fields (`v.optional` ones may be absent); unknown extra
 * fields pass.
 * @example
 * v.parse(obj({ solver: str(), nfe: num({ int: true }) }), { solver: "rk4", nfe: 8 });
 */
export function obj<T extends v.ObjectEntries>(entries: T) {
  return named(
    v.pipe(
      v.custom<Record<string, unknown>>(isObject, (i) => expected(i.input, "an object")),
      v.object(entries, missing(entries)),
    ),
    "an object",
  );
}

/**
 * An object with these fields whose other fields must match `rest` (e.g. a solver's own numbers).
 * @example
 * v.parse(objWithRest({ steps: num() }, num()), { steps: 5, churn: 40 });
 */
export function objWithRest<T extends v.ObjectEntries, R extends v.GenericSchema>(
  entries: T,
  rest: R,
) {
  return named(
    v.pipe(
      v.custom<Record<string, unknown>>(isObject, (i) => expected(i.input, "an object")),
      v.objectWithRest(entries, rest, missing(entries)),
    ),
    "an object",
  );
}

/**
 * An object whose keys are free and whose values all match `value`.
 * @example
 * v.parse(rec(str()), { why: "not computed" });
 */
export function rec<T extends v.GenericSchema>(value: T) {
  return named(
    v.pipe(
      v.custom<Record<string, unknown>>(isObject, (i) => expected(i.input, "an object")),
      v.record(v.string(), value),
    ),
    "an object",
  );
}

/** Options for {@link rows}. */
export interface RowsOptions {
  /** Most rows. */
  max: number;
  /** Exactly this many numbers per row, else at most LIMITS.some. */
  width?: number;
  /** A row in words, for messages ("a [step, loss] pair"; default "an array"). */
  row?: string;
  /** Columns that may not be null (e.g. the step of a [step, loss] pair). */
  notNull?: number[];
}

/** The first problem of a list of number rows, as [row, column?, message]; undefined if none. */
function rowsProblem(x: unknown[], o: RowsOptions): [number, number | null, string] | undefined {
  for (let r = 0; r < x.length; r++) {
    const row = x[r];
    if (!Array.isArray(row) || (o.width !== undefined && row.length !== o.width)) {
      return [r, null, expected(row, o.row ?? "an array")];
    }
    if (row.length > LIMITS.some) {
      return [r, null, `has ${row.length} items, over the limit of ${LIMITS.some}`];
    }
    for (let c = 0; c < row.length; c++) {
      const n = row[c];
      if (typeof n === "number" ? Number.isFinite(n) : n === null && !o.notNull?.includes(c)) {
        continue;
      }
      const what = o.notNull?.includes(c) ? "a number" : "a number or null";
      return [
        r,
        c,
        typeof n === "number" ? `= ${show(n)} is not finite, expected ${what}` : expected(n, what),
      ];
    }
  }
  return undefined;
}

/**
 * A list of rows of finite numbers or null (sample points, trajectories, a loss curve), checked
 * in one loop: a run keeps thousands, and a schema node per number would make reading a results
 * file several times slower. The message names the first bad row and column.
 * @example
 * v.parse(rows<[number, number | null]>({ max: 100, width: 2, row: "a [step, loss] pair", notNull: [0] }), [[0, 1.5]]);
 */
export function rows<Row extends ReadonlyArray<number | null>>(o: RowsOptions) {
  return named(
    v.pipe(
      v.custom<Row[]>(Array.isArray, (i) => expected(i.input, "an array")),
      v.maxLength(o.max, (i) => `has ${i.input.length} items, over the limit of ${o.max}`),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        const list = dataset.value as unknown[];
        const bad = rowsProblem(list, o);
        if (!bad) return;
        const [r, c, message] = bad;
        const at = (input: unknown[], key: number): v.ArrayPathItem => ({
          type: "array",
          origin: "value",
          input,
          key,
          value: input[key],
        });
        const row = list[r] as unknown[];
        addIssue({ message, path: c === null ? [at(list, r)] : [at(list, r), at(row, c)] });
      }),
    ),
    "an array",
  );
}
