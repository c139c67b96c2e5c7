// `deno task bench:compare`: fmbench's hot paths (wasm) against PyTorch, both on one thread (or
// both on N), interleaved round by round in one session, reported as medians and ratios.
import { parseArgs } from "node:util";
import { writeFrechetInput } from "./frechet-input.ts";

const HELP =
  `usage: deno task bench:compare [--rounds 3] [--reps 15] [--unet-reps 3] [--heavy-reps 3]
         [--only mlp_train,velocity,dopri5,unet_train] [--threads 1|N|all]
         [--tcfm DIR] [--before DIR] [--python /usr/bin/python3]

Each round runs bench/torch_reference.py (PyTorch) and \`deno task bench:micro --four --json\` on
wasm (and, with --before DIR, the same in another fmbench checkout, e.g. an older commit), one
after the other, both on --threads threads (PyTorch's intra-op threads and NumPy's OpenBLAS;
fmbench's OpenBLAS threads; "all" = this machine's cores). It prints, per path, the median over
rounds of each side's per-round median and the ratio fmbench / PyTorch, with the machine's cores
and load average.

Paths (--only): the four (mlp_train, velocity, dopri5, unet_train) and the heavy ones:
  inception    pytorch-fid's FID Inception forward, batch 16, 32x32 upsampled to 299x299
               (needs python3-torchvision)
  adm_forward  the ADM U-Net of TorchCFM's CIFAR-10 checkpoints, forward at batch 16 (needs
               TorchCFM's source: --tcfm DIR holding torchcfm/, default /tmp/tcfm)
  frechet      the Frechet distance at d = 2048 (fmbench from raw statistics: factor + distance;
               SciPy's sqrtm route as pytorch-fid computes it), same covariances on both sides
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

/** Lines that are not timings: fmbench's thread notes, PyTorch's skipped paths. */
const asides: string[] = [];

async function runJsonLines(
  cmd: string,
  args: string[],
  cwd: string,
  tag: string,
  env: Record<string, string> = {},
): Promise<Row[]> {
  const p = new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { FMBENCH_MICRO_BACKENDS: "wasm", ...env },
  });
  const r = await p.output();
  const text = new TextDecoder().decode(r.stdout);
  if (!r.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} (in ${cwd}) failed with code ${r.code}:\n` +
        new TextDecoder().decode(r.stderr).slice(-2000),
    );
  }
  const rows: Row[] = [];
  for (const l of text.split("\n").filter((l) => l.startsWith("{"))) {
    const r = JSON.parse(l);
    if (r.meta) asides.push(`${tag}: ${r.threads} thread(s): ${r.notes.at(-1)}`);
    else if (r.skipped) asides.push(`${tag}: ${r.name} skipped: ${r.skipped}`);
    else rows.push({ ...r, side: tag });
  }
  return rows;
}

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    reps: { type: "string", default: "15" },
    "unet-reps": { type: "string", default: "3" },
    "heavy-reps": { type: "string", default: "3" },
    threads: { type: "string", default: "1" },
    tcfm: { type: "string", default: "/tmp/tcfm" },
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
const cores = navigator.hardwareConcurrency;
const threads = v.threads === "all" ? cores : Number(v.threads);
if (!(Number.isInteger(threads) && threads >= 1 && threads <= cores)) {
  console.error(`--threads must be "all" or an integer from 1 to ${cores}, got "${v.threads}"`);
  Deno.exit(2);
}
const common = [
  "--reps",
  v.reps!,
  "--only",
  v.only!,
  "--threads",
  String(threads),
  "--heavy-reps",
  v["heavy-reps"]!,
];
if (v.only!.split(",").includes("frechet")) {
  common.push("--frechet-input", await writeFrechetInput(2048, await Deno.makeTempDir()));
}
const sides: Array<
  { tag: string; cmd: string; args: string[]; cwd: string; env?: Record<string, string> }
> = [
  {
    tag: "torch",
    cmd: v.python!,
    args: ["bench/torch_reference.py", ...common, "--unet-reps", v["unet-reps"]!],
    cwd: here,
    // On more than one thread PyTorch's OpenMP threads wait passively: with the default (spinning)
    // they slow down several-fold on a machine shared with other processes (measured here: U-Net
    // step on 2 threads 16-29 s against 3.5 s passive and 3.2 s on one thread).
    env: { PYTHONPATH: v.tcfm!, ...(threads > 1 ? { OMP_WAIT_POLICY: "PASSIVE" } : {}) },
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
const loadavg = () => {
  try {
    return Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
  } catch {
    return "unknown (needs --allow-sys)";
  }
};
const loads: string[] = [loadavg()];
for (let round = 0; round < Number(v.rounds); round++) {
  for (const s of sides) {
    const rows = await runJsonLines(s.cmd, s.args, s.cwd, s.tag, s.env);
    loads.push(loadavg());
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
      } (load average ${loads.at(-1)})`,
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
  if (!bySide.torch) {
    console.log(`| ${name} | skipped | ${tags.map(() => "- | -").join(" | ")} |`);
    continue;
  }
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
for (const [name] of Object.entries(per)) {
  // Paths that compute a value on both sides (frechet): how far apart the values are.
  const mine = extra[`${name}/fmbench`]?.fid, theirs = extra[`${name}/torch`]?.fid;
  if (typeof mine === "number" && typeof theirs === "number") {
    console.log(
      `\n${name}: fmbench ${mine.toPrecision(12)}, PyTorch side ${theirs.toPrecision(12)} ` +
        `(relative difference ${((mine - theirs) / Math.abs(theirs)).toExponential(1)})`,
    );
  }
}
for (const a of new Set(asides)) console.log(`\n${a}`);
console.log(
  `\nboth sides on ${threads} thread(s)${
    threads > 1 ? " (PyTorch with OMP_WAIT_POLICY=PASSIVE)" : ""
  }, ${cores} cores; medians over ${v.rounds} interleaved ` +
    `rounds of per-round medians; wall = elapsed time, CPU = process CPU time (user + system, all ` +
    `threads), which does not count time the other processes hold the cores; fastest rep = ratio ` +
    `of each side's fastest single repetition in any round; load average (1, 5, 15 min) at the ` +
    `start ${loads[0]}, after each side ${loads.slice(1).join(" | ")}`,
);
