// The kill test: run a small suite, kill it K times at chosen moments in every phase (training,
// each solver's evaluation, NLL, straightness, reflow pairs, checkpoint/weights/results writes,
// the report) with SIGINT, SIGTERM and SIGKILL, resume after each kill, and check that nothing
// finished was lost and that the final results equal an uninterrupted run's.
//
//   deno task kill-test                 # the full test (2 kills per phase kind)
//   deno task kill-test --short         # a few kills (CI)
//   deno task kill-test --kills 12 --seed 3 -- --suite cifar10 --budget quick --data-dir DIR
//   deno task kill-test --grace SIGTERM -- ARGS   # only time signal-to-exit in each phase kind
//
// The bench runs as `deno run ... cli/bench.ts` with FMBENCH_TRACE=1 (phase markers on stderr)
// and FMBENCH_TRACE_PAUSE_MS (a short pause at each marker, so a kill can land inside a phase).
import { parseArgs } from "node:util";
import { rng } from "../core/rng.ts";
import { PHASE_PREFIX } from "../store/trace.ts";
import { commandLine } from "../results/command.ts";
import { diffFigures, figuresOf } from "../results/compare.ts";
import { fileStamp } from "../store/file-stamp.ts";
import { benchLaunch } from "../cli/grants.ts";
import { denoArgs, processContext } from "../cli/launch.ts";
import { readResults } from "../results/io.ts";
import type { ResultsFile, RunRecord } from "../results/schema.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);

/** The default suite: one method and a reflow pair (teacher, student), three solvers. */
const DEFAULT_SUITE = [
  "--datasets",
  "moons",
  "--methods",
  "FM w/ OT,1-RF,2-RF",
  "--preset",
  "tiny",
  "--steps",
  "150",
  "--batch",
  "64",
  "--samples",
  "64",
  "--nll-points",
  "16",
  "--reflow-pairs",
  "256",
  "--solvers",
  "euler,rk4,dopri5",
  "--backend",
  "wasm",
];
/** The short (CI) suite: a teacher and its reflow student, Euler and dopri5. */
const SHORT_SUITE = [
  "--datasets",
  "moons",
  "--methods",
  "1-RF,2-RF",
  "--preset",
  "tiny",
  "--steps",
  "60",
  "--batch",
  "64",
  "--samples",
  "64",
  "--nll-points",
  "16",
  "--reflow-pairs",
  "256",
  "--solvers",
  "euler,dopri5",
  "--backend",
  "wasm",
];

type Sig = "SIGINT" | "SIGTERM" | "SIGKILL";

interface Marker {
  kind: string;
  key: string;
}

/** "fmbench-phase: eval moons__x euler steps=8" -> kind "eval:euler", key "eval moons__x euler steps=8". */
function parseMarker(line: string): Marker | undefined {
  if (!line.startsWith(PHASE_PREFIX)) return undefined;
  const key = line.slice(PHASE_PREFIX.length).trim();
  const [name, ...rest] = key.split(" ");
  const kind = name === "eval" || name === "nll" ? `${name}:${rest[1]}` : name;
  return { kind, key };
}

const isWrite = (kind: string) => kind.startsWith("write-");

/** A bench process whose stderr is read line by line as it runs. */
class Bench {
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  readonly markers: Marker[] = [];
  #listeners: Array<(m: Marker) => void> = [];
  readonly done: Promise<void>;

