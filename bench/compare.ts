// `deno task bench:compare`: fmbench's four hot paths (wasm, one thread) against PyTorch on one
// thread, interleaved round by round in one session, reported as medians and ratios.
import { parseArgs } from "node:util";

const HELP = `usage: deno task bench:compare [--rounds 3] [--reps 15] [--unet-reps 3]
         [--only mlp_train,velocity,dopri5,unet_train] [--before DIR] [--python /usr/bin/python3]

Each round runs bench/torch_reference.py (PyTorch, torch.set_num_threads(1)) and
\`deno task bench:micro --four --json\` on wasm (and, with --before DIR, the same in another
fmbench checkout, e.g. an older commit), one after the other. It prints, per path, the median
over rounds of each side's per-round median and the ratio fmbench / PyTorch.
Needs Debian's python3-torch (apt-get install python3-torch).`;

interface Row {
  side: string;
  name: string;
  ms: number;
  cpuMs: number;
  all: number[];
  [k: string]: unknown;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function runJsonLines(cmd: string, args: string[], cwd: string, tag: string): Promise<Row[]> {
  const p = new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { FMBENCH_MICRO_BACKENDS: "wasm" },
  });
  const r = await p.output();
  const text = new TextDecoder().decode(r.stdout);
  if (!r.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} (in ${cwd}) failed with code ${r.code}:\n` +
        new TextDecoder().decode(r.stderr).slice(-2000),
    );
  }
  return text.split("\n").filter((l) => l.startsWith("{")).map((l) => ({
    ...JSON.parse(l),
    side: tag,
  }));
}

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    reps: { type: "string", default: "15" },
    "unet-reps": { type: "string", default: "3" },
    only: { type: "string", default: "mlp_train,velocity,dopri5,unet_train" },
    before: { type: "string" },
    python: { type: "string", default: "/usr/bin/python3" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (v.help) {
  console.log(HELP);
  Deno.exit(0);
}
const here = new URL("..", import.meta.url).pathname;
const common = ["--reps", v.reps!, "--only", v.only!];
const sides: Array<{ tag: string; cmd: string; args: string[]; cwd: string }> = [
  {
    tag: "torch",
    cmd: v.python!,
    args: ["bench/torch_reference.py", ...common, "--unet-reps", v["unet-reps"]!],
    cwd: here,
  },
  {
    tag: "fmbench",
    cmd: Deno.execPath(),
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-ffi",
      "bench/micro.ts",
      "--four",
      "--json",
      ...common,
      "--unet-reps",
      v["unet-reps"]!,
    ],
    cwd: here,
  },
];
if (v.before) sides.push({ ...sides[1], tag: "before", cwd: v.before });
const per: Record<string, Record<string, number[]>> = {};
const perCpu: Record<string, Record<string, number[]>> = {};
const best: Record<string, Record<string, number>> = {};
const extra: Record<string, Record<string, unknown>> = {};
for (let round = 0; round < Number(v.rounds); round++) {
  for (const s of sides) {
    const rows = await runJsonLines(s.cmd, s.args, s.cwd, s.tag);
    for (const r of rows) {
      ((per[r.name] ??= {})[s.tag] ??= []).push(r.ms);
      ((perCpu[r.name] ??= {})[s.tag] ??= []).push(r.cpuMs);
      const b = best[r.name] ??= {};
      b[s.tag] = Math.min(b[s.tag] ?? Infinity, ...(r.all as number[]));
      extra[`${r.name}/${s.tag}`] = r;
    }
    console.error(
      `round ${round + 1} ${s.tag}: ${
        rows.map((r) => `${r.name} ${r.ms.toFixed(1)} ms (CPU ${r.cpuMs.toFixed(1)})`).join(", ")
      }`,
    );
  }
}
const tags = sides.map((s) => s.tag).filter((t) => t !== "torch");
console.log(
  `\n| path | PyTorch ms (CPU ms) | ${
    tags.map((t) => `${t} ms (CPU ms) | ${t} / PyTorch: wall (CPU; fastest rep)`).join(" | ")
  } |`,
);
console.log(`|---|---|${tags.map(() => "---|---").join("|")}|`);
for (const [name, bySide] of Object.entries(per)) {
  const nfe = (tag: string) => {
    const e = extra[`${name}/${tag}`]?.nfe;
    return e !== undefined ? `, ${e} NFE` : "";
  };
  const t = median(bySide.torch ?? []), tc = median(perCpu[name].torch ?? []);
  const cells = tags.map((tag) => {
    const f = median(bySide[tag] ?? []), fc = median(perCpu[name][tag] ?? []);
    return `${f.toFixed(2)} (${fc.toFixed(2)}${nfe(tag)}) | ${(f / t).toFixed(2)}x (${
      (fc / tc).toFixed(2)
    }x; fastest ${(best[name][tag] / best[name].torch).toFixed(2)}x)`;
  });
  console.log(
    `| ${name} | ${t.toFixed(2)} (${tc.toFixed(2)}${nfe("torch")}) | ${cells.join(" | ")} |`,
  );
}
const load = (() => {
  try {
    return Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
  } catch {
    return "unknown (needs --allow-sys)";
  }
})();
console.log(
  `\nmedians over ${v.rounds} interleaved rounds of per-round medians; wall = elapsed time, ` +
    `CPU = process CPU time (user + system), which does not count time the other processes hold ` +
    `the core; fastest rep = ratio of each side's fastest single repetition in any round; ` +
    `load average ${load}`,
);
