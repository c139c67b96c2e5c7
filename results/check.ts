// Deep check of a parsed results.json against the schema (results/schema.ts): every problem named
// by its field path ("runs[3].evals[2].metrics.w2 = -5 is negative"), so a bad file is refused
// with a message instead of crashing a report with a TypeError. Unknown extra fields pass.
import * as v from "valibot";
import { resultsFileSchema } from "./schema.ts";

/** The first problems reported (a broken file may have thousands). */
const MAX_PROBLEMS = 20;

/** A key as a path shows it: `.name`, or `["quoted"]` (cut to 40 characters) when unusual. */
function segment(key: string | number): string {
  if (typeof key === "number") return `[${key}]`;
  if (/^[A-Za-z_$][\w$-]{0,59}$/.test(key)) return `.${key}`;
  const s = JSON.stringify(key);
  return `[${s.length > 40 ? `${s.slice(0, 37)}...` : s}]`;
}

/**
 * "runs[3].evals[2].metrics.w2" from the keys of an issue's path.
 * @example
 * fieldPath(["runs", 3, "evals", 2, "metrics", "w2"]); // "runs[3].evals[2].metrics.w2"
 */
export function fieldPath(keys: ReadonlyArray<unknown>): string {
  return keys.map((k) => segment(typeof k === "number" ? k : String(k))).join("").replace(
    /^\./,
    "",
  );
}

/**
 * Every problem (up to 20, one per field) of a parsed results file, each naming its field path;
 * [] when the value has the shape reports and resume rely on.
 * @example
 * resultsProblems({ ...results, runs: [{ ...run, evals: [{ ...e, metrics: { w2: -5 } }] }] });
 * // ["runs[0].evals[0].metrics.w2 = -5 is negative (W2 is a distance, >= 0)"]
 */
export function resultsProblems(value: unknown): string[] {
  const parsed = v.safeParse(resultsFileSchema, value);
  if (parsed.success) return [];
  const out = new Map<string, string>();
  for (const issue of parsed.issues) {
    if (out.size >= MAX_PROBLEMS) break;
    const where = fieldPath((issue.path ?? []).map((p) => p.key));
    if (!out.has(where)) out.set(where, where ? `${where} ${issue.message}` : issue.message);
  }
  return [...out.values()];
}
