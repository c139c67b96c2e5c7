// `deno task bench`: parse flags, discover plugins, pick the backend, run the suite, write the
// report and print a summary table.
import { BackendUnavailableError, selectBackend } from "../harness/backend/select.ts";
import { firstLine } from "../harness/error-message.ts";
import {
  BUILTIN_PLUGINS,
  conflictMessage,
  discoverPlugins,
  UnknownNameError,
} from "../harness/registry.ts";
import { runSuite } from "../harness/run-suite.ts";
import { acquireRunLock, LockHeldError, type RunLock } from "../harness/store/lock.ts";
import { SUITES } from "../harness/suites/mod.ts";
import type { ResultsFile } from "../results/schema.ts";
import { renderReport } from "../reports/render.ts";
import { printSummary } from "../reports/summary.ts";
import { buildConfig } from "./config.ts";
import { isPermissionError, permissionMessage, unexpectedMessage } from "./explain-error.ts";
import { parseFlags, parseShard, UsageError } from "./flags.ts";
import { defaultOutDir } from "./grants.ts";
import { HELP } from "./help.ts";
import { printList } from "./list.ts";
import { pluginRoot } from "./plugin-root.ts";

export { buildConfig } from "./config.ts";
export { FLAGS, parseShard, UsageError } from "./flags.ts";
export { HELP } from "./help.ts";

/** Render report.html beside results.json; a failure is reported and leaves results.json intact. */
async function writeReport(outDir: string, results: ResultsFile): Promise<void> {
  try {
    await Deno.writeTextFile(`${outDir}/report.html`, renderReport(results));
    console.error(`report: ${outDir}/report.html`);
  } catch (e) {
    console.error(
      `report: not written (${
        firstLine(e)
      }); results.json is complete, retry with: deno task report ${outDir}`,
    );
  }
}

/**
 * The CLI entry; returns the process exit code (0 ok, 1 failed, 2 usage). Every error ends as
 * one line on stderr: usage and permission errors explained, anything else without a trace.
 * @example
 * const code = await main(["--datasets", "moons", "--steps", "300", "--out", "/tmp/run"]);
 */
export async function main(
  argv: string[],
  opts: { handleSignals?: boolean } = {},
): Promise<number> {
  let lock: RunLock | undefined;
  try {
    const { values: v } = parseFlags(argv);
    if (v.help) {
      console.log(HELP);
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
    const config = buildConfig(v, reg);
    const shard = parseShard(v.shard);
    const suite = SUITES[config.suite];
    const needsConv = config.models.some((m) => reg.models.get(m.name)!.usesConvolution);
    const backend = await selectBackend(v.backend, { needsConvGrad: needsConv });
    console.error(`backend: ${backend.backend} on ${backend.device}`);
    for (const n of backend.notes) console.error(`  ${n}`);
    const outDir = v.out ?? defaultOutDir(config.suite, shard);
    if (opts.handleSignals) {
      Deno.addSignalListener("SIGINT", () => {
        console.error(
          `\ninterrupted: completed runs are in ${outDir}/results.json; ` +
            `resume with the same command plus --out ${outDir}`,
        );
        Deno.exit(130);
      });
    }
    const problem = await suite.preflight?.(config);
    if (problem) {
      console.error(`error: ${problem}`);
      return 1;
    }
    lock = await acquireRunLock(outDir, {
      command: ["deno task bench", ...argv].join(" "),
      log: (l) => console.error(l),
    });
    const results = await runSuite({
      suite,
      config,
      registry: reg,
      backend,
      outDir,
      shard,
      argv,
    });
    if (!v["no-report"]) await writeReport(outDir, results);
    printSummary(results);
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
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args, { handleSignals: true }));
