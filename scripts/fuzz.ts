// The fuzz test (`deno task fuzz`): seeded, deterministic mutated files against every reader of
// files fmbench reads back, in a worker with a per-case timeout and an allocation cap; prints per
// reader the cases accepted, cleanly refused, crashed, hung and over the cap; exit 1 on any of
// the last three. `--only <reader>:<case>` reruns one case in-process with its stack.
import type { FuzzRequest, FuzzResult } from "./fuzz-worker.ts";
import { fuzzTargets } from "./fuzz-targets.ts";
import { rand } from "./fuzz-mutate.ts";
import { subSeed } from "../core/rng.ts";

/** The fuzz test's settings, from flags. */
interface Options {
  budgetSeconds: number;
  cases: number;
  seed: number;
  readers?: string[];
  timeoutMs: number;
  capMiB: number;
  rssMiB: number;
  only?: string;
}

const USAGE = `usage: deno task fuzz [--budget-seconds 60] [--cases 2000] [--seed 23]
  [--readers pickle,zip,...] [--timeout-ms 5000] [--cap-mib 256] [--rss-mib 4096]
  [--only <reader>:<case>]`;

function parseFlags(args: string[]): Options {
  const o: Options = {
    budgetSeconds: 60,
    cases: 2000,
    seed: 23,
    timeoutMs: 5000,
    capMiB: 256,
    rssMiB: 4096,
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const value = inline ?? args[++i];
    const num = () => {
      const n = Number(value);
      if (!Number.isFinite(n) || n <= 0) {
        throw new Error(`${flag} needs a positive number\n${USAGE}`);
      }
      return n;
    };
    switch (flag) {
      case "--budget-seconds":
        o.budgetSeconds = num();
        break;
      case "--cases":
        o.cases = Math.floor(num());
        break;
      case "--seed":
        o.seed = Math.floor(num());
        break;
      case "--readers":
        o.readers = value.split(",").map((s) => s.trim());
        break;
      case "--timeout-ms":
        o.timeoutMs = num();
        break;
      case "--cap-mib":
        o.capMiB = num();
        break;
      case "--rss-mib":
        o.rssMiB = num();
        break;
      case "--only":
        o.only = value;
        break;
      default:
        throw new Error(`unknown flag ${args[i]}\n${USAGE}`);
    }
  }
  return o;
}

type Counts = Record<FuzzResult["outcome"] | "hung", number>;

/** A worker running cases, restarted after a hang. */
class Runner {
  private worker?: Worker;
  private handler?: (m: Record<string, unknown>) => void;

  async start(): Promise<void> {
    this.worker?.terminate();
    const w = new Worker(new URL("./fuzz-worker.ts", import.meta.url).href, { type: "module" });
    this.worker = w;
    w.onmessage = (e) => this.handler?.(e.data);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("fuzz worker did not start in 120 s")), 120_000);
      w.onerror = (e) => {
        clearTimeout(t);
        e.preventDefault();
        reject(new Error(`fuzz worker failed: ${e.message}`));
      };
      this.handler = (m) => {
        if (m.badSeed) reject(new Error(`fuzz setup: a seed of ${m.badSeed} is not accepted`));
        if (m.ready) (clearTimeout(t), resolve());
      };
    });
  }

  /**
   * Run cases [from, to); resolves with the results, and the index of a case that hung (the
   * worker is then restarted).
   */
  async run(q: FuzzRequest, timeoutMs: number): Promise<{ results: FuzzResult[]; hung?: number }> {
    const results: FuzzResult[] = [];
    const outcome = await new Promise<"done" | "hung">((resolve) => {
      let timer = setTimeout(() => resolve("hung"), timeoutMs);
      this.handler = (m) => {
        clearTimeout(timer);
        if (m.done) return resolve("done");
        results.push(m as unknown as FuzzResult);
        timer = setTimeout(() => resolve("hung"), timeoutMs);
      };
      this.worker!.postMessage(q);
    });
    if (outcome === "done") return { results };
    const hung = q.from + results.length;
    await this.start();
    return { results, hung };
  }

  stop(): void {
    this.worker?.terminate();
  }
}

