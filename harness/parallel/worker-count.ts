// How many workers a parallel run uses: cores, memory, the backend (one GPU) and the number of
// independent groups of runs decide it.
/** Memory a worker may need: the MLP suites are small; a U-Net's wasm heap grows to GBs. */
const WORKER_BYTES = { vector: 0.75 * 2 ** 30, image: 3 * 2 ** 30 };

/**
 * Bytes of memory available to new processes (Linux /proc/meminfo), or undefined.
 * @example
 * availableMemory(); // 121345245184 on Linux; undefined where /proc/meminfo is unreadable
 */
export function availableMemory(): number | undefined {
  try {
    const info = Deno.readTextFileSync("/proc/meminfo");
    const m = /MemAvailable:\s+(\d+) kB/.exec(info);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** How many workers a run uses, and why. */
export interface JobsChoice {
  jobs: number;
  why: string;
  /** Set when fewer workers run than --jobs asked for because of the cores or the memory. */
  note?: string;
}

/**
 * Resolve --jobs: "auto" (the default) is the number of cores, fewer if memory is short, on CPU
 * backends, and 1 on a GPU backend (one device: workers would compete for its memory and
 * queue); never more workers than independent groups of runs. A count is capped at the cores
 * (CPU backends) and what memory allows, with a `note` saying so.
 * @example
 * resolveJobs("auto", "wasm", "vector", 21, { cores: 2, memory: 8 * 2 ** 30 }); // { jobs: 2, ... }
 */
export function resolveJobs(
  { flag, backend, kind, groups, machine = {} }: {
    /** --jobs as given: a count, "auto" or absent. */
    flag: string | undefined;
    backend: string;
    /** The suite's data kind (a U-Net worker needs more memory). */
    kind: "vector" | "image";
    /** Independent groups of runs in the plan. */
    groups: number;
    /** Cores and available bytes (default: this machine's). */
    machine?: { cores?: number; memory?: number };
  },
): JobsChoice {
  const cores = machine.cores ?? navigator.hardwareConcurrency ?? 1;
  const memory = "memory" in machine ? machine.memory : availableMemory();
  const gpu = backend === "webgpu" || backend === "tensorflow";
  const byMemory = memory === undefined
    ? Infinity
    : Math.max(1, Math.floor(memory / WORKER_BYTES[kind]));
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 2 : 1)} GiB`;
  let jobs: number, why: string, note: string | undefined;
  if (flag === undefined || flag === "auto") {
    if (gpu) {
      jobs = 1;
      why = `auto: 1 on the ${backend} backend (one GPU; workers would compete for it)`;
    } else {
      jobs = Math.min(cores, byMemory);
      why = `auto: ${cores} core(s)` +
        (byMemory < cores
          ? `, memory for ${byMemory} (${gib(memory!)} available, ~${gib(WORKER_BYTES[kind])} ` +
            `per worker)`
          : "");
    }
  } else {
    jobs = Number(flag);
    why = `--jobs ${flag}`;
    // On a CPU backend each worker computes on one core: more workers than cores only share them
    // (and each holds its own tfjs heap); memory caps any backend's workers.
    const cap = Math.min(gpu ? Infinity : cores, byMemory);
    if (jobs > cap) {
      const by = cap === byMemory
        ? `memory for ${byMemory} (${gib(memory!)} available, ~${gib(WORKER_BYTES[kind])} ` +
          `per worker)`
        : `${cores} core(s)`;
      note = `--jobs ${flag} capped at ${cap}: ${by}`;
      why = note;
      jobs = cap;
    }
  }
  if (jobs > groups) {
    why += `; ${groups} independent group(s) of runs, so ${groups} worker(s)`;
    jobs = groups;
  }
  return { jobs: Math.max(1, jobs), why, ...(note ? { note } : {}) };
}
