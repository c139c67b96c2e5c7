// `deno task bench --list`: every plugin with its kind, family and description, the time samplers'
// parameters and weighting, the suites and their budgets, and the plugin files that failed to load.
import {
  DEFAULT_TIME_SAMPLER,
  describeTimeSamplerParams,
  type Registry,
  SUITES,
} from "../harness/mod.ts";

/**
 * Print the plugin inventory, the suites and the load failures.
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
