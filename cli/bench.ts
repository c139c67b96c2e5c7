// `deno task bench`: parse flags, discover plugins, check the output folder, pick the backend,
// run the suite (Ctrl-C/SIGTERM stop it at a safe point, saving what is finished), write the
// report and print a summary table.
import {
  type BackendName,
  BackendUnavailableError,
  machineCores,
  machineLoad,
  selectBackend,
  useThreads,
} from "../backend/mod.ts";
import {
  BUILTIN_PLUGINS,
  conflictMessage,
  describeRunFolder,
  discoverPlugins,
  firstLine,
  planGroups,
  planRuns,
  resolveJobs,
  resolveThreads,
  runSuite,
  type StopRequest,
  SuiteInterrupted,
  SUITES,
  UnknownNameError,
} from "../harness/mod.ts";
import {
  acquireRunLock,
  LockHeldError,
  phase,
  type RunLock,
  taskCommand,
  taskRunner,
  writeFileAtomic,
} from "../store/mod.ts";
import { commandLine, type ResultsFile } from "../results/mod.ts";
import { printSummary, renderReport } from "../reports/mod.ts";
import { buildConfig, resolveModels } from "./config.ts";
import { isPermissionError, permissionMessage, unexpectedMessage } from "./explain-error.ts";
import { parseFlags, parseJobs, parseShard, parseThreads, UsageError } from "./flags.ts";
import { JobsDisplay } from "./display.ts";
import { defaultOutDir } from "./grants.ts";
import { helpText } from "./help.ts";
import { printList } from "./list.ts";
import { outputFolderProblem } from "./output-check.ts";
import { pluginRoot } from "./plugin-root.ts";
import { handleSignals, type SignalControl } from "./signals.ts";

export { buildConfig } from "./config.ts";
export { FLAGS, parseShard, UsageError } from "./flags.ts";
export { helpText } from "./help.ts";

/** Render report.html beside results.json; a failure is reported and leaves results.json intact. */
async function writeReport(outDir: string, results: ResultsFile): Promise<void> {
  try {
    await phase("report");
    await writeFileAtomic(`${outDir}/report.html`, renderReport(results), {
      tracePhase: "write-report",
    });
    console.error(`report: ${outDir}/report.html`);
  } catch (e) {
    console.error(
      `report: not written (${firstLine(e)}); results.json is complete, retry with: ${
        taskCommand("report", [outDir])
      }`,
    );
  }
}

/**
 * The command that resumes a run: the same arguments, plus --out DIR unless they name it.
 * @example
 * resumeCommand(["--datasets", "moons"], "runs/x"); // "deno task bench --datasets moons --out runs/x"
 * // (npx -y deno@2.9.6 task bench ... for a user who runs Deno through npx)
 */
export function resumeCommand(argv: string[], outDir: string): string {
  const named = argv.some((a) => a === "--out" || a.startsWith("--out="));
  let task = "bench";
  try {
    // bench:gpu grants all of --allow-sys; bench only the hostname (both grant --allow-ffi).
    const sys = Deno.permissions.querySync({ name: "sys", kind: "osRelease" });
    if (sys.state === "granted") task = "bench:gpu";
  } catch {
    // permissions cannot be queried: the plain task
  }
  return commandLine(named ? argv : [...argv, "--out", outDir], task, taskRunner());
}

/** Exit status after a stop: 128 + the signal's number, as a shell reports it. */
function stopCode(signals?: SignalControl): number {
  return signals?.received() === "SIGTERM" ? 143 : 130;
}

/**
 * After a stop: by what, where (`stopped`, e.g. "during [1/3] ...; stopped at a safe point"),
 * what was saved (read from the disk) and the command that resumes.
 */
async function reportInterruption(
  stopped: string,
  outDir: string,
  argv: string[],
  signals?: SignalControl,
): Promise<void> {
  const sig = signals?.received();
  const by = sig === "SIGINT" ? "Ctrl-C (SIGINT)" : sig ?? "a stop request";
  const lines = [
    `interrupted by ${by}${stopped}.`,
    `saved in ${outDir}:`,
    ...(await describeRunFolder(outDir)).map((l) => `  ${l}`),
    `report.html: not written for an unfinished suite (${
      taskCommand("report", [outDir])
    } renders what is saved)`,
    `resume with: ${resumeCommand(argv, outDir)}`,
  ];
  console.error(lines.join("\n"));
}

/**
 * The CLI entry; returns the process exit code (0 ok, 1 failed, 2 usage, 130/143 stopped by
 * SIGINT/SIGTERM). Every error ends as one line on stderr: usage and permission errors
 * explained, anything else without a trace. `handleSignals` makes SIGINT/SIGTERM stop the suite
 * at a safe point (the real CLI); `stop` is a stop request for tests.
 * @example
 * const code = await main(["--datasets", "moons", "--steps", "300", "--out", "/tmp/run"]);
 */
