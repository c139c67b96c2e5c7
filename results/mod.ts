// The results contract between the engine and the reports: schema, reading, writing and merging.
/**
 * The results room: the results.json schema (types and the deep check), reading (checked, a
 * damaged file moved aside), durable writing, merging shard results, the command line of a run,
 * the headline rule and the published rows.
 * @example
 * import { readResults } from "./results/mod.ts";
 * const results = await readResults("runs/toy2d-2026-12-01T10-00-00");
 * @module
 */
export type * from "./schema.ts";
export { RESULTS_SCHEMA } from "./schema.ts";
export {
  backupIfUnreadable,
  checkResults,
  configHash,
  keepEarlierResults,
  readResults,
  readResultsForResume,
  ResultsFileError,
  resultsPath,
  stableJson,
} from "./io.ts";
export { writeResults } from "./write.ts";
export { type MergedManifest, MergeError, type MergeOptions, mergeResults } from "./merge.ts";
export { commandLine, shellQuote } from "./command.ts";
export { headlineEval, headlineNll } from "./headline.ts";
export { PUBLISHED_ROWS, PUBLISHED_SOURCES, publishedRows } from "./published.ts";
