// The plan of a suite: which runs (data set, model, method) happen, in what order, in which shard,
// and the hash of everything that determines each run's result (its resume key).
import { configHash } from "../results/io.ts";
import type { MethodEntry } from "../results/schema.ts";
import type { SuiteConfig } from "./suites/types.ts";

/** One run of the grid: a method trained on a data set with a model and a seed, then evaluated. */
export interface Run {
  dataset: string;
  model: { name: string; preset: string };
  method: MethodEntry;
  /** Seed of everything random in the run: data draw, initial weights, batches, sampling noise. */
  seed: number;
  /** Stable id, safe as a file name (see runId). */
  id: string;
}

/** A slice of the grid: shard `index` (0-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * Stable run id, safe as a file name; `seed` is appended when the suite runs several seeds.
 * @example
 * runId("moons", "FM w/ OT", "mlp", "default"); // "moons__fm-w-ot__mlp-default"
 * runId("moons", "FM w/ OT", "mlp", "default", 2); // "moons__fm-w-ot__mlp-default__s2"
 */
export function runId(
  { dataset, method, model, preset, seed }: {
    dataset: string;
    /** The method's label. */
    method: string;
    /** The model plugin's name. */
    model: string;
    preset: string;
    /** Appended when the suite runs several seeds. */
    seed?: number;
  },
): string {
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9.]+/g, "-").replace(/^-|-$/g, "");
  const base = `${slug(dataset)}__${slug(method)}__${slug(model)}-${slug(preset)}`;
  return seed === undefined ? base : `${base}__s${seed}`;
}

/**
 * The grid in run order (seed by seed), grouped so that a reflow student shares a shard with its
 * teacher: groups are (seed, data set, model, teacher chain), and shard i of n takes the groups
 * g with g % n == i.
 * @example
 * const runs = planRuns(config, { index: 0, count: 2 });
 */
export function planRuns(cfg: SuiteConfig, shard?: Shard): Run[] {
  return planGroups(cfg).filter((_, g) => !shard || g % shard.count === shard.index).flat();
}

/**
 * The grid as its groups, in run order: each group is one teacher chain (a method and the reflow
 * students trained on its pairs) for one seed, data set and model; groups are independent.
 * @example
 * const groups = planGroups(config); // groups[0][0] is the first run
 */
export function planGroups(cfg: SuiteConfig): Run[][] {
  const seeds = cfg.seeds;
  const groups: Run[][] = [];
  for (const seed of seeds) {
    for (const dataset of cfg.datasets) {
      for (const model of cfg.models) {
        const byRoot = new Map<string, Run[]>();
        for (const method of cfg.methods) {
          let root = method;
          while (root.teacher) root = cfg.methods.find((m) => m.label === root.teacher)!;
          const list = byRoot.get(root.label) ?? [];
          const idSeed = seeds.length > 1 ? seed : undefined;
          list.push({
            dataset,
            model,
            method,
            seed,
            id: runId({
              dataset,
              method: method.label,
              model: model.name,
              preset: model.preset,
              seed: idSeed,
            }),
          });
          byRoot.set(root.label, list);
        }
        groups.push(...byRoot.values());
      }
    }
  }
  return groups;
}

/**
 * The part of the config that determines one run's result: a resumed run is reused only when
 * its recorded hash equals this.
 * @example
 * const hash = runHash(config, planRuns(config)[0]);
 */
export function runHash(cfg: SuiteConfig, run: Run): string {
  const teacher = run.method.teacher
    ? cfg.methods.find((m) => m.label === run.method.teacher)
    : undefined;
  return configHash({
    suite: cfg.suite,
    dataset: run.dataset,
    model: run.model,
    method: run.method,
    teacher,
    train: cfg.train,
    eval: cfg.eval,
    solvers: cfg.solvers,
    seed: run.seed,
    data: cfg.data,
    checkpoint: cfg.checkpoint,
    metrics: cfg.metrics,
  });
}
