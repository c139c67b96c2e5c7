// `deno task bench --list`: every plugin with its kind, family and description, every method with
// how it is composed, the time samplers' parameters and weighting, the metrics with their
// directions, the suites and their budgets, and the plugin files that failed to load.
import {
  availableMetrics,
  DEFAULT_TIME_SAMPLER,
  defaultMetrics,
  describeTimeSamplerParams,
  NAMED_METHODS,
  type Registry,
  resolveMethods,
  SUITES,
} from "../harness/mod.ts";

/** Rows padded to their columns' widths, each indented by two spaces. */
function table(rows: string[][]): string[] {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(w[i])).join("  ")}`.trimEnd());
}

/**
 * The methods the discovered plugins make, one row each: label, path, coupling, loss and a note
 * (a reflow teacher; "only when asked" for a method that runs only when named).
 * @example
 * methodRows(await discoverPlugins())[1]; // ["FM w/ OT", "cond-ot", "independent", "cfm", ""]
 */
export function methodRows(reg: Registry): string[][] {
  const byDefault = resolveMethods(reg);
  const labels = new Set(byDefault.map((m) => m.label));
  const asked = NAMED_METHODS.filter((m) => !labels.has(m.label)).flatMap((n) => {
    try {
      return resolveMethods(reg, { methods: [n.label] }).filter((m) => m.label === n.label);
    } catch {
      return []; // its plugins did not load
    }
  });
  return [
    ["method", "path", "coupling", "loss", ""],
    ...[...byDefault.map((m) => ({ m, asked: false })), ...asked.map((m) => ({ m, asked: true }))]
      .map(({ m, asked }) => [
        m.label,
        m.path,
        m.coupling,
        m.loss,
        [
          m.timeSampler ? `t ~ ${m.timeSampler.name}` : "",
          m.teacher ? `pairs from ${m.teacher}` : "",
          asked ? `only when asked for (--methods "${m.label}")` : "",
        ].filter(Boolean).join("; "),
      ]),
  ];
}

/**
 * The metric plugins, one row each: name, figures with their direction arrows, the features
 * they read, and the suites that compute them by default or only when --metrics names them.
 * @example
 * metricRows(await discoverPlugins())[1]; // ["w2", "W2 ↓", "raw", "toy2d"]
 */
export function metricRows(reg: Registry): string[][] {
  const suites = Object.values(SUITES);
  return [
    ["metric", "figures", "features", "suites (default, or when named)"],
    ...[...reg.metrics.values()].map((m) => {
      const where = suites.flatMap((s) => {
        if (!availableMetrics(reg, s).includes(m)) return [];
        return [defaultMetrics(reg, s).includes(m.name) ? s.name : `${s.name} when named`];
      });
      return [
        m.name,
        Object.values(m.values).map((v) => `${v.title} ${v.direction === "lower" ? "↓" : "↑"}`)
          .join(", "),
        m.features.join(" or "),
        where.join(", ") || "none",
      ];
    }),
  ];
}

/**
 * Print the plugin inventory, the methods and how each is composed, the suites and the load
 * failures.
 * @example
 * printList(await discoverPlugins()); // kind  name  family  description ...
 */
export function printList(reg: Registry) {
  const rows = reg.entries.map((e) => [e.kind, e.name, e.family ?? "", e.description]);
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 6));
  console.log(
    ["kind".padEnd(w[0]), "name".padEnd(w[1]), "family".padEnd(w[2]), "description"].join("  "),
  );
  for (const r of rows) {
    console.log([r[0].padEnd(w[0]), r[1].padEnd(w[1]), r[2].padEnd(w[2]), r[3]].join("  "));
  }
  console.log("\nmethods (pick with --methods LABEL,... or --paths/--couplings/--losses):");
  for (const line of table(methodRows(reg))) console.log(line);
  if (reg.timeSamplers.size) {
    console.log(
      "\ntime samplers (how training draws t: --time-samplers LIST, a recipe's fourth part " +
        'path/coupling/loss/NAME[:KEY=VALUE...], or a label "FM w/ OT + NAME"):',
    );
    const tw = Math.max(...[...reg.timeSamplers.keys()].map((n) => n.length));
    for (const [name, s] of reg.timeSamplers) {
      const weighting = name === DEFAULT_TIME_SAMPLER
        ? "the default: the unweighted objective"
        : "non-uniform: reweights the loss, relative to uniform t, by its density";
      console.log(
        `  ${name.padEnd(tw)}  parameters: ${describeTimeSamplerParams(s.params)}; ${weighting}`,
      );
    }
  }
  console.log(
    "\nmetrics (pick with --metrics NAME,...; ↓ lower is better, ↑ higher is better):",
  );
  for (const line of table(metricRows(reg))) console.log(line);
  console.log("\nsuites:");
  for (const s of Object.values(SUITES)) {
    console.log(`  ${s.name}: ${s.description}; data sets ${s.datasets.join(", ")}`);
    for (const [b, d] of Object.entries(s.budgets)) console.log(`    --budget ${b}: ${d}`);
  }

  if (reg.failures.length) {
    console.log(`\nload failures (${reg.failures.length}):`);
    for (const f of reg.failures) console.log(`  ${f.kind}  ${f.file}: ${f.reason}`);
  }
}