  constructor(args: string[], pauseMs: number) {
    // The permissions `deno task bench` would grant these flags (cli/launch.ts), so the test
    // runs what users run (native BLAS included).
    const launch = benchLaunch(args, processContext());
    this.child = new Deno.Command(Deno.execPath(), {
      args: denoArgs(launch),
      cwd: ROOT,
      env: {
        FMBENCH_WRITABLE: JSON.stringify(launch.writes),
        FMBENCH_TRACE: "1",
        FMBENCH_TRACE_PAUSE_MS: String(pauseMs),
        NO_COLOR: "1",
      },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.done = this.#read();
  }

  async #read(): Promise<void> {
    let buf = "";
    for await (const chunk of this.child.stderr.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        const m = parseMarker(line);
        if (m) {
          this.markers.push(m);
          for (const l of this.#listeners) l(m);
        }
      }
    }
    if (buf) this.lines.push(buf);
  }

  onMarker(l: (m: Marker) => void): void {
    this.#listeners.push(l);
  }

  lastKind(): string {
    return this.markers.at(-1)?.kind ?? "start";
  }
}

/** One planned kill: aim at the reference run's marker `index` with `signal`. */
interface Target {
  index: number;
  kind: string;
  signal: Sig;
}

interface KillOutcome {
  target: Target;
  /** The phase (last marker kind) when the signal was sent. */
  phase: string;
  signal: Sig;
  code: number;
  exitSeconds: number;
  survived: boolean;
  problems: string[];
  /** The session finished its work before the aimed phase came: no kill happened. */
  missed?: boolean;
}

async function tryRead(dir: string): Promise<ResultsFile | "missing" | string> {
  try {
    await Deno.stat(`${dir}/results.json`);
  } catch {
    return "missing";
  }
  try {
    return await readResults(dir);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

const sameJson = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

/** Problems if `after` lost anything `before` had (complete runs, recorded pieces). */
function lostSince(before: ResultsFile, after: ResultsFile, dir: string): string[] {
  const problems: string[] = [];
  const fig = (r: RunRecord) => JSON.stringify(figuresOf({ ...before, runs: [r] }, dir));
  for (const b of before.runs) {
    const a = after.runs.find((r) => r.id === b.id);
    if (!a) {
      problems.push(`run ${b.id} (${b.status}) disappeared`);
      continue;
    }
    if (b.status === "ok") {
      if (a.status !== "ok" || fig(a) !== fig(b)) problems.push(`complete run ${b.id} changed`);
    } else if (b.status === "partial") {
      // Everything the partial record had must still be there, unchanged.
      const same = (x: unknown, y: unknown) =>
        JSON.stringify(figuresOf({ ...before, runs: [x as RunRecord] }, dir)) ===
          JSON.stringify(figuresOf({ ...before, runs: [y as RunRecord] }, dir));
      const kept = (field: keyof RunRecord) =>
        b[field] === undefined || same({ [field]: a[field] }, { [field]: b[field] });
      if (a.status === "failed") problems.push(`partial run ${b.id} now failed: ${a.error}`);
      // Records are kept in plan order, so a later setting can land before an earlier one:
      // compare each recorded setting (estimator) with the same one after the kill.
      const lostEvals = b.evals.filter((e) => {
        const now = a.evals.find((x) => x.solver === e.solver && sameJson(x.setting, e.setting));
        return !now || !same(now, e);
      });
      if (lostEvals.length) {
        const names = lostEvals.map((e) => `${e.solver} ${JSON.stringify(e.setting)}`);
        problems.push(`partial run ${b.id} lost solver evaluations: ${names.join(", ")}`);
      }
      const lostNll = b.nll.filter((n) => {
        const now = a.nll.find((x) => x.estimator === n.estimator);
        return !now || !same(now, n);
      });
      if (lostNll.length) {
        const names = lostNll.map((n) => n.estimator).join(", ");
        problems.push(`partial run ${b.id} lost NLL estimates: ${names}`);
      }
      for (const f of ["train", "straightness", "samples"] as const) {
        if (!kept(f)) problems.push(`partial run ${b.id} lost or changed ${f}`);
      }
    }
  }
  return problems;
}

/**
 * The files an interruption message claims ("  weights/x.safetensors: ...", or in a --jobs
 * run's shard "  shards/<group>/checkpoints/x.safetensors: ...") must exist.
 */
async function falseClaims(dir: string, lines: string[]): Promise<string[]> {
  const bad: string[] = [];
  for (const line of lines) {
    const m = /^ {2}((?:shards\/[^/\s]+\/)?(?:checkpoints|weights|reflow)\/[^\s:]+):/.exec(line) ??
      /^ {2}(results\.json|report\.html)[ :]/.exec(line);
    if (!m) continue;
    try {
      await Deno.stat(`${dir}/${m[1]}`);
    } catch {
      bad.push(`claimed ${m[1]} but it does not exist`);
    }
  }
  return bad;
}

async function staleTemps(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(`${d}/${e.name}`);
      else if (/\.tmp-\d+$/.test(e.name)) out.push(`${d}/${e.name}`);
    }
  };
  await walk(dir);
  return out;
}

/** Run one session into `dir` and kill it at `target` (mapped through the reference markers). */
async function killOnce(
  args: string[],
  dir: string,
  target: Target,
  refIndex: Map<string, number>,
  anchor: number,
  pauseMs: number,
  random: () => number,
): Promise<KillOutcome> {
  const bench = new Bench([...args, "--out", dir], pauseMs);
  let armed = false;
  let fire: (() => void) | undefined;
  const aimed = new Promise<void>((resolve) => (fire = resolve));
  bench.onMarker((m) => {
    const r = refIndex.get(m.key);
    if (!armed && r !== undefined && r >= anchor) armed = true;
    // A phase target fires at the arming marker; a write target at the next write of its kind.
    if (armed && (!isWrite(target.kind) || m.kind === target.kind)) fire!();
  });
  const status = bench.child.status;
  let exited = false;
  status.then(() => (exited = true));
  const finished = await Promise.race([aimed.then(() => false), status.then(() => true)]);
  const problems: string[] = [];
  let before: ResultsFile | "missing" | string = "missing";
  let sentAt = 0, sent = false;
  let phase = "finished before the kill";
  if (!finished) {
    // A write is aimed inside its pause (between fsync and rename); a phase anywhere near its start.
    const span = isWrite(target.kind) ? 0.9 : 1.5;
    await new Promise((r) => setTimeout(r, random() * pauseMs * span));
    before = await tryRead(dir);
    phase = bench.lastKind();
    sentAt = performance.now();
    if (!exited) {
      try {
        bench.child.kill(target.signal);
        sent = true;
      } catch {
        // it ended between the check and the signal
      }
    }
  }
  const st = await status;
  await bench.done;
  if (finished || !sent) {
    const problems = st.code === 0 ? [] : [`exit ${st.code} without a kill`];
    return {
      target,
      phase,
      signal: target.signal,
      code: st.code,
      exitSeconds: 0,
      survived: !problems.length,
      problems,
      missed: true,
    };
  }
  const exitSeconds = sentAt ? (performance.now() - sentAt) / 1000 : 0;
  const signo = { SIGINT: 2, SIGTERM: 15, SIGKILL: 9 } as Record<string, number>;
  const code = st.signal ? 128 + (signo[st.signal] ?? 0) : st.code;
  const after = await tryRead(dir);
  if (typeof after === "string" && after !== "missing") {
    problems.push(`results.json invalid: ${after}`);
  }
  if (typeof before !== "string") {
    if (typeof after === "string") problems.push(`results.json ${after} after the kill`);
    else problems.push(...lostSince(before, after, dir));
  }
  const expected = target.signal === "SIGKILL"
    ? [137]
    : target.signal === "SIGTERM"
    ? [143, 0]
    : [130, 0];
  if (!expected.includes(code)) {
    problems.push(
      `exit ${code}, expected ${expected.join(" or ")}: ${bench.lines.slice(-3).join(" | ")}`,
    );
  }
  if (target.signal !== "SIGKILL") {
    problems.push(...await falseClaims(dir, bench.lines));
    if (code !== 0 && !bench.lines.some((l) => l.startsWith("resume with: "))) {
      problems.push("no resume command printed");
    }
  }
  return {
    target,
    phase,
    signal: target.signal,
    code,
    exitSeconds,
    survived: problems.length === 0,
    problems,
  };
}

/** Choose the kills: for every phase kind, occurrences in the reference run, per signal. */
function chooseTargets(markers: Marker[], perKind: number, signals: Sig[], random: () => number) {
  const kinds = [...new Set(markers.map((m) => m.kind))];
  const targets: Target[] = [];
  for (const kind of kinds) {
    const at = markers.flatMap((m, i) => (m.kind === kind ? [i] : []));
    for (let k = 0; k < perKind; k++) {
      targets.push({
        index: at[Math.floor(random() * at.length)],
        kind,
        signal: signals[(kinds.indexOf(kind) + k) % signals.length],
      });
    }
  }
  return targets.sort((a, b) => a.index - b.index);
}

/**
 * Time from `signal` to exit once in each phase kind of `kinds` (no reference run, no resume
 * checks): what a scheduler's grace period must cover. Each session resumes the previous one, so
 * later phases come without redoing the earlier ones.
 */
async function measureGrace(
  args: string[],
  base: string,
  signal: Sig,
  kinds: string[],
  random: () => number,
): Promise<number> {
  console.log(`grace: time from ${signal} to exit, ${commandLine(args)}`);
  const secs: number[] = [];
  for (const kind of kinds) {
    const dir = `${base}/grace`; // relative to ROOT
    const bench = new Bench([...args, "--out", dir], 0);
    let fire: (() => void) | undefined;
    const aimed = new Promise<void>((r) => (fire = r));
    bench.onMarker((m) => (m.kind === kind || m.kind.startsWith(`${kind}:`)) && fire!());
    const status = bench.child.status;
    if (await Promise.race([aimed.then(() => false), status.then(() => true)])) {
      const st = await status;
      await bench.done;
      console.log(
        `  ${kind}: the run ended (exit ${st.code}) before this phase: ${
          bench.lines.slice(-2).join(" | ")
        }`,
      );
      continue;
    }
    // A random moment inside the phase's first second.
    await new Promise((r) => setTimeout(r, random() * 1000));
    const at = performance.now(), phase = bench.lastKind();
    bench.child.kill(signal);
    const st = await status;
    await bench.done;
    const s = (performance.now() - at) / 1000;
    secs.push(s);
    console.log(
      `  aimed at ${kind.padEnd(14)} landed in ${phase.padEnd(16)} exit ${st.code} after ${
        s.toFixed(2)
      } s`,
    );
  }
  console.log(
    `grace needed: max ${Math.max(...secs).toFixed(2)} s, median ${median(secs).toFixed(2)} s`,
  );
  await Deno.remove(`${base}`, { recursive: true }).catch(() => {});
  return 0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

async function main(): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: Deno.args,
    options: {
      short: { type: "boolean", default: false },
      kills: { type: "string" },
      seed: { type: "string", default: "1" },
      "pause-ms": { type: "string" },
      out: { type: "string" },
      keep: { type: "boolean", default: false },
      grace: { type: "string" },
      phases: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
  });
  if (v.help) {
    console.log(
      "usage: deno task kill-test [--short] [--kills K] [--seed N] [--pause-ms MS] [--out DIR] " +
        "[--keep] [--grace SIGTERM|SIGINT [--phases a,b]] [-- bench flags]",
    );
    return 0;
  }
  const args = positionals.length ? positionals : v.short ? SHORT_SUITE : DEFAULT_SUITE;
  const pauseMs = Number(v["pause-ms"] ?? (v.short ? 120 : 200));
  const random = rng(Number(v.seed));
  const stamp = fileStamp().slice(0, 19);
  Deno.chdir(ROOT); // the bench runs here; every path below is relative to it
  const base = v.out ?? `runs/kill-test-${stamp}`;
  const ref = `${base}/uninterrupted`, dir = `${base}/killed`;
  await Deno.remove(base, { recursive: true }).catch(() => {});
  if (v.grace) {
    // In the order a run meets them (solvers run in name order: dopri5 before euler).
    const kinds = v.phases?.split(",") ??
      ["train", "write-checkpoint", "eval:dopri5", "eval:euler", "nll", "straightness"];
    return await measureGrace(args, base, v.grace as Sig, kinds, random);
  }
  const t0 = performance.now();
  console.log(`kill test: ${commandLine(args)}`);

