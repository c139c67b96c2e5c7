// Plugin discovery: scan plugins/<kind>/*.ts, import each, validate its default export with the
// kind's define* helper, and collect load failures (with file and reason) instead of stopping.
import { firstLine } from "../core/error-message.ts";
import {
  defineCoupling,
  defineLoss,
  defineMetric,
  defineModel,
  definePath,
  defineSolver,
  defineTimeSampler,
} from "../core/define.ts";
import type {
  Coupling,
  Loss,
  MetricPlugin,
  ModelPlugin,
  Path,
  PluginKind,
  Solver,
  TimeSamplerPlugin,
} from "../core/types.ts";
import type { PluginEntry, PluginFailure } from "../results/schema.ts";

/**
 * The plugin kinds, each a folder under a plugin root (plugins/paths/, plugins/solvers/, ...).
 * @example
 * PLUGIN_KINDS.map((k) => new URL(`${k}/`, BUILTIN_PLUGINS)); // one folder per kind
 */
export const PLUGIN_KINDS: PluginKind[] = [
  "paths",
  "couplings",
  "losses",
  "models",
  "solvers",
  "time-samplers",
  "metrics",
];

const VALIDATE: Record<PluginKind, (v: never) => unknown> = {
  paths: definePath,
  couplings: defineCoupling,
  losses: defineLoss,
  models: defineModel,
  solvers: defineSolver,
  "time-samplers": defineTimeSampler,
  metrics: defineMetric,
};

/** The Registry map each kind's plugins go in. */
const FIELD = {
  paths: "paths",
  couplings: "couplings",
  losses: "losses",
  models: "models",
  solvers: "solvers",
  "time-samplers": "timeSamplers",
  metrics: "metrics",
} as const satisfies Record<PluginKind, keyof Registry>;

export interface Registry {
  paths: Map<string, Path>;
  couplings: Map<string, Coupling>;
  losses: Map<string, Loss>;
  models: Map<string, ModelPlugin>;
  solvers: Map<string, Solver>;
  timeSamplers: Map<string, TimeSamplerPlugin>;
  metrics: Map<string, MetricPlugin>;
  entries: PluginEntry[];
  failures: PluginFailure[];
  /** Names defined by more than one file: none of those files is used (see discoverPlugins). */
  conflicts: PluginConflict[];
}

/** One plugin name that several files define; every file is named, none of them is loaded. */
export interface PluginConflict {
  kind: PluginKind;
  name: string;
  files: string[];
}

/**
 * The built-in plugin root (this repository's plugins/ folder).
 * @example
 * const reg = await discoverPlugins([BUILTIN_PLUGINS, new URL("file:///home/me/my-plugins/")]);
 */
export const BUILTIN_PLUGINS: URL = new URL("../plugins/", import.meta.url);

/** Built-in plugin modules linked into a bundled build, by path under plugins/. */
let preloaded = new Map<string, Record<string, unknown>>();

/**
 * For a bundled build (scripts/gpu-proof-build.sh): the built-in plugins' modules, keyed by
 * their path under plugins/ ("paths/cond-ot.ts"). discoverPlugins still lists plugins/ but takes
 * these modules instead of importing the files (a bundle cannot import TypeScript sources whose
 * npm imports it has inlined). Replaces any earlier set; `{}` clears it.
 * @example
 * import * as condOt from "../plugins/paths/cond-ot.ts";
 * preloadBuiltinPlugins({ "paths/cond-ot.ts": condOt });
 */
export function preloadBuiltinPlugins(modules: Record<string, Record<string, unknown>>): void {
  preloaded = new Map(Object.entries(modules));
}

/**
 * A file is a plugin if it is a .ts file, not a test, and does not start with "_".
 * @example
 * isPluginFile("cond-ot.ts"); // true
 * isPluginFile("_score.ts"); // false
 */
export function isPluginFile(name: string): boolean {
  return name.endsWith(".ts") && !name.startsWith("_") && !/[._]test\.ts$/.test(name) &&
    !name.endsWith(".d.ts");
}

async function listFiles(dir: URL): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && isPluginFile(e.name)) names.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return names.sort();
}

/**
 * Discover plugins under each root (a folder with paths/, couplings/, losses/, models/,
 * solvers/, time-samplers/, metrics/). A file that fails to import or validate is a failure with its
 * reason. A name that
 * two or more files define (a dropped-in file reusing a built-in name, say) is a conflict: every
 * such file is reported, naming the others, and none of them is used, whichever loads first.
 * @example
 * const reg = await discoverPlugins([BUILTIN_PLUGINS]);
 * console.log([...reg.paths.keys()], reg.conflicts);
 */
