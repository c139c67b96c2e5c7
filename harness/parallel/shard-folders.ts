// The shard folders of a --jobs run: one per group of runs, named by the group's first (teacher)
// run so that a grown or reordered grid finds its earlier work in the same folder; each folder's
// results.json is brought in line with the current plan before any worker starts.
import { basename, join } from "node:path";
import { readResultsForResume } from "../../results/io.ts";
import type { ResultsFile, RunRecord } from "../../results/schema.ts";
import { writeResults } from "../../results/write.ts";
import { copy } from "../../store/copy.ts";
import type { Run } from "../plan.ts";
import { pathExists } from "../../store/path-exists.ts";

/**
 * The stable name of a group's folder: the id of its root run (the method that is no other's
 * student), e.g. "moons__1-rf__mlp-default" for the 1-RF/2-RF chain on moons.
 * @example
 * groupKey(planGroups(config)[0]); // "moons__fm-w-ot__mlp-default"
 */
export function groupKey(group: Run[]): string {
  return (group.find((r) => !r.method.teacher) ?? group[0]).id;
}

/**
 * Where a group's shard of a --jobs run lives.
 * @example
 * shardDir("runs/x", "moons__fm-w-ot__mlp-default"); // "runs/x/shards/moons__fm-w-ot__mlp-default"
 */
export function shardDir(outDir: string, key: string): string {
  return `${outDir}/shards/${key}`;
}

/** The record to keep of two for one run: a complete one, else the one with more finished work. */
function better(a: RunRecord | undefined, b: RunRecord | undefined): RunRecord | undefined {
  if (!a || !b) return a ?? b;
  if ((a.status === "ok") !== (b.status === "ok")) return a.status === "ok" ? a : b;
  const work = (r: RunRecord) => (r.train ? 1 : 0) + r.evals.length + r.nll.length;
  return work(b) > work(a) ? b : a;
}

/** What preparing the shard folders needs. */
export interface ShardFoldersInput {
  outDir: string;
  /** The plan's groups, in shard order (group i is shard i). */
  groups: Run[][];
  /** The planned runs' config hashes: a record is kept only where its hash matches. */
  planned: Map<string, string>;
  /** The header (no runs) of a shard file of this run; `shard` is filled in per group. */
  header: ResultsFile;
  /** The top-level results.json as it was before this run (null when none). */
  top: ResultsFile | null;
  log: (line: string) => void;
}

/**
 * Make every group's shard folder agree with the current plan before the workers start, so that
 * the shards merge at every moment: its results.json gets this run's header (shard index and
 * count, manifest) and the group's records of this config, the better of the shard's own and
 * the top-level file's (an earlier run with other --jobs, or a smaller grid); missing reflow pairs
 * are copied from the top level. Folders of the earlier `shard-I-of-N` layout hand their
 * checkpoints and trained weights to their group's folder and are removed.
 * @example
 * await prepareShardFolders({ outDir, groups, planned, header, top: previous, log });
 */
export async function prepareShardFolders(o: ShardFoldersInput): Promise<void> {
  const keys = o.groups.map(groupKey);
  await migrateOldLayout(o, keys);
  const topRuns = new Map((o.top?.runs ?? []).map((r) => [r.id, r]));
  for (const [index, group] of o.groups.entries()) {
    const dir = shardDir(o.outDir, keys[index]);
    const own = await readResultsForResume(`${dir}/results.json`, o.log);
    const ownRuns = new Map((own?.runs ?? []).map((r) => [r.id, r]));
    const current = (r: RunRecord | undefined) =>
      r && o.planned.get(r.id) === r.configHash ? r : undefined;
    const runs = group.flatMap((run) =>
      better(current(ownRuns.get(run.id)), current(topRuns.get(run.id))) ?? []
    );
    // A run the shard had unfinished but the top-level file has complete (finished by a run
    // with other --jobs): its checkpoint and weights in the shard are of no more use.
    for (const r of runs) {
      if (r.status !== "ok" || ownRuns.get(r.id)?.status === "ok") continue;
      for (const f of ["checkpoints/%.safetensors", "weights/%.safetensors"]) {
        await Deno.remove(`${dir}/${f.replace("%", r.id)}`).catch(() => {});
      }
      await Deno.remove(`${dir}/weights/${r.id}.reference.safetensors`).catch(() => {});
    }
    const shard = { index, count: o.groups.length };
    const same = own && own.shard?.index === index && own.shard.count === shard.count &&
      own.manifest.configHash === o.header.manifest.configHash &&
      own.runs.length === runs.length && own.runs.every((r, i) => r === runs[i]);
    if (!same && (own || runs.length)) {
      await writeResults(dir, { ...o.header, shard, runs });
    }
    for (const run of group) {
      for (const ext of [".f32", ".json"]) {
        const at = `${dir}/reflow/${run.id}${ext}`;
        if (!(await pathExists(at))) await copyIfPresent(`${o.outDir}/reflow/${run.id}${ext}`, at);
      }
    }
  }
}

async function copyIfPresent(src: string, dst: string): Promise<void> {
  if (await pathExists(src)) await copy(src, dst);
}

/**
 * Folders named `shard-I-of-N` (the layout before groups had stable names): move the checkpoints
 * and trained weights of unfinished runs into their group's folder (their records are in the
 * top-level results.json already, merged after every save) and remove them.
 */
async function migrateOldLayout(o: ShardFoldersInput, keys: string[]): Promise<void> {
  const root = `${o.outDir}/shards`;
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(root));
  } catch {
    return;
  }
  const keyOf = new Map(o.groups.flatMap((g, i) => g.map((r) => [r.id, keys[i]] as const)));
  const complete = new Set(o.top?.runs.filter((r) => r.status === "ok").map((r) => r.id));
  for (const e of entries) {
    if (!e.isDirectory || !/^shard-\d+-of-\d+$/.test(e.name)) continue;
    const old = join(root, e.name);
    for (const sub of ["checkpoints", "weights"]) {
      let files: Deno.DirEntry[] = [];
      try {
        files = await Array.fromAsync(Deno.readDir(join(old, sub)));
      } catch {
        continue;
      }
      for (const f of files) {
        const id = basename(f.name).replace(/(\.reference)?\.safetensors$/, "");
        const key = complete.has(id) ? undefined : keyOf.get(id);
        const to = key && join(shardDir(o.outDir, key), sub, f.name);
        if (!f.isFile || !to || await pathExists(to)) continue;
        await Deno.mkdir(join(shardDir(o.outDir, key), sub), { recursive: true });
        await Deno.rename(join(old, sub, f.name), to);
      }
    }
    await Deno.remove(old, { recursive: true });
    o.log(`resume: moved ${old} (an earlier layout) into shards/<group>/ folders`);
  }
}
