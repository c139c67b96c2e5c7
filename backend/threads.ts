// How many threads the native kernels compute on in this process: the BLAS that passed its
// start-up check (set by select.ts), and useThreads, which sets OpenBLAS's count after the engine
// knows how many workers share the machine, checking the kernels again at a new count.
import type { Blas } from "./native-blas.ts";
import { checkNativeKernels, describeCheck } from "./native-check.ts";
import { threadsFailure } from "./shared-blas.ts";

/** The native kernels in use in this process, or why there are none. */
let active: { blas: Blas; checked: Set<number> } | undefined;
let inactiveWhy = "the wasm backend is not active";

/**
 * Record the BLAS whose kernels are registered (after its check at `checked` thread counts), or
 * why none is.
 * @example
 * setActiveBlas({ blas, checked: [1, 2] }); // or setActiveBlas({ why: "no native BLAS: ..." })
 */
export function setActiveBlas(o: { blas: Blas; checked: number[] } | { why: string }): void {
  if ("blas" in o) active = { blas: o.blas, checked: new Set(o.checked) };
  else {
    active = undefined;
    inactiveWhy = o.why;
  }
}

/**
 * The thread count of the active native kernels, or undefined where none are active.
 * @example
 * activeThreads(); // 1 after selectBackend("wasm") with OpenBLAS, until useThreads sets more
 */
export function activeThreads(): number | undefined {
  return active ? active.blas.threads || 1 : undefined;
}

/**
 * The cores of this machine (navigator.hardwareConcurrency; 1 if unknown).
 * @example
 * machineCores(); // 2 on the development machine
 */
export function machineCores(): number {
  try {
    return Math.max(1, navigator.hardwareConcurrency || 1);
  } catch {
    return 1;
  }
}

/**
 * The 1-minute load average (Deno.loadavg, else /proc/loadavg), or undefined where neither can be
 * read: how many cores other processes keep busy.
 * @example
 * machineLoad(); // 0.4 on an idle machine
 */
export function machineLoad(): number | undefined {
  try {
    return Deno.loadavg()[0];
  } catch {
    try {
      return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
    } catch {
      return undefined;
    }
  }
}

/** The part of BackendInfo useThreads reads and updates. */
export interface ThreadsTarget {
  backend: string;
  device: string;
  notes: string[];
  threads?: number;
  threadsWhy?: string;
}

/**
 * Run the native matrix and convolution kernels on `threads` threads (OpenBLAS's own, process-
 * wide), updating the backend info (threads, device, a note saying how many and why). Without a
 * native BLAS on wasm, or on the cpu backend, the run stays on one thread and the note says why;
 * GPU backends are left alone. A count not checked at start-up is checked first; if the kernels
 * fail there, they stay on one thread and the note gives the figures.
 * @example
 * useThreads(info, { threads: 2, why: "auto: 2 cores, 1 worker" });
 * info.threads; // 2 (with OpenBLAS), 1 without
 */
export function useThreads(info: ThreadsTarget, o: { threads: number; why: string }): void {
  if (info.backend !== "wasm" && info.backend !== "cpu") return;
  const cores = machineCores();
  const device = (n: number) =>
    `${info.device.replace(/ \(.*\)$/, "")} (${n} thread${n === 1 ? "" : "s"}, ${cores} cores)`;
  const single = (why: string) => {
    info.threads = 1;
    info.threadsWhy = why;
    info.device = device(1);
    info.notes.push(`threads: 1 (${o.why}${o.threads > 1 ? `, but ${why}` : `; ${why}`})`);
  };
  if (info.backend === "cpu") return single("the cpu backend computes on one thread");
  if (!active) return single(`single-threaded: ${inactiveWhy}`);
  const { blas, checked } = active;
  if (blas.threads === 0) {
    return single(`single-threaded: ${blas.path} is not OpenBLAS (its threads cannot be set)`);
  }
  if (!checked.has(o.threads)) {
    const r = checkNativeKernels(blas, { threads: [o.threads] });
    checked.add(o.threads);
    if (!r.ok) return single(`single-threaded: ${describeCheck(r)}`);
  }
  blas.setThreads(o.threads);
  if (blas.threads !== o.threads) {
    return single(`single-threaded: ${threadsFailure() ?? "the helper threads did not start"}`);
  }
  info.threads = o.threads;
  info.threadsWhy = o.why;
  info.device = device(o.threads);
  info.notes.push(
    `threads: native matrix products and convolutions on ${o.threads} thread` +
      `${o.threads === 1 ? "" : "s"} (${o.why}${
        o.threads > 1
          ? `: this one and ${o.threads - 1} helper thread${o.threads > 2 ? "s" : ""}`
          : ""
      }); other kernels on one`,
  );
}
