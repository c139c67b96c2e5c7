// How many threads the native kernels of each process (or --jobs worker) use: --threads, else the
// machine's idle cores shared out among the workers, so that a run with cores to itself uses them.

/** The threads chosen, and why. */
export interface ThreadsChoice {
  threads: number;
  why: string;
}

/**
 * Resolve --threads: the flag's count if given (checked by the CLI), else auto: the cores divided
 * among the workers (at least 1): one run on 16 cores gets 16, 4 workers 4 each, and workers that
 * fill every core 1 each. With `load` (the 1-minute load average) the workers share only the idle
 * cores (cores - load, rounded; at least 1 thread each): on a machine busy with other work, the
 * threads of a product wait for each other (measured on 2 cores at load 5-7: the U-Net small step
 * at 12 images/s on one thread, 5.5 on two).
 * @example
 * resolveThreads({ jobs: 2, cores: 16 }); // { threads: 8, why: "auto: 16 cores / 2 workers" }
 * resolveThreads({ jobs: 1, cores: 16, load: 12.2 }); // 4 threads: 4 idle cores
 * resolveThreads({ flag: 3, jobs: 1, cores: 16 }); // { threads: 3, why: "--threads 3" }
 */
export function resolveThreads(
  { flag, jobs, cores, load }: { flag?: number; jobs: number; cores: number; load?: number },
): ThreadsChoice {
  if (flag !== undefined) return { threads: flag, why: `--threads ${flag}` };
  const share = Math.max(1, Math.floor(cores / Math.max(1, jobs)));
  const why = `auto: ${cores} core${cores === 1 ? "" : "s"} / ${jobs} worker${
    jobs === 1 ? "" : "s"
  }`;
  if (load === undefined || !Number.isFinite(load)) return { threads: share, why };
  const idle = Math.max(0, Math.round(cores - load));
  const each = Math.max(1, Math.floor(idle / Math.max(1, jobs)));
  if (each >= share) return { threads: share, why };
  return {
    threads: each,
    why: `${why}, but load average ${load.toFixed(1)}: ${idle} idle core${idle === 1 ? "" : "s"}`,
  };
}
