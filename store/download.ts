// A verified download to a file: streamed into a temporary file next to the target while
// hashing (SHA-256), given up on when the network stalls, judged by the caller's check (length,
// hash), then renamed into place; a failed or refused download leaves nothing behind.
import { createHash } from "node:crypto";
import { resolve } from "node:path";

/**
 * Raised when a download fails or its bytes are refused; the message says what to do instead.
 * @example
 * new WeightsDownloadError("partial download", "Run again.").problem; // "partial download"
 */
export class WeightsDownloadError extends Error {
  constructor(
    /** What went wrong, without the advice (for callers that give their own). */
    readonly problem: string,
    advice: string,
  ) {
    super(`${problem}. ${advice}`);
    this.name = "WeightsDownloadError";
  }
}

/** A refusal of the downloaded bytes: what is wrong, and what to do. */
export interface DownloadRefusal {
  problem: string;
  advice: string;
}

/** Options of downloadVerified. */
export interface VerifiedDownloadOptions {
  url: string;
  /** Destination file. */
  target: string;
  /** The hosts the download needs, named when the network permission is missing. */
  hosts: string[];
  /**
   * Judge the bytes once they are all in (their SHA-256 and length); a refusal makes the download
   * fail with nothing kept. `byHand` is "put the file there by hand: curl -L -o TARGET URL".
   */
  check: (got: { sha256: string; bytes: number }, byHand: string) => DownloadRefusal | undefined;
  fetch?: typeof fetch;
  /** Called as bytes arrive (total from Content-Length, when sent). */
  onProgress?: (done: number, total: number | undefined) => void;
  /** Give up when no response or no new bytes arrive for this long (default 60 s). */
  stallSeconds?: number;
}

/** A verified download. */
export interface Downloaded {
  path: string;
  bytes: number;
  sha256: string;
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/**
 * Download `url` to `target`: streamed into `<target>.part-<random>` while hashing, checked
 * (the length against Content-Length, then `check`), renamed into place. A failed or refused
 * download leaves nothing behind and says where to put the file by hand.
 * @example
 * await downloadVerified({ url, target: "data/w.bin", hosts: ["example.org"], check: ({ sha256 }) => sha256 === want ? undefined : { problem: "bad hash", advice: "Nothing was kept." } });
 */
export async function downloadVerified(opts: VerifiedDownloadOptions): Promise<Downloaded> {
  const { url } = opts;
  const target = resolve(opts.target);
  const byHand = `put the file there by hand: curl -L -o ${target} ${url}`;
  await Deno.mkdir(dirOf(target), { recursive: true });
  const tmp = `${target}.part-${crypto.randomUUID().slice(0, 8)}`;
  const hash = createHash("sha256");
  let bytes = 0;
  let total: number | undefined;
  // A silent network (a firewall that drops packets) must not hang the run: abort on a stall.
  const stallMs = (opts.stallSeconds ?? 60) * 1000;
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(), stallMs);
  const alive = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), stallMs);
  };
  try {
    let res: Response;
    try {
      res = await (opts.fetch ?? fetch)(url, { signal: abort.signal });
      alive();
    } catch (e) {
      const msg = abort.signal.aborted
        ? `no answer within ${stallMs / 1000} s`
        : e instanceof Error
        ? e.message
        : String(e);
      const why = e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied
        ? `no network permission (${msg}); the task needs --allow-net=${opts.hosts.join(",")}`
        : `no network (${msg})`;
      throw new WeightsDownloadError(`cannot download ${url}: ${why}`, `Or ${byHand}`);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new WeightsDownloadError(
        `GET ${url} answered HTTP ${res.status} ${res.statusText}`,
        `Or ${byHand}`,
      );
    }
    const len = Number(res.headers.get("content-length"));
    total = Number.isFinite(len) && len > 0 ? len : undefined;
    using file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      for await (const chunk of res.body) {
        let off = 0;
        while (off < chunk.length) off += await file.write(chunk.subarray(off));
        hash.update(chunk);
        bytes += chunk.length;
        alive();
        opts.onProgress?.(bytes, total);
      }
    } catch (e) {
      const why = abort.signal.aborted ? `no data for ${stallMs / 1000} s` : String(e);
      throw new WeightsDownloadError(
        `download of ${url} broke off after ${bytes} bytes (${why})`,
        `Run again, or ${byHand}`,
      );
    }
    if (total !== undefined && bytes !== total) {
      throw new WeightsDownloadError(
        `partial download of ${url}: ${bytes} of ${total} bytes`,
        `Run again, or ${byHand}`,
      );
    }
    const sha256 = hash.digest("hex");
    const refused = opts.check({ sha256, bytes }, byHand);
    if (refused) throw new WeightsDownloadError(refused.problem, refused.advice);
    await Deno.rename(tmp, target);
    return { path: target, bytes, sha256 };
  } finally {
    clearTimeout(timer);
    await Deno.remove(tmp).catch(() => {});
  }
}
