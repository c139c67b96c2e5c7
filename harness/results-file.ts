// Opening a run folder's results file, the one start-up of the serial and the parallel engine:
// sweep temporary files of killed writes, read what an earlier run left (a damaged file is moved
// aside), keep a copy when this plan will not rewrite all of it, and build the header.
import { keepEarlierResults, readResultsForResume } from "../results/io.ts";
import {
  RESULTS_SCHEMA,
  type ResultsFile,
  type RunManifest,
  type RunRecord,
} from "../results/schema.ts";
import { removeStaleTemps } from "../store/atomic.ts";
import type { Shard } from "./plan.ts";
import { metricInfo } from "./metric-select.ts";
import type { Registry } from "./registry.ts";
import { budgetRecord } from "./suites/mod.ts";
import type { SuiteConfig, SuiteDef } from "./suites/types.ts";

/** What {@link openResultsFile} needs. */
export interface OpenResultsInput {
  outDir: string;
  suite: SuiteDef;
  config: SuiteConfig;
  registry: Registry;
  manifest: RunManifest;
  /** The planned runs: id -> config hash. Earlier records are kept only where both match. */
  planned: Map<string, string>;
  shard?: Shard;
  log: (line: string) => void;
}

/** An opened results file: the header to write, and the earlier records this plan reuses. */
export interface OpenedResults {
  /** The file's header with no runs (schema, suite, manifest, plugins, methods, budget). */
  header: ResultsFile;
  /** Earlier records of this plan and config, by run id (complete, partial or failed). */
  kept: Map<string, RunRecord>;
  /** The earlier file as read (null when there was none or it was moved aside). */
  previous: ResultsFile | null;
}

/**
 * The header every results file of a run starts from (no runs yet), with what it records of the
 * selected metric plugins (metricInfo).
 * @example
 * const header = resultsHeader({ suite, config, registry, manifest });
 * header.runs; // []
 */
export function resultsHeader(
  o: Pick<OpenResultsInput, "suite" | "config" | "registry" | "manifest" | "shard">,
): ResultsFile {
  return {
    schema: RESULTS_SCHEMA,
    suite: o.config.suite,
    shard: o.shard,
    manifest: o.manifest,
    plugins: { loaded: o.registry.entries, failures: o.registry.failures },
    methods: o.config.methods,
    headline: { ...o.suite.headline, adaptiveSolver: o.config.adaptiveSolver },
    budget: budgetRecord(o.suite, o.config),
    metricInfo: metricInfo(o.registry, o.suite, o.config),
    runs: [],
  };
}

/**
 * Open `<outDir>/results.json` for a run: removes temporary files left by killed writes, reads
 * the earlier file for resume (moving a damaged one aside, with a log line), keeps a copy of it
 * when it holds records this plan will not rewrite, and returns the header and the kept records.
 * @example
 * const { header, kept } = await openResultsFile({ outDir, suite, config, registry, manifest,
 *   planned: new Map(runs.map((r) => [r.id, runHash(config, r)])), log: console.error });
 */
export async function openResultsFile(o: OpenResultsInput): Promise<OpenedResults> {
  for (const f of await removeStaleTemps(o.outDir)) {
    o.log(`resume: removed ${f}, a temporary file left by an interrupted write`);
  }
  const file = `${o.outDir}/results.json`;
  const previous = await readResultsForResume(file, o.log);
  const kept = new Map<string, RunRecord>();
  for (const r of previous?.runs ?? []) {
    if (o.planned.get(r.id) === r.configHash) kept.set(r.id, r);
  }
  if (previous && kept.size < previous.runs.length) {
    if (previous.manifest.configHash !== o.manifest.configHash) {
      o.log(
        `resume: ${o.outDir} holds a run with a different config; only identical runs are reused`,
      );
    }
    // This run will not rewrite every earlier record: keep the earlier file instead of losing them.
    const backup = await keepEarlierResults(o.outDir, o.manifest.startedAt);
    o.log(`resume: ${file} has runs outside this plan or config; kept a copy at ${backup}`);
  }
  return { header: resultsHeader(o), kept, previous };
}

/** The elapsed time and number of earlier sessions of this folder with this config. */
export interface EarlierSessions {
  seconds: number;
  sessions: number;
}

/**
 * What earlier sessions of the same config spent in this folder (their summed elapsed time and
 * count), read from the file they left; none when there was no file or another config.
 * @example
 * earlierSessions(previous, manifest); // { seconds: 259.4, sessions: 1 } after one full session
 */
export function earlierSessions(
  previous: ResultsFile | null,
  manifest: RunManifest,
): EarlierSessions {
  const m = previous?.manifest;
  if (!m || m.configHash !== manifest.configHash || m.wallSeconds === undefined) {
    return { seconds: 0, sessions: 0 };
  }
  return { seconds: m.wallSeconds, sessions: m.sessions ?? 1 };
}

/**
 * The manifest's wall time so far: the earlier sessions' elapsed time plus this session's (since
 * `started`, a performance.now() reading), and how many sessions that sums. A re-run that finds
 * everything done adds its second, never replaces the first session's time.
 * @example
 * Object.assign(results.manifest, sessionTime(earlier, started)); // { wallSeconds, sessions }
 */
export function sessionTime(
  earlier: EarlierSessions,
  started: number,
): { wallSeconds: number; sessions?: number } {
  const wallSeconds = earlier.seconds + (performance.now() - started) / 1000;
  return earlier.sessions > 0 ? { wallSeconds, sessions: earlier.sessions + 1 } : { wallSeconds };
}
