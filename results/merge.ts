// Merge shard results files of one suite run into a single results file, with strict checks.
import {
  type MethodEntry,
  RESULTS_SCHEMA,
  type ResultsFile,
  type RunManifest,
  type RunRecord,
  type ShardSummary,
} from "./schema.ts";

/**
 * A manifest with `mergedFrom` (the schema's RunManifest, whose mergedFrom is optional).
 * @example
 * (merged.manifest as MergedManifest).mergedFrom?.length; // 2
 */
export type MergedManifest = RunManifest;

export type { ShardSummary };

/**
 * Raised when shards cannot be merged; the message names the file(s) and what was expected.
 * @example
 * throw new MergeError(`runs/b: shard count 0 must be an integer >= 1`);
 */
export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MergeError";
  }
}

/** Options for {@link mergeResults}. */
export interface MergeOptions {
  /** A name per input (e.g. its path), used in error messages and in mergedFrom. */
  names?: string[];
  /** Accept shards built from different commits (they are recorded per shard). */
  allowMixedCommits?: boolean;
  /**
   * Merge whichever shards are given even if some indices are missing (a partial result, e.g.
   * of an interrupted --jobs run); duplicates and mismatches are still errors.
   */
  allowMissing?: boolean;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function unique<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const t of items) if (!seen.has(key(t))) seen.set(key(t), t);
  return [...seen.values()];
}

/**
 * Merge the shards of one suite run. Every input must have a `shard` field; all must share the
 * suite, configHash, headline, seed, shard count and (unless allowed) commit, and together hold
 * each shard index 0..count-1 exactly once. The result has no `shard` field; its manifest spans
 * the shards (earliest start, latest finish, wallSeconds = the elapsed time from the first start
 * to the last finish, shardSeconds = the sum of the shards' wall times) and lists them in
 * `manifest.mergedFrom`.
 * @throws MergeError naming the offending input and what was expected.
 * @example
 * const merged = mergeResults([shard0, shard1], { names: ["runs/a", "runs/b"] });
 * (merged.manifest as MergedManifest).mergedFrom!.length; // 2
 */
export function mergeResults(files: ResultsFile[], opts: MergeOptions = {}): ResultsFile {
  if (files.length === 0) throw new MergeError("nothing to merge: no results files were given");
  const name = (i: number) => opts.names?.[i] ?? `input #${i + 1}`;
  files.forEach((f, i) => {
    if (f?.schema !== RESULTS_SCHEMA) {
      throw new MergeError(`${name(i)}: schema is "${f?.schema}", expected "${RESULTS_SCHEMA}"`);
    }
    const s = f.shard;
    if (!s) {
      throw new MergeError(
        `${name(i)} has no "shard" field: it is a complete (or already merged) run, ` +
          `and only the shard results of one run can be merged`,
      );
    }
    if (!Number.isInteger(s.count) || s.count < 1) {
      throw new MergeError(`${name(i)}: shard count ${s.count} must be an integer >= 1`);
    }
    if (!Number.isInteger(s.index) || s.index < 0 || s.index >= s.count) {
      throw new MergeError(
        `${name(i)}: shard index ${s.index} is out of range; expected an integer in ` +
          `0..${s.count - 1} (0-based) for a run of ${s.count} shards`,
      );
    }
  });
  const first = files[0];
  const mismatch = (i: number, what: string, got: unknown, want: unknown) =>
    new MergeError(
      `${name(i)} belongs to a different run: its ${what} is ${JSON.stringify(got)} but ` +
        `${name(0)} has ${JSON.stringify(want)}; all shards must come from one suite run`,
    );
  files.forEach((f, i) => {
    if (f.suite !== first.suite) throw mismatch(i, "suite", f.suite, first.suite);
    if (f.manifest.configHash !== first.manifest.configHash) {
      throw mismatch(i, "configHash", f.manifest.configHash, first.manifest.configHash);
    }
    if (f.shard!.count !== first.shard!.count) {
      throw new MergeError(
        `shard counts disagree: ${name(i)} says ${f.shard!.count} shards but ${name(0)} says ` +
          `${first.shard!.count}`,
      );
    }
    if (!same(f.headline, first.headline)) {
      throw mismatch(i, "headline", f.headline, first.headline);
    }
    if (f.manifest.seed !== first.manifest.seed) {
      throw mismatch(i, "seed", f.manifest.seed, first.manifest.seed);
    }
    if (!opts.allowMixedCommits && f.manifest.commit !== first.manifest.commit) {
      throw new MergeError(
        `${name(i)} was built from commit ${f.manifest.commit} but ${name(0)} from ` +
          `${first.manifest.commit}; re-run the shard or pass --allow-mixed-commits`,
      );
    }
  });
  const count = first.shard!.count;
  const byIndex = new Map<number, number>();
  files.forEach((f, i) => {
    const prev = byIndex.get(f.shard!.index);
    if (prev !== undefined) {
      throw new MergeError(
        `shard index ${f.shard!.index} (of ${count}) appears twice: in ${name(prev)} and ${
          name(i)
        }`,
      );
    }
    byIndex.set(f.shard!.index, i);
  });
  const missing = Array.from({ length: count }, (_, k) => k).filter((k) => !byIndex.has(k));
  if (missing.length && !opts.allowMissing) {
    throw new MergeError(
      `missing shard index ${missing.join(", ")} of ${count} (0-based; expected every index ` +
        `0..${count - 1}); got ${
          [...byIndex].sort((a, b) => a[0] - b[0]).map(([k, i]) => `${k} from ${name(i)}`)
            .join(", ")
        }`,
    );
  }
  const order = [...byIndex].sort((a, b) => a[0] - b[0]).map(([, i]) => i);
  const shards = order.map((i) => files[i]);

  const methods = new Map<string, { m: MethodEntry; from: number }>();
  for (const i of order) {
    for (const m of files[i].methods) {
      const prev = methods.get(m.label);
      if (!prev) methods.set(m.label, { m, from: i });
      else if (!same(prev.m, m)) {
        throw new MergeError(
          `method "${m.label}" is defined differently in ${name(prev.from)} and ${name(i)}`,
        );
      }
    }
  }
  const runIds = new Map<string, number>();
  const runs: RunRecord[] = [];
  for (const i of order) {
    for (const r of files[i].runs) {
      const prev = runIds.get(r.id);
      if (prev !== undefined) {
        throw new MergeError(`run "${r.id}" appears in both ${name(prev)} and ${name(i)}`);
      }
      runIds.set(r.id, i);
      runs.push(r);
    }
  }
  return {
    schema: RESULTS_SCHEMA,
    suite: first.suite,
    manifest: mergeManifests(shards, order.map(name)),
    plugins: {
      loaded: unique(
        shards.flatMap((s) => s.plugins.loaded),
        (p) => `${p.kind}/${p.name}/${p.file}`,
      ),
      failures: unique(
        shards.flatMap((s) => s.plugins.failures),
        (p) => `${p.kind}/${p.file}/${p.reason}`,
      ),
    },
    methods: [...methods.values()].map(({ m }) => m),
    headline: first.headline,
    // One config hash (checked above) means one budget.
    ...(first.budget ? { budget: first.budget } : {}),
    // One config hash also means one selection of metrics.
    ...(first.metricInfo ? { metricInfo: first.metricInfo } : {}),
    runs,
    ...(shards.some((s) => s.references)
      ? { references: Object.assign({}, ...shards.map((s) => s.references ?? {})) }
      : {}),
    ...(shards.some((s) => s.heldOut)
      ? { heldOut: Object.assign({}, ...shards.map((s) => s.heldOut ?? {})) }
      : {}),
  };
}