export async function discoverPlugins(roots: URL[] = [BUILTIN_PLUGINS]): Promise<Registry> {
  const reg: Registry = {
    paths: new Map(),
    couplings: new Map(),
    losses: new Map(),
    models: new Map(),
    solvers: new Map(),
    timeSamplers: new Map(),
    metrics: new Map(),
    entries: [],
    failures: [],
    conflicts: [],
  };
  const loaded: Array<{ kind: PluginKind; plugin: NamedPlugin; file: string }> = [];
  for (const root of roots) {
    for (const kind of PLUGIN_KINDS) {
      const dir = new URL(`${kind}/`, root);
      for (const name of await listFiles(dir)) {
        const url = new URL(name, dir);
        const file = displayPath(url);
        try {
          const linked = root.href === BUILTIN_PLUGINS.href
            ? preloaded.get(`${kind}/${name}`)
            : undefined;
          const mod = linked ?? await import(url.href);
          if (!("default" in mod)) {
            throw new Error("no default export (export default define…({…}))");
          }
          const plugin = VALIDATE[kind](mod.default as never) as NamedPlugin;
          loaded.push({ kind, plugin, file });
        } catch (e) {
          reg.failures.push({ kind, file, reason: firstLine(e) });
        }
      }
    }
  }
  const filesOf = new Map<string, string[]>();
  for (const { kind, plugin, file } of loaded) {
    const key = `${kind}\u0000${plugin.name}`;
    filesOf.set(key, [...(filesOf.get(key) ?? []), file]);
  }
  for (const { kind, plugin, file } of loaded) {
    const files = filesOf.get(`${kind}\u0000${plugin.name}`)!;
    if (files.length > 1) {
      if (files[0] === file) reg.conflicts.push({ kind, name: plugin.name, files });
      const others = files.filter((f) => f !== file).join(", ");
      reg.failures.push({
        kind,
        file,
        reason: `duplicate ${kind} name "${plugin.name}", also defined by ${others}; ` +
          `neither file is used: rename one`,
      });
      continue;
    }
    (reg[FIELD[kind]] as Map<string, unknown>).set(plugin.name, plugin);
    reg.entries.push({
      kind,
      name: plugin.name,
      family: plugin.family,
      description: plugin.description,
      file,
    });
  }
  return reg;
}

type NamedPlugin = { name: string; description: string; family?: string };

/**
 * The error for plugin names defined twice: every name with all its files.
 * @example
 * conflictMessage([{ kind: "paths", name: "cond-ot", files: ["plugins/paths/cond-ot.ts", "my/paths/x.ts"] }]);
 */
export function conflictMessage(conflicts: PluginConflict[]): string {
  return [
    `${conflicts.length} plugin name${conflicts.length === 1 ? " is" : "s are"} defined by ` +
    `more than one file, so fmbench cannot tell which one you mean (rename one of each):`,
    ...conflicts.map((c) => `  ${c.kind} "${c.name}": ${c.files.join(" and ")}`),
  ].join("\n");
}

function displayPath(url: URL): string {
  const path = decodeURIComponent(url.pathname);
  const cwd = Deno.cwd();
  return path.startsWith(cwd + "/") ? path.slice(cwd.length + 1) : path;
}

/**
 * Look up a plugin by name or throw an error listing the valid names.
 * @example
 * const solver = pick(reg.solvers, "solver", "rk4"); // throws UnknownNameError for "rk5"
 */
export function pick<T>(map: Map<string, T>, { kind, name }: { kind: string; name: string }): T {
  const v = map.get(name);
  if (!v) throw new UnknownNameError(kind, name, [...map.keys()]);
  return v;
}

/**
 * An unknown plugin, data set or method name; the CLI turns it into exit code 2.
 * @example
 * new UnknownNameError("solver", "rk5", ["euler", "rk4"]).message;
 * // 'unknown solver "rk5"; valid: euler, rk4'
 */
export class UnknownNameError extends Error {
  constructor(kind: string, name: string, valid: string[], message?: string) {
    super(message ?? `unknown ${kind} "${name}"; valid: ${valid.join(", ") || "(none loaded)"}`);
    this.name = "UnknownNameError";
  }
}