export async function main(
  argv: string[],
  opts: { handleSignals?: boolean; stop?: StopRequest } = {},
): Promise<number> {
  let signals: SignalControl | undefined;
  let lock: RunLock | undefined;
  try {
    const { values: v } = parseFlags(argv);
    if (v.help) {
      console.log(helpText());
      return 0;
    }
    const roots = [BUILTIN_PLUGINS];
    if (v.plugins) roots.push(await pluginRoot(v.plugins));
    const reg = await discoverPlugins(roots);
    if (v.list) {
      printList(reg);
      return 0;
    }
    if (reg.conflicts.length) throw new UsageError(conflictMessage(reg.conflicts));
    for (const f of reg.failures) {
      console.error(`warning: plugin ${f.file} not loaded: ${f.reason}`);
    }
    const threadsFlag = parseThreads(v.threads, machineCores());
    const models = resolveModels(v, reg);
    const needsConv = models.some((m) => reg.models.get(m.name)!.usesConvolution);
    const backend = await selectBackend(v.backend, { needsConvGrad: needsConv });
    const config = buildConfig(v, { registry: reg, backend: backend.backend as BackendName });
    const shard = parseShard(v.shard);
    const jobsFlag = parseJobs(v.jobs);
    if (shard && jobsFlag !== undefined && jobsFlag !== "auto" && jobsFlag !== "1") {
      throw new UsageError("--shard runs one slice in one process; drop --jobs or --shard");
    }
    const suite = SUITES[config.suite];
    const outDir = v.out ?? defaultOutDir(config.suite, shard);
    const outProblem = await outputFolderProblem(outDir, v.out ? "--out" : "the output folder");
    if (outProblem) {
      console.error(`error: ${outProblem.message}`);
      return outProblem.usage ? 2 : 1;
    }
    if (opts.handleSignals) {
      signals = await handleSignals();
      signals.watch(outDir, resumeCommand(argv, outDir));
    }
    const stop = opts.stop ?? signals?.stop;
    console.error(`backend: ${backend.backend} on ${backend.device}`);
    for (const n of backend.notes) console.error(`  ${n}`);
    const problem = await suite.preflight?.(config);
    if (problem) {
      console.error(`error: ${problem}`);
      return 1;
    }
    lock = await acquireRunLock(outDir, {
      command: commandLine(argv),
      log: (l) => console.error(l),
    });
    const choice = shard ? { jobs: 1, why: "--shard runs one slice in one process" } : resolveJobs({
      flag: jobsFlag,
      backend: backend.backend,
      kind: suite.kind,
      groups: planGroups(config).length,
    });
    if (choice.jobs > 1) console.error(`jobs: ${choice.jobs} workers (${choice.why}) -> ${outDir}`);
    else if (choice.note) console.error(`jobs: one process (${choice.why})`);
    // Each process's native kernels get the cores its workers leave (all of them for one run).
    useThreads(
      backend,
      resolveThreads({
        flag: threadsFlag,
        jobs: choice.jobs,
        cores: machineCores(),
        load: machineLoad(),
      }),
    );
    console.error(`  ${backend.notes.at(-1)}`);
    const display = choice.jobs > 1
      ? new JobsDisplay(choice.jobs, planRuns(config).length)
      : undefined;
    let results: ResultsFile;
    try {
      results = await runSuite({
        suite,
        config,
        registry: reg,
        backend,
        outDir,
        shard,
        argv,
        stop,
        display,
        jobs: { count: choice.jobs, why: choice.why, roots },
      });
    } catch (e) {
      if (!(e instanceof SuiteInterrupted)) throw e;
      const where = e.workers
        ? "; every worker stopped at a safe point"
        : `${e.during ? ` during ${e.during}` : ""}; stopped at a safe point`;
      await reportInterruption(where, outDir, argv, signals);
      return stopCode(signals);
    }
    if (!v["no-report"]) await writeReport(outDir, results);
    printSummary(results);
    if (stop?.aborted) {
      console.error(`stop requested after the last run had finished: everything is saved.`);
    }
    return results.runs.some((r) => r.status === "ok") ? 0 : 1;
  } catch (e) {
    if (
      e instanceof UsageError || e instanceof UnknownNameError ||
      e instanceof BackendUnavailableError
    ) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    if (e instanceof LockHeldError) console.error(`error: ${e.message}`);
    else if (isPermissionError(e)) console.error(`error: ${permissionMessage(e, "bench")}`);
    else console.error(`error: ${unexpectedMessage(e)}`);
    return 1;
  } finally {
    lock?.release();
    signals?.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args, { handleSignals: true }));