function distinct(values: string[]): string {
  return [...new Set(values)].join(" + ");
}

/**
 * Elapsed seconds from the earliest start to the latest finish of the shards, when every shard
 * finished with readable times; else undefined (an unfinished shard's end is unknown).
 */
function elapsedSpan(ms: RunManifest[]): number | undefined {
  const starts = ms.map((m) => Date.parse(m.startedAt));
  const ends = ms.map((m) => m.finishedAt === undefined ? NaN : Date.parse(m.finishedAt));
  if (![...starts, ...ends].every(Number.isFinite)) return undefined;
  return Math.max(0, (Math.max(...ends) - Math.min(...starts)) / 1000);
}

function mergeManifests(shards: ResultsFile[], names: string[]): MergedManifest {
  const ms = shards.map((s) => s.manifest);
  const notes = ms.every((m) => same(m.backendNotes, ms[0].backendNotes))
    ? [...ms[0].backendNotes]
    : ms.flatMap((m, k) => m.backendNotes.map((n) => `shard ${k}: ${n}`));
  const versionKeys = Object.keys(ms[0].versions) as Array<keyof RunManifest["versions"]>;
  for (const key of versionKeys) {
    const vals = ms.map((m) => m.versions[key]);
    if (new Set(vals).size > 1) {
      notes.push(
        `${key} versions differ between shards: ${vals.map((v, k) => `${k}: ${v}`).join(", ")}`,
      );
    }
  }
  const finished = ms.map((m) => m.finishedAt);
  const walls = ms.map((m) => m.wallSeconds);
  return {
    ...ms[0],
    commit: distinct(ms.map((m) => m.commit)),
    dirty: ms.some((m) => m.dirty),
    backend: distinct(ms.map((m) => m.backend)),
    device: distinct(ms.map((m) => m.device)),
    backendNotes: notes,
    startedAt: ms.map((m) => m.startedAt).sort()[0],
    finishedAt: finished.every((f) => f !== undefined) ? finished.sort().at(-1) : undefined,
    wallSeconds: elapsedSpan(ms),
    shardSeconds: walls.every((w) => w !== undefined)
      ? walls.reduce((a, b) => a! + b!, 0)
      : undefined,
    mergedFrom: shards.map((s, k) => ({
      index: s.shard!.index,
      count: s.shard!.count,
      source: names[k],
      commit: s.manifest.commit,
      dirty: s.manifest.dirty,
      backend: s.manifest.backend,
      device: s.manifest.device,
      startedAt: s.manifest.startedAt,
      finishedAt: s.manifest.finishedAt,
      wallSeconds: s.manifest.wallSeconds,
      runs: s.runs.length,
    })),
  };
}
