// The folder rules, one each, shared by the launcher (which grants permissions for them) and the
// CLI: the data folder, a bench run's default output folder and a merge's default output folder.
import { join } from "node:path";
import { fileStamp } from "./file-stamp.ts";

/**
 * The data folder: --data-dir, else $FMBENCH_DATA_DIR when it is set and not empty, else "data".
 * @example
 * dataDirOf(undefined, ""); // "data"
 * dataDirOf(undefined, "/scratch/data"); // "/scratch/data"
 */
export function dataDirOf(flag: string | undefined, env: string | undefined): string {
  return flag ?? (env || "data");
}

/**
 * The default output folder of a bench run: runs/<suite>-<UTC time>[-shard<I>of<N>].
 * @example
 * defaultOutDir("toy2d", undefined, new Date("2026-01-02T03:04:05Z")); // "runs/toy2d-2026-01-02T03-04-05"
 */
export function defaultOutDir(
  suite: string,
  shard?: { index: number; count: number },
  now = new Date(),
): string {
  const stamp = fileStamp(now.toISOString()).slice(0, 19);
  return `runs/${suite}-${stamp}${shard ? `-shard${shard.index}of${shard.count}` : ""}`;
}

/**
 * Default output of `deno task report --merge`: runs/merged-YYYY-MM-DDTHH-MM-SSZ.
 * @example
 * defaultMergeDir(new Date("2026-01-02T03:04:05Z")); // "runs/merged-2026-01-02T03-04-05Z"
 */
export function defaultMergeDir(now = new Date()): string {
  return join("runs", `merged-${now.toISOString().slice(0, 19).replace(/:/g, "-")}Z`);
}
