// Prints, for one or more toy2d results folders, each run's budget, headline NLL and its gap to the
// data's optimum, W2 and NFE of the adaptive solver, the last learning-curve change and the
// convergence verdict: the table behind the README's "have the models learned their data?".
//
//   deno run -A bench/convergence_table.ts DIR [DIR...] [--entropy moons=1.6755,...]
//
// The optimum comes from results.references[dataset].entropy when recorded, else --entropy.
import { parseArgs } from "node:util";
import { readResults } from "../results/io.ts";
import { headlineEval, headlineNll } from "../results/headline.ts";
import { convergence, optimumNats } from "../results/convergence.ts";
import type { ResultsFile } from "../results/schema.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { entropy: { type: "string" } },
  allowPositionals: true,
});
const given = new Map(
  (values.entropy ?? "").split(",").filter((s) => s).map((kv) => {
    const [k, v] = kv.split("=");
    return [k.trim(), Number(v)] as const;
  }),
);

/** Every results.json under `dir`: its own, else its shards' (a --jobs run in progress). */
async function resultsIn(dir: string): Promise<ResultsFile[]> {
  try {
    return [await readResults(dir)];
  } catch {
    const out: ResultsFile[] = [];
    for await (const e of Deno.readDir(`${dir}/shards`)) {
      try {
        out.push(await readResults(`${dir}/shards/${e.name}`));
      } catch { /* a shard with no results yet */ }
    }
    return out;
  }
}

const f = (x: number | null | undefined, d = 3) =>
  typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "n/a";
const rows: string[][] = [[
  "dataset",
  "method",
  "steps",
  "train s",
  "NLL",
  "optimum",
  "gap",
  "W2",
  "NFE",
  "last change",
  "verdict",
]];
for (const dir of positionals) {
  for (const r of await resultsIn(dir)) {
    for (const run of r.runs) {
      if (run.status !== "ok") continue;
      const nll = headlineNll(run, r.headline.adaptiveSolver);
      const e = headlineEval(run, r.headline.adaptiveSolver);
      const optimum = optimumNats(r, run.dataset) ?? given.get(run.dataset);
      const c = convergence(run.train?.learningCurve, { optimum, nll });
      rows.push([
        run.dataset,
        run.method,
        String(run.train?.steps ?? "n/a"),
        f(run.train?.seconds, 0),
        `${f(nll?.nats)} ± ${f(nll?.stderr)}`,
        f(optimum),
        optimum !== undefined && nll ? f(nll.nats! - optimum) : "n/a",
        f(e?.metrics?.w2),
        String(e?.nfe ?? "n/a"),
        c.change !== undefined ? `${f(c.change)} ± ${f(c.stderr)} (${c.from}->${c.to})` : "n/a",
        c.converged === false
          ? "not converged"
          : c.converged
          ? c.atOptimum ? "at optimum" : "converged"
          : "n/a",
      ]);
    }
  }
}
const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(`| ${r.map((c, i) => c.padEnd(w[i])).join(" | ")} |`);
