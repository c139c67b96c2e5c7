// CLI: get every sample-quality metric's weights into the data dir: pytorch-fid's Inception
// (FID, KID, IS, precision/recall, density/coverage) and DINOv2 ViT-L/14 (FD-DINOv2), each
// downloaded with a progress bar and a SHA-256 check unless already there; prints their hashes.
import { parseArgs } from "node:util";
import { byteProgress, resolveDataDir } from "../harness/mod.ts";
import {
  DINOV2_HOSTS,
  DINOV2_SHA256_ENV,
  DINOV2_URL,
  ensureDinov2Model,
  ensureFidModel,
  findDinov2Weights,
  findInceptionWeights,
  INCEPTION_URL,
} from "../features/mod.ts";

const USAGE = `usage: deno task metrics:weights [--data-dir DIR] [--sha256 HEX]

Puts the weights of the sample-quality metrics into DIR (default: $FMBENCH_DATA_DIR, else
data/), downloading the ones not already there, and checks that every tensor loads:
  - pytorch-fid's Inception (FID, KID, Inception Score, precision/recall, density/coverage):
    ${INCEPTION_URL}
  - DINOv2 ViT-L/14 (FD-DINOv2), Hugging Face's facebook/dinov2-large (~1.2 GB):
    ${DINOV2_URL}
    checked against the SHA-256 given by --sha256 (or $${DINOV2_SHA256_ENV}); without one,
    against the SHA-256 and size Hugging Face declares for the file. The hash is printed: pin it.
Needs network access to github.com and ${DINOV2_HOSTS[0]} and their file hosts (the task grants
exactly those of the files still missing).

flags:
  --data-dir DIR   where the weights go (the folder the bench searches)
  --sha256 HEX     the SHA-256 the DINOv2 file must have
  -h, --help       show this help`;

async function main(): Promise<number> {
  let values: { "data-dir"?: string; sha256?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        "data-dir": { type: "string" },
        sha256: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : e}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dataDir = resolveDataDir(values["data-dir"]);
  let failed = 0;
  const had = findInceptionWeights(dataDir).found;
  console.error(had ? `inception: checking ${had}` : `inception: downloading ${INCEPTION_URL}`);
  const fid = await ensureFidModel({ dataDir, onProgress: byteProgress("inception weights") });
  if (!fid.available) {
    console.error(fid.reason);
    failed++;
  } else {
    fid.extractor.dispose();
    console.log(
      `inception: ${fid.path}\n  sha256: ${fid.sha256}${
        fid.publishedFile ? " (pytorch-fid's published file)" : ""
      }`,
    );
  }
  const dino = findDinov2Weights(dataDir).found;
  console.error(dino ? `dinov2: checking ${dino}` : `dinov2: downloading ${DINOV2_URL}`);
  const model = await ensureDinov2Model({
    dataDir,
    sha256: values.sha256,
    onProgress: byteProgress("dinov2 weights"),
  });
  if (!model.available) {
    console.error(model.reason);
    failed++;
  } else {
    model.extractor.dispose();
    console.log(
      `dinov2: ${model.path} (${model.format}, ${model.paramCount} parameters)\n  sha256: ${model.sha256}${
        model.pinned
          ? " (equals the pinned value)"
          : ` (not pinned: pin it with --sha256 or ${DINOV2_SHA256_ENV})`
      }`,
    );
  }
  return failed ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`metrics weights: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