/** Rerun one case in this process and show what it does, with the stack. */
async function only(spec: string, o: Options): Promise<number> {
  const [name, index] = [
    spec.slice(0, spec.lastIndexOf(":")),
    Number(spec.slice(spec.lastIndexOf(":") + 1)),
  ];
  const t = (await fuzzTargets()).find((x) => x.name === name);
  if (!t || !Number.isInteger(index)) {
    console.error(`--only wants <reader>:<case>, e.g. "pickle:12"`);
    return 2;
  }
  const r = rand(subSeed(o.seed, `${name}#${index}`));
  const input = await t.mutate(r.pick(t.seeds), r);
  console.log(`${name} case ${index}: ${input.length} bytes`);
  try {
    console.log(await t.read(input));
  } catch (e) {
    console.log(t.refused(e) ? "refused:" : "CRASHED:", e);
  }
  return 0;
}

async function main(args: string[]): Promise<number> {
  const o = parseFlags(args);
  if (o.only) return await only(o.only, o);
  const all = (await fuzzTargets()).map((t) => t.name);
  const readers = o.readers ?? all;
  const unknown = readers.filter((r) => !all.includes(r));
  if (unknown.length) {
    throw new Error(`unknown reader(s) ${unknown.join(", ")}; known: ${all.join(", ")}`);
  }
  console.log(
    `fuzz: seed ${o.seed}, budget ${o.budgetSeconds} s, up to ${o.cases} cases per reader, ` +
      `allocation cap ${o.capMiB} MiB, per-case timeout ${o.timeoutMs} ms`,
  );
  const runner = new Runner();
  await runner.start();
  const start = performance.now();
  const rows: Array<{ reader: string; counts: Counts; cases: number; seconds: number }> = [];
  const failures: string[] = [];
  for (const [k, reader] of readers.entries()) {
    const deadline = start + (o.budgetSeconds * 1000 * (k + 1)) / readers.length;
    const counts: Counts = { accepted: 0, refused: 0, crashed: 0, hung: 0, "over-cap": 0 };
    const began = performance.now();
    let i = 0;
    while (i < o.cases && performance.now() < deadline) {
      const to = Math.min(o.cases, i + 100);
      const { results, hung } = await runner.run({
        reader,
        seed: o.seed,
        from: i,
        to,
        capBytes: o.capMiB * 2 ** 20,
        rssBytes: o.rssMiB * 2 ** 20,
      }, o.timeoutMs);
      for (const res of results) {
        counts[res.outcome]++;
        if (res.outcome !== "accepted" && res.outcome !== "refused") {
          failures.push(`${reader}:${res.i} ${res.outcome}: ${res.detail}`);
        }
      }
      if (hung !== undefined) {
        counts.hung++;
        failures.push(`${reader}:${hung} hung (no answer in ${o.timeoutMs} ms)`);
        i = hung + 1;
      } else i = to;
    }
    rows.push({ reader, counts, cases: i, seconds: (performance.now() - began) / 1000 });
  }
  runner.stop();
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log(
    `${"reader".padEnd(20)}${pad("cases", 8)}${pad("accepted", 10)}${pad("refused", 9)}` +
      `${pad("crashed", 9)}${pad("hung", 6)}${pad("over-cap", 10)}${pad("seconds", 9)}`,
  );
  for (const { reader, counts: c, cases, seconds } of rows) {
    console.log(
      `${reader.padEnd(20)}${pad(cases, 8)}${pad(c.accepted, 10)}${pad(c.refused, 9)}` +
        `${pad(c.crashed, 9)}${pad(c.hung, 6)}${pad(c["over-cap"], 10)}${
          pad(seconds.toFixed(1), 9)
        }`,
    );
  }
  if (failures.length) {
    console.log(`\n${failures.length} failing cases (rerun one with --only <reader>:<case>):`);
    for (const f of failures.slice(0, 30)) console.log(`  ${f}`);
    return 1;
  }
  console.log("fuzz: no crash, hang or allocation over the cap");
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    Deno.exit(2);
  }
}
