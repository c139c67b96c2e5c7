// Reading results.json (checked, or moved aside when unreadable) and the stable config hash used
// for resume. Writing is durable and lives with the engine (harness/run-suite.ts).
import { createHash } from "node:crypto";
import { join } from "node:path";
import { resultsProblems } from "./check.ts";
import { fileStamp } from "../store/file-stamp.ts";
import { asideName } from "../store/move-aside.ts";
import { safeMessage } from "../store/quote.ts";
import { jsonDepth, MAX_JSON_DEPTH, show } from "../store/validate.ts";
import { RESULTS_SCHEMA, type ResultsFile } from "./schema.ts";

/**
 * JSON with object keys sorted, so equal configs hash equally.
 * @example
 * stableJson({ b: 1, a: [2, { d: undefined, c: 3 }] }); // '{"a":[2,{"c":3}],"b":1}'
 */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${
      Object.keys(o).sort().filter((k) => o[k] !== undefined)
        .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(v);
}

/**
 * Short SHA-256 of a value's stable JSON.
 * @example
 * configHash({ steps: 8 }); // "c069d397df56c446"
 */
export function configHash(v: unknown): string {
  return createHash("sha256").update(stableJson(v)).digest("hex").slice(0, 16);
}

/**
 * A results file that cannot be read or does not match the schema; the message names both.
 * @example
 * throw new ResultsFileError("runs/x/results.json: not JSON");
 */
export class ResultsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResultsFileError";
  }
}

/**
 * Where a run directory's (or a results.json path's) results file lives.
 * @example
 * resultsPath("runs/x"); // "runs/x/results.json"
 */
export function resultsPath(dirOrFile: string): string {
  return dirOrFile.endsWith(".json") ? dirOrFile : join(dirOrFile, "results.json");
}

/**
 * Check a parsed results file deeply (results/check.ts): the schema tag, then the type of every
 * field reports and resume read, and the sign of metrics that cannot be negative. A
 * ResultsFileError names the file, the field path and the value, e.g.
 * "runs/x/results.json: runs[3].evals[2].metrics.w2 = -5 is negative (W2 is a distance, >= 0)".
 * @example
 * const results = checkResults(JSON.parse(text), "runs/x/results.json");
 */
export function checkResults(value: unknown, path: string): ResultsFile {
  const bad = (what: string) => new ResultsFileError(`${path}: ${what}`);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw bad("expected a JSON object");
  }
  // Nothing fmbench writes nests deeper; deeper data would overflow recursive readers later.
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw bad(`nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  const v = value as Record<string, unknown>;
  if (v.schema !== RESULTS_SCHEMA) {
    throw bad(`schema is ${show(v.schema)}, expected "${RESULTS_SCHEMA}"`);
  }
  const problems = resultsProblems(value);
  if (problems.length) {
    const more = problems.length > 3
      ? `; and ${problems.length - 3} more${problems.length >= 20 ? " (at least)" : ""}`
      : "";
    throw bad(problems.slice(0, 3).join("; ") + more);
  }
  return value as ResultsFile;
}

/**
 * Read and check `<dirOrFile>/results.json` (or a .json path); a ResultsFileError names the
 * file and the problem.
 * @example
 * const results = await readResults("runs/toy2d-2026-12-01T10-00-00");
 */
export async function readResults(dirOrFile: string): Promise<ResultsFile> {
  const path = resultsPath(dirOrFile);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ResultsFileError(`results.json not found: ${path}`);
    }
    throw new ResultsFileError(`cannot read ${path}: ${safeMessage(e)}`);
  }
  return parseResults(text, path);
}

/**
 * Parse and check the text of a results file; a ResultsFileError names `path` and the problem
 * (a JSON error quoted safely, or the first fields that fail the check).
 * @example
 * const results = parseResults(await Deno.readTextFile(path), path);
 */
export function parseResults(text: string, path: string): ResultsFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ResultsFileError(`${path} is not valid JSON: ${safeMessage(e)}`);
  }
  return checkResults(value, path);
}

/** Rename an unreadable results file to `<file>.unreadable-<time>`; returns the new name. */
async function moveAside(file: string): Promise<string> {
  const backup = asideName(file);
  await Deno.rename(file, backup);
  return backup;
}

/**
 * Copy `<outDir>/results.json` to `<outDir>/results.before-<startedAt>.json`, before a run that
 * will not rewrite every record in it (another plan or config) replaces it; returns the copy.
 * @example
 * const kept = await keepEarlierResults("runs/x", manifest.startedAt);
 */
export async function keepEarlierResults(outDir: string, startedAt: string): Promise<string> {
  const backup = `${outDir}/results.before-${fileStamp(startedAt)}.json`;
  await Deno.copyFile(`${outDir}/results.json`, backup);
  return backup;
}

/**
 * Move a results file that cannot be read as results (bad JSON, wrong schema or field) aside to
 * `<file>.unreadable-<time>`, before anything overwrites it. Returns the backup path, or null
 * when the file is absent or reads fine (then it is left alone).
 * @example
 * const moved = await backupIfUnreadable("runs/x/results.json", console.error);
 */
export async function backupIfUnreadable(
  file: string,
  log: (line: string) => void,
): Promise<string | null> {
  try {
    await readResults(file);
    return null;
  } catch (e) {
    if (!(e instanceof ResultsFileError) || /^results\.json not found/.test(e.message)) {
      return null;
    }
    const backup = await moveAside(file);
    log(`${e.message}; moved it to ${backup}`);
    return backup;
  }
}

/**
 * The results.json a run resumes from: null when there is none; a file that cannot be read as
 * results (bad JSON, wrong schema, a bad field) is moved aside to `<file>.unreadable-<time>` and
 * reported through `log`, so the new run never silently overwrites it.
 * @example
 * const previous = await readResultsForResume("runs/x/results.json", console.error);
 */
export async function readResultsForResume(
  file: string,
  log: (line: string) => void,
): Promise<ResultsFile | null> {
  try {
    await Deno.stat(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    return await readResults(file);
  } catch (e) {
    if (!(e instanceof ResultsFileError)) throw e;
    const backup = await moveAside(file);
    log(`resume: ${(e as Error).message}; moved it to ${backup} and starting afresh`);
    return null;
  }
}