  const whole = new Bench([...args, "--out", ref], 0);
  const st = await whole.child.status;
  await whole.done;
  if (st.code !== 0) {
    console.log(whole.lines.slice(-20).join("\n"));
    console.log(`the uninterrupted run failed (exit ${st.code})`);
    return 1;
  }
  const expected = await readResults(`${ref}`);
  const refMarkers = whole.markers;
  const refIndex = new Map<string, number>();
  refMarkers.forEach((m, i) => !isWrite(m.kind) && !refIndex.has(m.key) && refIndex.set(m.key, i));
  const signals: Sig[] = v.short ? ["SIGINT", "SIGKILL"] : ["SIGINT", "SIGKILL", "SIGTERM"];
  let targets = chooseTargets(refMarkers, v.short ? 1 : 2, signals, random);
  if (v.short) {
    const want = ["train", "eval:dopri5", "nll:exact", "write-results", "pairs", "report"];
    targets = targets.filter((t) => want.includes(t.kind)).slice(0, Number(v.kills ?? 6));
  } else if (v.kills) {
    const k = Number(v.kills);
    targets = targets.filter((_, i) => i % Math.max(1, Math.round(targets.length / k)) === 0)
      .slice(0, k);
  }
  console.log(
    `uninterrupted: ${expected.runs.length} runs, ${refMarkers.length} phase markers, ` +
      `${((performance.now() - t0) / 1000).toFixed(0)} s; now ${targets.length} kills`,
  );

