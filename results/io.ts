// Reading results.json (checked, or moved aside when unreadable) and the stable config hash used
// for resume. Writing is durable and lives with the engine (harness/run-suite.ts).
import { createHash } from "node:crypto";
import { join } from "node:path";
import { RESULTS_SCHEMA, type ResultsFile } from "./schema.ts";

/** JSON with object keys sorted, so equal configs hash equally. */
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

/** Short SHA-256 of a value's stable JSON. */
export function configHash(v: unknown): string {
  return createHash("sha256").update(stableJson(v)).digest("hex").slice(0, 16);
}

/** A results file that cannot be read or does not match the schema; the message names both. */
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

/** Check the fields the report relies on; names the file and the first bad field. */
export function checkResults(value: unknown, path: string): ResultsFile {
  const bad = (what: string) => new ResultsFileError(`${path}: ${what}`);
  if (value === null || typeof value !== "object") throw bad("expected a JSON object");
  const v = value as Record<string, unknown>;
  if (v.schema !== RESULTS_SCHEMA) {
    throw bad(`schema is ${JSON.stringify(v.schema)}, expected "${RESULTS_SCHEMA}"`);
  }
  for (const key of ["runs", "methods"]) {
    if (!Array.isArray(v[key])) throw bad(`"${key}" must be an array`);
  }
  for (const key of ["manifest", "plugins", "headline"]) {
    if (v[key] === null || typeof v[key] !== "object") throw bad(`"${key}" must be an object`);
  }
  const p = v.plugins as Record<string, unknown>;
  if (!Array.isArray(p.loaded) || !Array.isArray(p.failures)) {
    throw bad(`"plugins" must have arrays "loaded" and "failures"`);
  }
  const h = v.headline as Record<string, unknown>;
  if (h.quality !== "w2" && h.quality !== "fid") {
    throw bad(`headline.quality is ${JSON.stringify(h.quality)}, expected "w2" or "fid"`);
  }
  if (h.nll !== "nats" && h.nll !== "bpd") {
    throw bad(`headline.nll is ${JSON.stringify(h.nll)}, expected "nats" or "bpd"`);
  }
  if (typeof h.adaptiveSolver !== "string") throw bad(`headline.adaptiveSolver must be a string`);
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
    throw new ResultsFileError(`cannot read ${path}: ${e instanceof Error ? e.message : e}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ResultsFileError(`${path} is not valid JSON: ${e instanceof Error ? e.message : e}`);
  }
  return checkResults(value, path);
}

/**
 * The results.json a run resumes from: null when there is none; a file that cannot be read as
 * results (bad JSON, wrong schema) is moved aside to `<file>.unreadable-<time>` and reported
 * through `log`, so the new run never silently overwrites it.
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
    const backup = `${file}.unreadable-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    await Deno.rename(file, backup);
    log(`resume: ${(e as Error).message}; moved it to ${backup} and starting afresh`);
    return null;
  }
}
