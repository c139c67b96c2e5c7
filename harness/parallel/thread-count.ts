// How many threads the native kernels of each process (or --jobs worker) use: --threads, else the
// machine's cores shared out among the workers, so that a run with cores to itself uses them.

/** The threads chosen, and why. */
export interface ThreadsChoice {
  threads: number;
  why: string;
}

/**
 * Resolve --threads: the flag's count if given (checked by the CLI), else auto: the cores divided
 * among the workers (at least 1): one run on 16 cores gets 16, 4 workers 4 each, and workers that
 * fill every core 1 each.
 * @example
 * resolveThreads({ jobs: 2, cores: 16 }); // { threads: 8, why: "auto: 16 cores / 2 workers" }
 * resolveThreads({ flag: 3, jobs: 1, cores: 16 }); // { threads: 3, why: "--threads 3" }
 */
export function resolveThreads(
  { flag, jobs, cores }: { flag?: number; jobs: number; cores: number },
): ThreadsChoice {
  if (flag !== undefined) return { threads: flag, why: `--threads ${flag}` };
  const threads = Math.max(1, Math.floor(cores / Math.max(1, jobs)));
  return {
    threads,
    why: `auto: ${cores} core${cores === 1 ? "" : "s"} / ${jobs} worker${jobs === 1 ? "" : "s"}`,
  };
}
