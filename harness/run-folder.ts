// What a run folder holds on disk, in words: which runs results.json records as complete,
// partial or failed, and which checkpoints, trained weights and reflow pairs exist. Read from the
// disk itself, so a message built from it never claims a file that is not there.
import { join, relative } from "node:path";
import { readResults } from "../results/io.ts";
import type { RunRecord } from "../results/schema.ts";
import { readCheckpointState } from "./checkpoint.ts";
import { taskCommand } from "../store/task-command.ts";
import { pathExists } from "../store/path-exists.ts";

/** A run's label in messages: "moons · FM w/ OT · mlp". */
function labelOf(r: RunRecord): string {
  return `${r.dataset} · ${r.method} · ${r.model}`;
}

async function entriesOf(dir: string): Promise<Deno.DirEntry[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
}

async function filesIn(dir: string, suffix: string): Promise<string[]> {
  return (await entriesOf(dir)).filter((e) => e.isFile && e.name.endsWith(suffix))
    .map((e) => e.name);
}

/** The config fields the description uses, read defensively from the manifest. */
interface Totals {
  settings?: number;
  estimators?: number;
  steps?: number;
}

function totalsOf(config: Record<string, unknown> | undefined): Totals {
  const c = config as {
    solvers?: Array<{ settings?: unknown[] }>;
    eval?: { nll?: { estimators?: unknown[] } };
    train?: { steps?: number };
  } | undefined;
  return {
    settings: c?.solvers?.reduce((a, s) => a + (s.settings?.length ?? 0), 0),
    estimators: c?.eval?.nll?.estimators?.length,
    steps: c?.train?.steps,
  };
}

const of = (n: number, total: number | undefined) =>
  total === undefined ? `${n}` : `${n} of ${total}`;

/** What a partial record holds: "trained; 12 of 28 solver settings, 0 of 2 NLL estimators". */
function partialDetail(r: RunRecord, t: Totals, checkpoint?: string): string {
  if (!r.train) {
    return checkpoint ? `training not finished (checkpoint${checkpoint})` : "training not finished";
  }
  const parts = [
    `trained (${r.train.steps} steps)`,
    `${of(r.evals.length, t.settings)} solver settings`,
    `${of(r.nll.length, t.estimators)} NLL estimators`,
  ];
  if (r.straightness !== undefined) parts.push("straightness");
  return parts.join(", ");
}

/**
 * The checkpoints, trained weights and reflow pairs in one folder (the run folder, or a shard of
 * a --jobs run in it), one line each, named relative to `outDir`.
 */
async function filesOf(
  dir: string,
  { outDir, name, totals, seen, checkpoints }: {
    outDir: string;
    name: (id: string) => string;
    totals: Totals;
    /** Reflow pairs already listed (a --jobs run copies a shard's pairs to the top). */
    seen: Set<string>;
    /** Filled in: run id -> " at step S of N" of its training checkpoint. */
    checkpoints: Map<string, string>;
  },
): Promise<string[]> {
  const lines: string[] = [];
  const at = relative(outDir, dir);
  const rel = (...parts: string[]) => (at ? join(at, ...parts) : join(...parts));
  for (const f of await filesIn(join(dir, "checkpoints"), ".safetensors")) {
    const id = f.replace(/\.safetensors$/, "");
    let step = "";
    try {
      const state = await readCheckpointState(join(dir, "checkpoints", f));
      step = ` at step ${of(state.step, totals.steps)}`;
      checkpoints.set(id, step);
    } catch {
      step = " (unreadable: training of this run starts over)";
    }
    lines.push(`${rel("checkpoints", f)}: training of ${name(id)}${step}`);
  }
  for (const f of await filesIn(join(dir, "weights"), ".safetensors")) {
    const reference = /\.reference\.safetensors$/;
    lines.push(
      reference.test(f)
        ? `${rel("weights", f)}: reference samples of ${
          name(f.replace(reference, ""))
        } (for sampling errors)`
        : `${rel("weights", f)}: trained weights of ${name(f.replace(/\.safetensors$/, ""))}`,
    );
  }
  for (const f of await filesIn(join(dir, "reflow"), ".f32")) {
    const id = f.replace(/\.f32$/, "");
    if (!seen.has(f) && await pathExists(join(dir, "reflow", `${id}.json`))) {
      seen.add(f);
      lines.push(`${rel("reflow", f)}: reflow pairs of ${name(id)}`);
    }
  }
  for (const e of await entriesOf(join(dir, "reflow"))) {
    if (!e.isDirectory || !e.name.endsWith(".parts")) continue;
    const chunks = await filesIn(join(dir, "reflow", e.name), ".safetensors");
    if (chunks.length) {
      lines.push(
        `${rel("reflow", e.name)}/: ${chunks.length} finished chunk${
          chunks.length === 1 ? "" : "s"
        } of reflow pairs of ${name(e.name.replace(/\.parts$/, ""))}`,
      );
    }
  }
  return lines;
}

/**
 * Lines describing what `outDir` holds now, e.g.
 * "results.json: 1 complete run, 1 partial" then one line per run and per extra file.
 * @example
 * for (const line of await describeRunFolder("runs/x")) console.error(`  ${line}`);
 */
export async function describeRunFolder(outDir: string): Promise<string[]> {
  const lines: string[] = [];
  const file = join(outDir, "results.json");
  let totals: Totals = {};
  const labels = new Map<string, string>();
  let res: Awaited<ReturnType<typeof readResults>> | undefined;
  if (!(await pathExists(file))) {
    lines.push("results.json: not written yet (no run had finished training)");
  } else {
    try {
      res = await readResults(file);
      totals = totalsOf(res.manifest.config);
      for (const r of res.runs) labels.set(r.id, labelOf(r));
    } catch (e) {
      lines.push(`results.json: present but unreadable (${e instanceof Error ? e.message : e})`);
    }
  }
  const name = (id: string) => labels.get(id) ?? id;
  // A --jobs run keeps its workers' files in shards/<group>/: look there too.
  const folders = [outDir];
  for (const e of await entriesOf(join(outDir, "shards"))) {
    if (e.isDirectory) folders.push(join(outDir, "shards", e.name));
  }
  const seen = new Set<string>();
  const checkpoints = new Map<string, string>();
  const files: string[] = [];
  for (const dir of folders) {
    files.push(...await filesOf(dir, { outDir, name, totals, seen, checkpoints }));
  }
  if (res) {
    const by = (s: string) => res.runs.filter((r) => r.status === s);
    const [ok, partial, failed] = [by("ok"), by("partial"), by("failed")];
    const n = (k: number, w: string) => `${k} ${w}${k === 1 || w === "partial" ? "" : "s"}`;
    lines.push(
      `results.json: ${n(ok.length, "complete run")}, ${n(partial.length, "partial")}` +
        (failed.length ? `, ${n(failed.length, "failed run")}` : ""),
    );
    for (const r of ok) lines.push(`  complete: ${labelOf(r)}`);
    for (const r of partial) {
      lines.push(`  partial:  ${labelOf(r)}: ${partialDetail(r, totals, checkpoints.get(r.id))}`);
    }
    for (const r of failed) lines.push(`  failed:   ${labelOf(r)}: ${r.error ?? "no reason"}`);
  }
  lines.push(...files);
  if (await pathExists(join(outDir, "report.html"))) {
    lines.push(`report.html (re-render from results.json: ${taskCommand("report", [outDir])})`);
  }
  return lines;
}
