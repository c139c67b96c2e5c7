// Where the FID Inception weights live and how to get them: the file names searched in the data
// dir, pytorch-fid's release URL, the SHA-256 check, and an atomic download with progress.
import { join, resolve } from "node:path";
import { type Downloaded, downloadVerified, WeightsDownloadError } from "../store/download.ts";
export type { Downloaded };
import { taskCommand } from "../store/task-command.ts";

/**
 * pytorch-fid's checkpoint as published (PyTorch's legacy torch.save stream).
 * @example
 * join(resolveDataDir(), INCEPTION_PTH); // ".../data/pt_inception-2015-12-05-6726825d.pth"
 */
export const INCEPTION_PTH = "pt_inception-2015-12-05-6726825d.pth";

/**
 * A safetensors conversion of it (still accepted; see README.md in this folder).
 * @example
 * join("data", INCEPTION_SAFETENSORS); // "data/pt_inception-2015-12-05.safetensors"
 */
export const INCEPTION_SAFETENSORS = "pt_inception-2015-12-05.safetensors";

/**
 * Environment variable that overrides the weights path.
 * @example
 * Deno.env.get(INCEPTION_ENV); // e.g. "/models/pt_inception-2015-12-05-6726825d.pth", if set
 */
export const INCEPTION_ENV = "FMBENCH_INCEPTION";

/**
 * pytorch-fid's release asset (FID_WEIGHTS_URL in pytorch_fid/inception.py).
 * @example
 * const response = await fetch(INCEPTION_URL); // redirects to release-assets.githubusercontent.com
 */
export const INCEPTION_URL =
  "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + INCEPTION_PTH;

/**
 * Hosts the download needs: github.com answers with a redirect to GitHub's release-asset host.
 * The bench tasks' --allow-net lists exactly these (plus the CIFAR-10 host).
 * @example
 * `--allow-net=${INCEPTION_HOSTS.join(",")}`;
 * // "--allow-net=github.com,release-assets.githubusercontent.com"
 */
export const INCEPTION_HOSTS = ["github.com", "release-assets.githubusercontent.com"];

/**
 * The first 8 hex digits of the file's SHA-256, carried by its name (torch.hub convention).
 * @example
 * INCEPTION_PTH.includes(INCEPTION_SHA256_PREFIX); // true
 */
export const INCEPTION_SHA256_PREFIX = "6726825d";

/**
 * The full SHA-256 of the .pth file. Not verified on our machines (the file cannot be downloaded
 * there): it is the value a third-party project records for torch-fidelity's copy of the same
 * file (weights-inception-2015-12-05-6726825d.pth), and it agrees with the name's prefix.
 * @example
 * (await sha256Hex(await Deno.readFile(path))) === INCEPTION_SHA256; // expected for the .pth
 */
export const INCEPTION_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2";

/** Where the weights were looked for, and the path found (if any). */
export interface WeightsSearch {
  /** The file to use, or undefined when none of `searched` exists. */
  found?: string;
  /** Absolute paths looked at, in order. */
  searched: string[];
  /** The data folder searched (absolute). */
  dir: string;
  /** Where a download (or a hand-placed file) goes. */
  target: string;
}

function envPath(): string | undefined {
  try {
    const v = Deno.env.get(INCEPTION_ENV);
    return v && v.length > 0 ? v : undefined;
  } catch {
    return undefined; // no --allow-env: only the data dir is searched
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Look for the weights: $FMBENCH_INCEPTION if set, else `<dataDir>/pt_inception-2015-12-05-
 * 6726825d.pth`, then `<dataDir>/pt_inception-2015-12-05.safetensors`.
 * @example
 * const s = findInceptionWeights("data"); // { found: ".../data/pt_inception-...pth", searched: [...], ... }
 */
export function findInceptionWeights(dataDir = "data"): WeightsSearch {
  const dir = resolve(dataDir);
  const target = join(dir, INCEPTION_PTH);
  const env = envPath();
  const searched = env ? [resolve(env)] : [target, join(dir, INCEPTION_SAFETENSORS)];
  return { found: searched.find(isFile), searched, dir, target };
}

/**
 * The "how to get the weights" part of the n/a message: the paths searched, why nothing was
 * downloaded (if given), the command, the URL and the exact path.
 * @example
 * howToGetWeights(findInceptionWeights("data")); // "looked for /abs/data/pt_inception-...pth and ... Get them with ..."
 */
export function howToGetWeights(
  search: Pick<WeightsSearch, "searched" | "target">,
  why = "",
): string {
  return `looked for ${search.searched.join(" and ")}${why ? ` (${why})` : ""}. ` +
    `Get them with \`${taskCommand("fid:weights", ["--data-dir", dirOf(search.target)])}\` ` +
    `(downloads ${INCEPTION_URL}, ~92 MB), or by hand: ` +
    `curl -L -o ${search.target} ${INCEPTION_URL}`;
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

export { WeightsDownloadError };

/** Options for downloadInceptionWeights. */
export interface DownloadOptions {
  /** Destination file (default `<dataDir>/pt_inception-2015-12-05-6726825d.pth`). */
  target: string;
  /** Test and mirror overrides. */
  url?: string;
  fetch?: typeof fetch;
  sha256?: string;
  sha256Prefix?: string;
  /** Called as bytes arrive (total from Content-Length, when sent). */
  onProgress?: (done: number, total: number | undefined) => void;
  /** Give up when no response or no new bytes arrive for this long (default 60 s). */
  stallSeconds?: number;
}

/**
 * Download the weights to `target`: streamed into a temporary file next to it while hashing,
 * checked (length, the name's SHA-256 prefix, the full SHA-256), then renamed into place. A failed
 * or mismatching download leaves nothing behind and says where to put the file by hand.
 * @example
 * await downloadInceptionWeights({ target: "data/pt_inception-2015-12-05-6726825d.pth" });
 */
export async function downloadInceptionWeights(opts: DownloadOptions): Promise<Downloaded> {
  const url = opts.url ?? INCEPTION_URL;
  const prefix = opts.sha256Prefix ?? INCEPTION_SHA256_PREFIX;
  const full = opts.sha256 ?? INCEPTION_SHA256;
  return await downloadVerified({
    url,
    target: opts.target,
    hosts: INCEPTION_HOSTS,
    fetch: opts.fetch,
    onProgress: opts.onProgress,
    stallSeconds: opts.stallSeconds,
    check: ({ sha256 }, byHand) => {
      if (!sha256.startsWith(prefix)) {
        return {
          problem: `${url} downloaded with SHA-256 ${sha256}, but the file name promises it ` +
            `starts with ${prefix}: not the published file`,
          advice: "Nothing was kept.",
        };
      }
      if (sha256 !== full) {
        return {
          problem: `${url} downloaded with SHA-256 ${sha256}, expected ${full} (the prefix ` +
            `${prefix} matches; the full value is from a third-party record)`,
          advice: `Nothing was kept; if you trust the file, ${byHand}`,
        };
      }
      return undefined;
    },
  });
}