  const outcomes: KillOutcome[] = [];
  for (const target of targets) {
    // Aim at the last non-write marker at or before the target (its phase's start).
    let anchor = target.index;
    while (anchor > 0 && isWrite(refMarkers[anchor].kind)) anchor--;
    const o = await killOnce(args, `${dir}`, target, refIndex, anchor, pauseMs, random);
    if (o.missed) {
      console.log(
        `  ${o.signal.padEnd(7)} aimed at ${target.kind.padEnd(16)} missed: the session ` +
          `finished first${o.problems.length ? ` (${o.problems.join("; ")})` : ""}`,
      );
      if (o.problems.length) outcomes.push(o);
      continue;
    }
    outcomes.push(o);
    const note = o.survived ? "survived" : `LOST: ${o.problems.join("; ")}`;
    console.log(
      `  ${o.signal.padEnd(7)} aimed at ${target.kind.padEnd(16)} hit ${o.phase.padEnd(16)} ` +
        `exit ${o.code} ${
          o.signal === "SIGKILL" ? "" : `in ${o.exitSeconds.toFixed(2)} s `
        }${note}`,
    );
  }

  // Finish the job, then compare with the uninterrupted run.
  const last = new Bench([...args, "--out", dir], 0);
  const fin = await last.child.status;
  await last.done;
  const problems: string[] = [];
  if (fin.code !== 0) problems.push(`final resume exited ${fin.code}`);
  const got = await readResults(`${dir}`);
  if (!got.runs.every((r) => r.status === "ok")) problems.push("not every run is complete");
  if (got.runs.length !== expected.runs.length) problems.push("a different number of runs");
  const diff = diffFigures({ results: expected, dir: `${ref}` }, { results: got, dir: `${dir}` });
  const stale = await staleTemps(`${dir}`);
  for (const leftover of ["checkpoints", "weights"]) {
    try {
      await Deno.stat(`${dir}/${leftover}`);
      problems.push(`${leftover}/ left behind`);
    } catch {
      // removed once every run was complete
    }
  }

