// The TorchCFM parity of the converged toy2d recipe in one command: export fmbench's training
// points, train the same network with TorchCFM's matchers in PyTorch (bench/toy_torch_train.py),
// score each with fmbench's evaluator through --checkpoint, and print it beside an fmbench-trained
// results folder. Steps already done in --out are kept (re-running resumes).
//
//   deno task bench --budget converged --datasets moons,8gaussians \
//     --methods "FM w/ OT,OT-CFM,1-RF" --solvers dopri5 --out runs/converged
//   deno run -A bench/toy_parity.ts --fmbench runs/converged [--tcfm /tmp/tcfm] [--init torch]
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { loadToy2d } from "../harness/data/toy2d.ts";
import { TOY2D_DATA } from "../harness/suites/toy2d.ts";
import { readResults } from "../results/io.ts";
import { headlineEval, headlineNll } from "../results/headline.ts";
import type { ResultsFile, RunRecord } from "../results/schema.ts";
import { pathExists } from "../store/path-exists.ts";

const USAGE = `usage: deno run -A bench/toy_parity.ts --fmbench DIR [--tcfm DIR] [--datasets LIST]
  [--methods fm-ot,ot-cfm,1-rf] [--init torch|glorot] [--out DIR] [--python /usr/bin/python3]`;

/** toy_torch_train.py's method names and fmbench's labels. */
const LABELS: Record<string, string> = { "fm-ot": "FM w/ OT", "ot-cfm": "OT-CFM", "1-rf": "1-RF" };

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    fmbench: { type: "string" },
    tcfm: { type: "string", default: "/tmp/tcfm" },
    datasets: { type: "string", default: "moons,8gaussians" },
    methods: { type: "string", default: "fm-ot,ot-cfm,1-rf" },
    init: { type: "string", default: "torch" },
    out: { type: "string", default: "runs/toy-parity" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
});
const methods = v.methods!.split(",");
const unknown = methods.filter((m) => !(m in LABELS));
if (!v.fmbench || unknown.length || !["torch", "glorot"].includes(v.init!)) {
  console.error(
    (unknown.length
      ? `unknown --methods ${unknown.join(", ")}; valid: fm-ot, ot-cfm, 1-rf\n`
      : "") +
      USAGE,
  );
  Deno.exit(2);
}
const fmbench: ResultsFile = await readResults(v.fmbench);
// Absolute, since the steps run in the repository root.
const out = resolve(v.out!);
await Deno.mkdir(out, { recursive: true });

/** The repository root: `deno task bench` must run there whatever the caller's folder. */
const ROOT = new URL("..", import.meta.url).pathname;

async function run(
  o: { cmd: string; args: string[]; env?: Record<string, string> },
): Promise<void> {
  const r = await new Deno.Command(o.cmd, {
    args: o.args,
    env: o.env,
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!r.success) throw new Error(`${o.cmd} ${o.args.join(" ")} failed (exit ${r.code})`);
}

/** The one run of a scored folder, or undefined when it is missing or did not finish. */
async function scored(dir: string): Promise<RunRecord | undefined> {
  try {
    const r = (await readResults(dir)).runs[0];
    return r?.status === "ok" ? r : undefined;
  } catch {
    return undefined;
  }
}

const rows: string[][] = [[
  "dataset",
  "method",
  "NLL, fmbench-trained",
  "NLL, TorchCFM-trained",
  "difference (÷ larger stderr)",
  "W2 fmbench / TorchCFM",
  "NFE fmbench / TorchCFM",
]];
const f = (x: number | null | undefined, d = 3) =>
  typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "n/a";
for (const dataset of v.datasets!.split(",")) {
  const train = `${out}/${dataset}.f32`;
  if (!(await pathExists(train))) {
    const split = loadToy2d(dataset, TOY2D_DATA.nTrain, TOY2D_DATA.nTest, 0);
    await Deno.writeFile(train, new Uint8Array(split.train.buffer));
  }
  for (const m of methods) {
    const tag = `${dataset}-${m}-${v.init}`;
    const pt = `${out}/torch-${tag}.pt`;
    if (!(await pathExists(pt))) {
      console.log(`== training ${LABELS[m]} on ${dataset} with TorchCFM (${v.init} init)`);
      const script = new URL("./toy_torch_train.py", import.meta.url).pathname;
      const path = [resolve(v.tcfm!), Deno.env.get("PYTHONPATH")].filter((x) => x).join(":");
      await run({
        cmd: v.python!,
        args: [script, "--train", train, "--method", m, "--init", v.init!, "--out", pt],
        env: { PYTHONPATH: path },
      });
    }
    const evalDir = `${out}/eval-${tag}`;
    let torch = await scored(evalDir);
    if (!torch) {
      console.log(`== scoring ${pt} with fmbench's evaluator`);
      await run({
        cmd: Deno.execPath(),
        args: [
          ...["task", "-q", "bench", "--budget", "converged", "--datasets", dataset],
          ...["--methods", LABELS[m], "--solvers", "dopri5", "--jobs", "1", "--threads", "1"],
          ...["--checkpoint", pt, "--checkpoint-key", "net_model", "--out", evalDir],
        ],
      });
      torch = await scored(evalDir);
      if (!torch) throw new Error(`${evalDir}: the evaluation did not finish; see its log above`);
    }
    const ours: RunRecord | undefined = fmbench.runs.find((r) =>
      r.dataset === dataset && r.method === LABELS[m] && r.status === "ok"
    );
    const solver = fmbench.headline.adaptiveSolver;
    const a = ours && headlineNll(ours, solver), b = headlineNll(torch, solver);
    const diff = a?.nats != null && b?.nats != null ? b.nats - a.nats : undefined;
    const se = Math.max(a?.stderr ?? NaN, b?.stderr ?? NaN);
    rows.push([
      dataset,
      LABELS[m],
      `${f(a?.nats)} ± ${f(a?.stderr)}`,
      `${f(b?.nats)} ± ${f(b?.stderr)}`,
      diff !== undefined
        ? `${diff >= 0 ? "+" : ""}${f(diff)} (${f(Math.abs(diff) / se, 2)})`
        : "n/a",
      `${f(ours && headlineEval(ours, solver)?.metrics?.w2)} / ${
        f(headlineEval(torch, solver)?.metrics?.w2)
      }`,
      `${ours ? headlineEval(ours, solver)?.nfe ?? "n/a" : "n/a"} / ${
        headlineEval(torch, solver)?.nfe ?? "n/a"
      }`,
    ]);
  }
}
const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(`| ${r.map((c, i) => c.padEnd(w[i])).join(" | ")} |`);
