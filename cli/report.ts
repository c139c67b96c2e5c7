// CLI: re-render <run-dir>/report.html from results.json, or merge shard results into one run.
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { taskRunner, writeFileAtomic } from "../store/mod.ts";
import {
  backupIfUnreadable,
  MergeError,
  mergeResults,
  readResults,
  ResultsFileError,
  resultsPath,
} from "../results/mod.ts";
import { renderReport } from "../reports/mod.ts";
import { isPermissionError, permissionMessage, unexpectedMessage } from "./explain-error.ts";
import { didYouMean } from "./flags.ts";
import { defaultMergeDir, REPORT_FLAGS } from "./grants.ts";

export { defaultMergeDir } from "./grants.ts";

/** The usage text, with the command in the form the user runs tasks. */
const usage = (run = taskRunner()) =>
  `usage:
  ${run} task report <run-dir>
      re-render <run-dir>/report.html from <run-dir>/results.json
  ${run} task report --merge <shard-dir>... [--out <dir>] [--allow-mixed-commits]
      merge shard results into <dir>/results.json and <dir>/report.html
      (default <dir>: runs/merged-<timestamp>)

flags:
  --merge                 merge the shard run directories given as arguments
  --out <dir>             output directory for --merge
  --allow-mixed-commits   let --merge accept shards built from different commits
  -h, --help              show this help

It may write only <run-dir>, or the --merge output <dir> (anywhere). A results.json that cannot be
read is refused with the field named; one about to be overwritten is moved aside first.`;

const VALID_FLAGS = "--merge, --out <dir>, --allow-mixed-commits, -h/--help";

/**
 * A user-facing failure: the message is printed as is and the CLI exits with `code`.
 * @example
 * throw new CliError("no results.json in runs/x", 1);
 */
export class CliError extends Error {
  constructor(message: string, readonly code = 1) {
    super(message);
    this.name = "CliError";
  }
}

/** Write durably (a crash leaves the old file or the new one), with a one-line error. */
async function write(path: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(path, text);
  } catch (e) {
    if (isPermissionError(e)) throw new CliError(permissionMessage(e, "report"));
    throw new CliError(`cannot write ${path}: ${e instanceof Error ? e.message : e}`);
  }
}

/**
 * Run the report CLI on `args` (without the program name) and return the exit code:
 * 0 success, 1 failure (missing or bad results, merge error), 2 usage error.
 * @example
 * await main(["runs/x"]); // 0: runs/x/report.html re-rendered
 * await main(["--merge", "--out", "runs/all", "runs/a", "runs/b"]); // 0
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: REPORT_FLAGS,
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const unknown = /Unknown option '(-{1,2}([^'=]+))'/.exec(msg);
    const near = unknown && didYouMean(unknown[2], Object.keys(REPORT_FLAGS));
    console.error(
      `report: ${unknown ? `unknown flag ${unknown[1]}` : msg.split(". ")[0]}` +
        `${near ? ` (did you mean --${near}?)` : ""}; valid flags: ${VALID_FLAGS} (see --help)`,
    );
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage());
    return 0;
  }
  try {
    if (!values.merge) {
      if (values.out !== undefined || values["allow-mixed-commits"]) {
        throw new CliError("--out and --allow-mixed-commits only apply with --merge", 2);
      }
      if (positionals.length !== 1) {
        throw new CliError(
          `expected exactly one run directory, got ${positionals.length}` +
            (positionals.length ? `: ${positionals.join(" ")}` : ""),
          2,
        );
      }
      const results = await readResults(positionals[0]);
      const out = join(dirname(resultsPath(positionals[0])), "report.html");
      await write(out, renderReport(results));
      console.log(`wrote ${out}`);
      return 0;
    }
    if (positionals.length === 0) {
      throw new CliError("--merge needs the shard run directories to merge", 2);
    }
    const shards = [];
    for (const p of positionals) shards.push(await readResults(p));
    const merged = mergeResults(shards, {
      names: positionals.map(resultsPath),
      allowMixedCommits: values["allow-mixed-commits"],
    });
    const dir = values.out ?? defaultMergeDir();
    // Never overwrite a results.json that cannot be read (it may be the only copy of a run).
    await backupIfUnreadable(join(dir, "results.json"), (l) => console.error(`report: ${l}`));
    await write(join(dir, "results.json"), JSON.stringify(merged, null, 1));
    await write(join(dir, "report.html"), renderReport(merged));
    console.log(
      `merged ${shards.length} shard(s) of ${merged.suite} (${merged.runs.length} runs) into ` +
        `${join(dir, "results.json")} and ${join(dir, "report.html")}`,
    );
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      console.error(`report: ${e.message}`);
      if (e.code === 2) console.error(usage());
      return e.code;
    }
    if (e instanceof ResultsFileError) {
      console.error(`report: ${e.message}`);
      return 1;
    }
    if (e instanceof MergeError) {
      console.error(`report --merge: ${e.message}`);
      return 1;
    }
    console.error(
      `report: ${isPermissionError(e) ? permissionMessage(e, "report") : unexpectedMessage(e)}`,
    );
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
