// A Blas whose large products are shared with the helper threads (backend/helper-pool.ts): the
// rows (or columns) of C are split in blocks of 64, each computed by one single-threaded sgemm.
import type { Blas } from "./native-blas.ts";
import { KCHUNK } from "./native-blas.ts";
import type { Job } from "./helper-jobs.ts";
import { helperThreads, insideJobs, runJobs, startHelpers } from "./helper-pool.ts";

/**
 * Multiply-adds per share below which a product is not split: waking a helper and waiting for it
 * costs a few microseconds, as much as ~2^19 multiply-adds on one core.
 */
export const MIN_SHARE_WORK = 2 ** 20;

/** Rows (or columns) of C per share are a multiple of this, so edge tiles stay where they were. */
export const SHARE_ALIGN = 64;

/**
 * The shares of an m x n x k product on `threads` threads: [along, [start, count]...], splitting
 * C's rows ("m") or columns ("n") in multiples of SHARE_ALIGN, or undefined to leave it whole.
 * @example
 * productShares(4096, 64, 64, 2); // ["m", [[0, 2048], [2048, 2048]]]
 */
export function productShares(
  m: number,
  n: number,
  k: number,
  threads: number,
): ["m" | "n", Array<[number, number]>] | undefined {
  const work = m * n * Math.min(k, KCHUNK);
  const want = Math.min(threads, Math.floor(work / MIN_SHARE_WORK));
  if (want < 2) return undefined;
  const along = m >= n ? "m" : "n";
  const size = along === "m" ? m : n;
  const blocks = Math.floor(size / SHARE_ALIGN);
  const parts = Math.min(want, blocks);
  if (parts < 2) return undefined;
  const shares: Array<[number, number]> = [];
  for (let i = 0; i < parts; i++) {
    const start = Math.floor((i * blocks) / parts) * SHARE_ALIGN;
    const end = i === parts - 1 ? size : Math.floor(((i + 1) * blocks) / parts) * SHARE_ALIGN;
    shares.push([start, end - start]);
  }
  return [along, shares];
}

let helperFailure: string | undefined;

/**
 * Why the last setThreads of a shared BLAS stayed on one thread (its helpers failed to start),
 * or undefined.
 * @example
 * blas.setThreads(4);
 * if (blas.threads < 4) console.log(threadsFailure());
 */
export function threadsFailure(): string | undefined {
  return helperFailure;
}

/**
 * `blas` (OpenBLAS) computing on fmbench's helper threads: `setThreads(n)` keeps OpenBLAS on one
 * thread and starts n - 1 helpers (backend/helper-pool.ts), and large products are shared
 * between them and this thread (when no helper call is running). Each share is one sgemm on a
 * block of C's rows or columns, which OpenBLAS computes with the same arithmetic as the whole
 * product: the results are bit-identical to one thread (checked at start-up,
 * backend/native-check.ts). A BLAS whose threads cannot be set (not OpenBLAS) is returned as is.
 * @example
 * const shared = sharedBlas(loadBlas().blas!);
 * shared.setThreads(2); // one helper thread
 * shared.sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
 */
export function sharedBlas(blas: Blas): Blas {
  if (blas.threads === 0) return blas;
  const shared: Blas = Object.create(blas, {
    threads: { get: () => Math.max(blas.threads, helperThreads()) },
  });
  shared.setThreads = (n: number) => {
    if (!(Number.isInteger(n) && n >= 1)) {
      throw new Error(`native BLAS: threads must be an integer >= 1, got ${n}`);
    }
    blas.setThreads(1);
    try {
      startHelpers(n - 1, blas.path);
      helperFailure = undefined;
    } catch (e) {
      helperFailure = (e as Error).message; // one thread, and threadsFailure() says why
    }
  };
  shared.sgemm = (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    const threads = insideJobs() ? 1 : helperThreads();
    const split = threads > 1 ? productShares(m, n, k, threads) : undefined;
    if (!split) return blas.sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    const [along, shares] = split;
    const jobs: Job[] = shares.map(([s, len]) => {
      const rows = along === "m";
      const as = rows ? (ta ? a.subarray(s) : a.subarray(s * lda)) : a;
      const bs = rows ? b : (tb ? b.subarray(s * ldb) : b.subarray(s));
      const cs = rows ? c.subarray(s * ldc) : c.subarray(s);
      const [mm, nn] = rows ? [len, n] : [m, len];
      return {
        kind: "sgemm",
        arrays: [as, bs, cs],
        nums: [+ta, +tb, mm, nn, k, alpha, lda, ldb, beta, ldc],
      };
    });
    blas.oneThread(() => runJobs(jobs));
  };
  return shared;
}
