// CLI: get pytorch-fid's Inception weights into the data dir (download with a progress bar and a
// SHA-256 check), or check the file already there; prints its path, format and hashes.
import { parseArgs } from "node:util";
import { byteProgress, resolveDataDir } from "../harness/mod.ts";
import {
  ensureFidModel,
  findInceptionWeights,
  INCEPTION_HOSTS,
  INCEPTION_SHA256,
  INCEPTION_URL,
} from "../features/mod.ts";
import { taskRunner } from "../store/mod.ts";
import { didYouMean } from "./flags.ts";

/** The usage text, with the command in the form the user runs tasks. */
const usage = () =>
  `usage: ${taskRunner()} task fid:weights [--data-dir DIR]

Downloads pytorch-fid's FID Inception weights (${INCEPTION_URL})
into DIR (default: $FMBENCH_DATA_DIR, else data/) unless they are already there, checks the
SHA-256 (${INCEPTION_SHA256}) and that every tensor loads, and prints the file's hashes.
Needs network access to ${INCEPTION_HOSTS.join(" and ")} (the task grants exactly these).

flags:
  --data-dir DIR   where the weights go (the folder the bench searches)
  -h, --help       show this help`;

async function main(): Promise<number> {
  let values: { "data-dir"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: { "data-dir": { type: "string" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const unknown = /^Unknown option '-{1,2}([^'=]+)'/.exec(msg);
    const near = unknown && didYouMean(unknown[1], ["data-dir", "help"]);
    console.error(`${msg}${near ? ` (did you mean --${near}?)` : ""}\n\n${usage()}`);
    return 2;
  }
  if (values.help) {
    console.log(usage());
    return 0;
  }
  const dataDir = resolveDataDir(values["data-dir"]);
  const had = findInceptionWeights(dataDir).found;
  console.error(had ? `fid weights: checking ${had}` : `fid weights: downloading ${INCEPTION_URL}`);
  const model = await ensureFidModel({ dataDir, onProgress: byteProgress("fid weights") });
  if (!model.available) {
    console.error(model.reason);
    return 1;
  }
  model.extractor.dispose();
  console.log(
    [
      `path: ${model.path}`,
      `format: ${model.format}`,
      `sha256: ${model.sha256}${model.publishedFile ? " (pytorch-fid's published file)" : ""}`,
      `content sha256 (network tensors): ${model.contentSha256}`,
    ].join("\n"),
  );
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`fid weights: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
