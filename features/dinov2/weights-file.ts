// Where the DINOv2 ViT-L/14 weights live and how to get them: the file names searched in the
// data dir, Hugging Face's facebook/dinov2-large safetensors, the SHA-256 it is checked against,
// and the verified download (progress, hash, atomic rename) through store/download.ts.
import { taskCommand } from "../../store/task-command.ts";
import { join, resolve } from "node:path";
import { type Downloaded, downloadVerified, WeightsDownloadError } from "../../store/download.ts";

/**
 * The file name in the data dir (Hugging Face calls it model.safetensors, too generic there).
 * @example
 * join("data", DINOV2_SAFETENSORS); // "data/dinov2-vitl14.safetensors"
 */
export const DINOV2_SAFETENSORS = "dinov2-vitl14.safetensors";

/**
 * The original checkpoint torch.hub's dinov2_vitl14 downloads (also accepted when put there).
 * @example
 * join("data", DINOV2_PTH); // "data/dinov2_vitl14_pretrain.pth"
 */
export const DINOV2_PTH = "dinov2_vitl14_pretrain.pth";

/**
 * Environment variable that overrides the weights path.
 * @example
 * Deno.env.get(DINOV2_ENV); // e.g. "/models/dinov2-vitl14.safetensors", if set
 */
export const DINOV2_ENV = "FMBENCH_DINOV2";

/**
 * Hugging Face's facebook/dinov2-large weights: a float32 safetensors file of the 390 network
 * tensors and the mask token (304,368,640 values: 1,217,474,560 bytes of data plus a JSON
 * header, about 1.22 GB).
 * @example
 * const res = await fetch(DINOV2_URL); // redirects to Hugging Face's file store
 */
export const DINOV2_URL =
  "https://huggingface.co/facebook/dinov2-large/resolve/main/model.safetensors";

/**
 * Hosts the download may need: huggingface.co answers with a redirect to its file store (Xet's
 * cas-bridge, or the LFS CDN in one of its regions). If Hugging Face moves again, the error names
 * the refused host.
 * @example
 * `--allow-net=${DINOV2_HOSTS.join(",")}`;
 */
export const DINOV2_HOSTS = [
  "huggingface.co",
  "cas-bridge.xethub.hf.co",
  "cdn-lfs.hf.co",
  "cdn-lfs-us-1.hf.co",
  "cdn-lfs-eu-1.hf.co",
  "cdn-lfs.huggingface.co",
];

/**
 * The SHA-256 of the published file, when known. It is not recorded here: no public reference we
 * could read states it, and the file cannot be downloaded on our machines. Until it is filled in,
 * a download is checked against the hash Hugging Face declares for the file (its X-Linked-Etag
 * header: the Git LFS object id, which is the SHA-256) and against the expected size; a user pins
 * it with `deno task metrics:weights --sha256 HEX` or $FMBENCH_DINOV2_SHA256.
 * @example
 * DINOV2_SHA256 ?? "(not pinned)";
 */
export const DINOV2_SHA256: string | undefined = undefined;

/**
 * Environment variable with a SHA-256 the user pins the weights to.
 * @example
 * Deno.env.get(DINOV2_SHA256_ENV); // 64 hex digits, if set
 */
export const DINOV2_SHA256_ENV = "FMBENCH_DINOV2_SHA256";

/** Where the weights were looked for, and the path found (if any). */
export interface Dinov2Search {
  found?: string;
  /** Absolute paths looked at, in order. */
  searched: string[];
  dir: string;
  /** Where a download (or a hand-placed file) goes. */
  target: string;
}

