// Writing results.json durably: a temporary file, fsync, then a rename over the old one.
import { writeFileAtomic } from "../store/atomic.ts";
import type { ResultsFile } from "./schema.ts";

/**
 * Write `<dir>/results.json` durably (temporary file, fsync, rename); returns its path.
 * @example
 * await writeResults("runs/x", results); // "runs/x/results.json"
 */
export async function writeResults(dir: string, results: ResultsFile): Promise<string> {
  const file = `${dir}/results.json`;
  await writeFileAtomic(file, JSON.stringify(results, null, 1), { tracePhase: "write-results" });
  return file;
}
