// Reading and writing results.json atomically, and the stable config hash used for resume.
import { createHash } from "node:crypto";
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

/** Write results.json via a temporary file and rename, so a crash never leaves half a file. */
export async function writeResults(dir: string, results: ResultsFile): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const file = `${dir}/results.json`;
  const tmp = `${file}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, JSON.stringify(results, null, 1));
  await Deno.rename(tmp, file);
  return file;
}

/** Read and check a results.json; errors name the file and the problem. */
export async function readResults(file: string): Promise<ResultsFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`no results file at ${file}`);
    throw e;
  }
  let data: ResultsFile;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (data?.schema !== RESULTS_SCHEMA) {
    throw new Error(`${file}: schema is "${data?.schema}", expected "${RESULTS_SCHEMA}"`);
  }
  return data;
}
