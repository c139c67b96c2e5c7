// Per-kernel wall time on a tfjs backend: wraps every registered kernel of the backend with a timer,
// so a profile splits a step into kernel time (by kernel name) and everything else (JS overhead).
import process from "node:process";
import { tf } from "../core/tf.ts";

/**
 * Milliseconds of CPU time this process has used (all threads, user + system): steadier than
 * wall time on a shared machine.
 * @example
 * const t0 = cpuNow();
 * step();
 * const cpuMs = cpuNow() - t0;
 */
export function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Accumulated calls and milliseconds per kernel name since the last reset. */
export interface KernelTimes {
  calls: Map<string, number>;
  ms: Map<string, number>;
}

/** A kernel timer installed on one backend; `uninstall` restores the original kernels. */
export interface KernelTimer {
  times: KernelTimes;
  reset(): void;
  /** Total kernel milliseconds (outermost kernels only; nested calls are not double counted). */
  total(): number;
  uninstall(): void;
}

/**
 * Wrap every kernel registered for `backend` with a timer (`clock`: wall time by default, or
 * cpuNow). Kernels that call other kernels (fmbench's wasm gradient kernels do) are timed as the
 * outermost call only.
 * @example
 * const timer = installKernelTimer("wasm");
 * step();
 * console.log([...timer.times.ms].sort((a, b) => b[1] - a[1]).slice(0, 5));
 * timer.uninstall();
 */
export function installKernelTimer(
  backend: string,
  clock: () => number = () => performance.now(),
): KernelTimer {
  const times: KernelTimes = { calls: new Map(), ms: new Map() };
  const originals = tf.getKernelsForBackend(backend);
  let depth = 0;
  let total = 0;
  for (const k of originals) {
    const inner = k.kernelFunc;
    const name = k.kernelName;
    tf.unregisterKernel(name, backend);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        if (depth > 0) return inner(args);
        depth++;
        const t0 = clock();
        try {
          return inner(args);
        } finally {
          const dt = clock() - t0;
          depth--;
          total += dt;
          times.ms.set(name, (times.ms.get(name) ?? 0) + dt);
          times.calls.set(name, (times.calls.get(name) ?? 0) + 1);
        }
      },
    });
  }
  return {
    times,
    reset() {
      times.calls.clear();
      times.ms.clear();
      total = 0;
    },
    total: () => total,
    uninstall() {
      for (const k of originals) {
        tf.unregisterKernel(k.kernelName, backend);
        tf.registerKernel(k);
      }
    },
  };
}