  const kinds = [...new Set(outcomes.map((o) => o.phase))].sort();
  const width = Math.max(18, ...kinds.map((k) => k.length + 2));
  console.log(`\nkills per phase (the phase the signal landed in):`);
  console.log(`  ${"phase".padEnd(width)}${signals.map((s) => s.padStart(9)).join("")}`);
  for (const k of kinds) {
    const n = (s: Sig) => outcomes.filter((o) => o.phase === k && o.signal === s).length;
    console.log(`  ${k.padEnd(width)}${signals.map((s) => String(n(s)).padStart(9)).join("")}`);
  }
  const graceful = outcomes.filter((o) => o.signal !== "SIGKILL" && o.exitSeconds > 0);
  if (graceful.length) {
    const secs = graceful.map((o) => o.exitSeconds);
    console.log(
      `time from SIGINT/SIGTERM to exit: median ${median(secs).toFixed(2)} s, max ${
        Math.max(...secs).toFixed(2)
      } s (n = ${secs.length}, including each phase marker's ${pauseMs} ms pause)`,
    );
  }
  console.log(
    `results.json valid after every kill: ${
      outcomes.every((o) => !o.problems.some((p) => p.includes("invalid"))) ? "yes" : "NO"
    }`,
  );
  console.log(
    diff.length
      ? `final figures DIFFER from the uninterrupted run:\n  ${diff.join("\n  ")}`
      : `final results.json vs uninterrupted run: the same figures, bit for bit ` +
        `(${got.runs.length} runs complete; timings and resume counts excluded)`,
  );
  console.log(`stale temporary files: ${stale.length ? stale.join(", ") : "none"}`);
  for (const p of problems) console.log(`problem: ${p}`);
  const survived = outcomes.filter((o) => o.survived).length;
  const lost = outcomes.length - survived +
    (diff.length || problems.length || stale.length ? 1 : 0);
  console.log(
    `${outcomes.length} kills, ${survived} survived, ${lost} lost ` +
      `(${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
  if (!v.keep && lost === 0) await Deno.remove(`${base}`, { recursive: true });
  return lost === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