function envValue(name: string): string | undefined {
  try {
    const v = Deno.env.get(name);
    return v && v.length > 0 ? v : undefined;
  } catch {
    return undefined; // no --allow-env
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
 * Look for the weights: $FMBENCH_DINOV2 if set, else `<dataDir>/dinov2-vitl14.safetensors`, then
 * `<dataDir>/dinov2_vitl14_pretrain.pth`.
 * @example
 * findDinov2Weights("data"); // { found?: ".../data/dinov2-vitl14.safetensors", searched: [...], ... }
 */
export function findDinov2Weights(dataDir = "data"): Dinov2Search {
  const dir = resolve(dataDir);
  const target = join(dir, DINOV2_SAFETENSORS);
  const env = envValue(DINOV2_ENV);
  const searched = env ? [resolve(env)] : [target, join(dir, DINOV2_PTH)];
  return { found: searched.find(isFile), searched, dir, target };
}

/**
 * The SHA-256 the weights are pinned to: the argument, else $FMBENCH_DINOV2_SHA256, else
 * DINOV2_SHA256; undefined when none is set. A malformed value is an error naming it.
 * @example
 * pinnedDinov2Sha256(); // undefined unless pinned
 */
export function pinnedDinov2Sha256(given?: string): string | undefined {
  const v = given ?? envValue(DINOV2_SHA256_ENV) ?? DINOV2_SHA256;
  if (v === undefined) return undefined;
  const hex = v.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new Error(
      `DINOv2 SHA-256 "${v}" (from ${given ? "--sha256" : DINOV2_SHA256_ENV}) is not 64 hex digits`,
    );
  }
  return hex;
}

/**
 * The "how to get the weights" part of the n/a message: paths searched, why nothing was
 * downloaded (if given), the command, the URL, the exact path.
 * @example
 * howToGetDinov2(findDinov2Weights("data")); // "looked for ... Get them with `deno task metrics:weights ...`"
 */
export function howToGetDinov2(
  search: Pick<Dinov2Search, "searched" | "target">,
  why = "",
): string {
  const dir = search.target.slice(0, search.target.lastIndexOf("/")) || "/";
  return `looked for ${search.searched.join(" and ")}${why ? ` (${why})` : ""}. ` +
    `Get them with \`${taskCommand("metrics:weights", ["--data-dir", dir])}\` ` +
    `(downloads ${DINOV2_URL}, ~1.2 GB), or by hand: curl -L -o ${search.target} ${DINOV2_URL}`;
}

/** What Hugging Face declares about the file before it is downloaded. */
export interface DeclaredFile {
  /** The Git LFS object's SHA-256 (X-Linked-Etag), if declared. */
  sha256?: string;
  /** Its size in bytes (X-Linked-Size), if declared. */
  bytes?: number;
  /** The repository commit that "main" resolved to (X-Repo-Commit), if declared. */
  commit?: string;
}

/**
 * Ask Hugging Face what it serves at `url` without downloading it: a HEAD request that does not
 * follow the redirect, whose headers carry the LFS object's SHA-256, size and commit.
 * @example
 * await declaredFile(DINOV2_URL); // { sha256: "…", bytes: 1217…, commit: "…" }
 */
export async function declaredFile(url: string, f: typeof fetch = fetch): Promise<DeclaredFile> {
  const res = await f(url, { method: "HEAD", redirect: "manual" });
  await res.body?.cancel();
  const etag = res.headers.get("x-linked-etag")?.replace(/^W\//, "").replace(/"/g, "");
  const size = Number(res.headers.get("x-linked-size"));
  return {
    ...(etag && /^[0-9a-f]{64}$/.test(etag) ? { sha256: etag } : {}),
    ...(Number.isFinite(size) && size > 0 ? { bytes: size } : {}),
    ...(res.headers.get("x-repo-commit") ? { commit: res.headers.get("x-repo-commit")! } : {}),
  };
}

/** Options of downloadDinov2Weights. */
export interface Dinov2DownloadOptions {
  target: string;
  /** A pinned SHA-256 (else pinnedDinov2Sha256(), else Hugging Face's declared one). */
  sha256?: string;
  url?: string;
  fetch?: typeof fetch;
  onProgress?: (done: number, total: number | undefined) => void;
  stallSeconds?: number;
}

/** A verified DINOv2 download and what its hash was checked against. */
export interface Dinov2Downloaded extends Downloaded {
  /** "pinned": the user's or the code's SHA-256; "declared": Hugging Face's X-Linked-Etag. */
  checkedAgainst: "pinned" | "declared";
  commit?: string;
}

/**
 * Download the weights to `target` with a progress callback, checked against the pinned SHA-256
 * (or, when none is pinned, the SHA-256 and size Hugging Face declares), renamed into place only
 * when they match; a mismatch is refused with both hashes and nothing is kept.
 * @example
 * await downloadDinov2Weights({ target: "data/dinov2-vitl14.safetensors" });
 */
export async function downloadDinov2Weights(
  opts: Dinov2DownloadOptions,
): Promise<Dinov2Downloaded> {
  const url = opts.url ?? DINOV2_URL;
  const pinned = pinnedDinov2Sha256(opts.sha256);
  let declared: DeclaredFile = {};
  try {
    declared = await declaredFile(url, opts.fetch);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const perm = e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied;
    throw new WeightsDownloadError(
      `cannot reach ${url}: ${
        perm ? `no network permission (${msg}); needs --allow-net=${DINOV2_HOSTS.join(",")}` : msg
      }`,
      `Or put the file there by hand: curl -L -o ${resolve(opts.target)} ${url}`,
    );
  }
  const want = pinned ?? declared.sha256;
  if (!want) {
    throw new WeightsDownloadError(
      `${url}: no SHA-256 to check the download against (none pinned, and the server declared ` +
        `none)`,
      `Pin one with --sha256 HEX or ${DINOV2_SHA256_ENV}, or put the file there by hand`,
    );
  }
  const got = await downloadVerified({
    url,
    target: opts.target,
    hosts: DINOV2_HOSTS,
    fetch: opts.fetch,
    onProgress: opts.onProgress,
    stallSeconds: opts.stallSeconds,
    check: ({ sha256, bytes }, byHand) => {
      if (declared.bytes !== undefined && bytes !== declared.bytes) {
        return {
          problem: `${url} downloaded ${bytes} bytes, Hugging Face declares ${declared.bytes}`,
          advice: `Nothing was kept; run again, or ${byHand}`,
        };
      }
      if (sha256 !== want) {
        return {
          problem: `${url} downloaded with SHA-256 ${sha256}, expected ${want} (${
            pinned ? "pinned" : "declared by Hugging Face"
          })`,
          advice: `Nothing was kept; if you trust the file, ${byHand}`,
        };
      }
      return undefined;
    },
  });
  return {
    ...got,
    checkedAgainst: pinned ? "pinned" : "declared",
    ...(declared.commit ? { commit: declared.commit } : {}),
  };
}
