// Native matrix products for the wasm backend: a system BLAS's cblas_sgemm (OpenBLAS, Apple
// Accelerate) called through Deno FFI directly on the wasm heap, several times XNNPACK's speed;
// OpenBLAS's own threads where the process has cores to itself.
import { envVar } from "../core/env.ts";

/** The BLAS entry points fmbench calls. Pointers are views into the wasm heap. */
export interface Blas {
  /** Path of the loaded library. */
  path: string;
  /**
   * Threads the library computes on now (1 unless setThreads or FMBENCH_BLAS_THREADS said
   * otherwise); 0 for a BLAS whose threads fmbench cannot set (not OpenBLAS).
   */
  readonly threads: number;
  /**
   * Set OpenBLAS's thread count (process-wide: every worker of the process shares it); a no-op
   * for other libraries. Products are bit-identical for any count (see KCHUNK).
   * @example
   * blas.setThreads(navigator.hardwareConcurrency);
   */
  setThreads(n: number): void;
  /**
   * Run `fn` with OpenBLAS on one thread (products that would thread stay on this one), so that
   * helper threads can call the library at the same time; a no-op wrapper for other libraries.
   * @example
   * blas.oneThread(() => runJobs(jobs));
   */
  oneThread<T>(fn: () => T): T;
  /** OpenBLAS's kernel set (openblas_get_corename, e.g. "SkylakeX"); undefined for other BLAS. */
  core?: string;
  /** Set when fmbench chose the kernel set through OPENBLAS_CORETYPE: why. */
  coreChosen?: string;
  /**
   * Row-major C = alpha op(A) op(B) + beta C (cblas_sgemm with CblasRowMajor).
   * @example
   * blas.sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
}

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_corename: { parameters: [], result: "pointer", optional: true },
} as const;

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

/**
 * The longest inner dimension handed to one cblas_sgemm call; longer products are summed over
 * chunks (beta = 1 after the first). OpenBLAS splits a product's inner dimension into blocks of at
 * most its GEMM_Q (448 for SkylakeX sgemm, 384 or more for the other x86 kernels), and its
 * single-threaded and threaded drivers round a remainder between Q and 2Q differently, so that
 * products with such an inner dimension differed in the last bits between 1 and N threads
 * (measured: 24 of 288 shapes). With every call at k <= 256 there is no remainder to round, and
 * the products are bit-identical for any thread count (1488 shapes x 1, 2, 3, 8 threads checked,
 * SkylakeX and Haswell kernels); the extra passes over C cost 0-5%.
 */
export const KCHUNK = 256;

/**
 * Multiply-adds per thread below which a product runs on fewer threads: OpenBLAS threads any
 * product above 2.6e5 multiply-adds, where waking and joining its threads (tens of microseconds,
 * far more when the machine is busy) costs as much as the product. Each thread gets at least
 * 2^20 (~10-20 us of one core); measured on 2 busy cores, U-Net tiny step on 2 threads: 7 images/s
 * with OpenBLAS's own threshold, 21-33 with this one (29 on one thread).
 */
export const MIN_WORK_PER_THREAD = 2 ** 20;

/**
 * Where a BLAS is looked for, in order, when FMBENCH_BLAS does not name one.
 * @example
 * blasCandidates("darwin"); // ["/System/Library/Frameworks/Accelerate.framework/Accelerate"]
 * blasCandidates("linux")[0]; // "libopenblas.so.0"
 */
export function blasCandidates(os: string = Deno.build.os): string[] {
  if (os === "darwin") return ["/System/Library/Frameworks/Accelerate.framework/Accelerate"];
  if (os === "windows") return ["libopenblas.dll"];
  return ["libopenblas.so.0", "libopenblas.so", "libblas.so.3", "libcblas.so.3"];
}

/**
 * The OPENBLAS_CORETYPE to set before loading OpenBLAS, from /proc/cpuinfo's text, or undefined
 * to leave OpenBLAS's own choice. OpenBLAS before 0.3.22 (Debian 12 ships 0.3.21) does not know
 * AMD's AVX-512 cores (Zen 4 and later) and runs its Haswell (AVX2) kernels there; its SkylakeX
 * kernels (AVX-512 F, BW, DQ, VL) run about twice as fast on them (sgemm 2048^3: 80 -> 178
 * GFLOP/s on one Zen 4 core). Intel's AVX-512 cores are recognised, so they are left alone, as is
 * any OPENBLAS_CORETYPE the user set (`current`).
 * @example
 * openblasCoreType(Deno.readTextFileSync("/proc/cpuinfo"), Deno.env.get("OPENBLAS_CORETYPE"));
 */
export function openblasCoreType(cpuinfo: string, current?: string): string | undefined {
  if (current) return undefined;
  const field = (name: string) =>
    cpuinfo.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1].trim() ?? "";
  if (field("vendor_id") !== "AuthenticAMD") return undefined;
  const flags = new Set(field("flags").split(/\s+/));
  const avx512 = ["avx512f", "avx512bw", "avx512dq", "avx512vl"].every((f) => flags.has(f));
  return avx512 ? "SkylakeX" : undefined;
}

/** Set OPENBLAS_CORETYPE where openblasCoreType says so (Linux); returns the reason, if set. */
function chooseCoreType(): string | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const want = openblasCoreType(
      Deno.readTextFileSync("/proc/cpuinfo"),
      Deno.env.get("OPENBLAS_CORETYPE"),
    );
    if (!want) return undefined;
    Deno.env.set("OPENBLAS_CORETYPE", want);
    return `OPENBLAS_CORETYPE=${want} set by fmbench: an AMD AVX-512 CPU, which OpenBLAS before ` +
      `0.3.22 runs with AVX2 kernels`;
  } catch {
    return undefined; // no permission to read /proc/cpuinfo or to set the variable
  }
}

/** Why no BLAS was loaded, or the loaded one. */
export type BlasLoad = { blas: Blas; why?: undefined } | { blas?: undefined; why: string };

let cached: BlasLoad | undefined;

/**
 * Load a system BLAS through FFI, once. `FMBENCH_BLAS=off` disables it; `FMBENCH_BLAS=/path/lib`
 * names the library; `FMBENCH_BLAS_THREADS=N` sets OpenBLAS's thread count (default 1: one core
 * per fmbench process, so that --jobs workers do not oversubscribe the machine).
 * @example
 * const { blas, why } = loadBlas();
 * console.log(blas ? `BLAS: ${blas.path}` : `no BLAS: ${why}`);
 */
export function loadBlas(): BlasLoad {
  if (cached) return cached;
  cached = tryLoad();
  return cached;
}

function tryLoad(): BlasLoad {
  const wanted = envVar("FMBENCH_BLAS");
  if (wanted === "off" || wanted === "0") return { why: "disabled by FMBENCH_BLAS=off" };
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      return { why: "needs --allow-ffi (deno task bench grants it)" };
    }
  } catch {
    return { why: "FFI permission could not be queried" };
  }
  const threads = Number(envVar("FMBENCH_BLAS_THREADS") ?? 1);
  if (!(Number.isInteger(threads) && threads >= 1)) {
    return { why: `FMBENCH_BLAS_THREADS must be a positive integer, got "${threads}"` };
  }
  const tried: Array<{ path: string; reason: string }> = [];
  const coreChosen = chooseCoreType();
  for (const path of wanted ? [wanted] : blasCandidates()) {
    try {
      const lib = Deno.dlopen(path, SYMBOLS);
      const set = lib.symbols.openblas_set_num_threads;
      set?.(threads);
      const name = lib.symbols.openblas_get_corename?.();
      const core = name ? Deno.UnsafePointerView.getCString(name) : undefined;
      return {
        blas: makeBlas({
          path,
          core,
          coreChosen: core ? coreChosen : undefined,
          f: lib.symbols.cblas_sgemm,
          setThreads: set ? (n) => set(n) : undefined,
          threads,
        }),
      };
    } catch (e) {
      tried.push({ path, reason: dlopenReason((e as Error).message, path) });
    }
  }
  return { why: notFoundMessage(tried, Deno.build.os) };
}

/**
 * The BLAS at `path` for a helper thread: the library the calling thread loaded (the same handle),
 * without touching its thread count.
 * @example
 * const blas = blasAt(loadBlas().blas!.path);
 */
export function blasAt(path: string): Blas {
  const lib = Deno.dlopen(path, SYMBOLS);
  return makeBlas({ path, f: lib.symbols.cblas_sgemm, threads: 1 });
}

/**
 * Deno's dlopen error in a few words: its first line without the repeated "Could not open
 * library:" prefix and the path (which the caller names), e.g. "cannot open shared object file:
 * No such file or directory".
 * @example
 * dlopenReason("Could not open library: Could not open library: libx.so: cannot open shared object file: No such file or directory", "libx.so");
 * // "cannot open shared object file: No such file or directory"
 */
export function dlopenReason(message: string, path: string): string {
  let m = message.split("\n")[0].trim();
  for (let again = true; again;) {
    const before = m;
    m = m.replace(/^Could not open library:\s*/i, "");
    if (m.startsWith(`${path}:`)) m = m.slice(path.length + 1).trim();
    again = m !== before;
  }
  return m || "could not be opened";
}

/**
 * How to get a BLAS on `os`: the package to install (OpenBLAS; macOS has Apple's Accelerate).
 * @example
 * blasInstallHint("linux"); // "install OpenBLAS: Debian/Ubuntu `sudo apt-get install libopenblas0`, ..."
 */
export function blasInstallHint(os: string): string {
  if (os === "darwin") {
    return "Apple's Accelerate should be there; or `brew install openblas` and " +
      "FMBENCH_BLAS=$(brew --prefix openblas)/lib/libopenblas.dylib";
  }
  return "install OpenBLAS: Debian/Ubuntu `sudo apt-get install libopenblas0`, Fedora " +
    "`sudo dnf install openblas-serial`, Arch `sudo pacman -S openblas`; or set " +
    "FMBENCH_BLAS=/path/to/libopenblas.so";
}

/**
 * The one-line reason no BLAS was loaded: the libraries tried, each reason said once, and how to
 * get one (without it the wasm backend's matrix products run in XNNPACK, about 2.8x slower).
 * @example
 * notFoundMessage([{ path: "libopenblas.so.0", reason: "cannot open shared object file" }], "linux");
 */
export function notFoundMessage(
  tried: Array<{ path: string; reason: string }>,
  os: string,
): string {
  const byReason = new Map<string, string[]>();
  for (const t of tried) byReason.set(t.reason, [...(byReason.get(t.reason) ?? []), t.path]);
  const what = [...byReason].map(([reason, paths]) =>
    `could not open ${paths.join(", ")}: ${reason}`
  )
    .join("; ");
  return `${what}; the toy2d suite runs about 2.8x slower without a BLAS; ${blasInstallHint(os)}`;
}

type Sgemm = (
  order: number,
  ta: number,
  tb: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array<ArrayBuffer>,
  lda: number,
  b: Float32Array<ArrayBuffer>,
  ldb: number,
  beta: number,
  c: Float32Array<ArrayBuffer>,
  ldc: number,
) => void;

/**
 * Throw a RangeError unless the arrays hold every element the product reads or writes (row-major
 * op(A) m x k, op(B) k x n, C m x n with their leading dimensions): the library reads raw memory.
 * @example
 * checkExtents({ ta: false, tb: false, m: 2, n: 2, k: 2, lda: 2, ldb: 2, ldc: 2 }, { a: 4, b: 4, c: 3 });
 * // RangeError: sgemm 2x2x2: C holds 3 floats, the product needs 4
 */
export function checkExtents(
  s: {
    ta: boolean;
    tb: boolean;
    m: number;
    n: number;
    k: number;
    lda: number;
    ldb: number;
    ldc: number;
  },
  have: { a: number; b: number; c: number },
): void {
  if (s.m === 0 || s.n === 0) return;
  const [ar, ac] = s.ta ? [s.k, s.m] : [s.m, s.k];
  const [br, bc] = s.tb ? [s.n, s.k] : [s.k, s.n];
  const need = {
    a: s.k === 0 ? 0 : (ar - 1) * s.lda + ac,
    b: s.k === 0 ? 0 : (br - 1) * s.ldb + bc,
    c: (s.m - 1) * s.ldc + s.n,
  };
  for (const w of ["a", "b", "c"] as const) {
    if (have[w] < need[w]) {
      throw new RangeError(
        `sgemm ${s.m}x${s.n}x${s.k}: ${w.toUpperCase()} holds ${have[w]} floats, ` +
          `the product needs ${need[w]}`,
      );
    }
  }
}

/** The Blas over a loaded library's cblas_sgemm, with inner dimensions chunked at KCHUNK. */
function makeBlas(o: {
  path: string;
  core?: string;
  coreChosen?: string;
  f: Sgemm;
  setThreads?: (n: number) => void;
  threads: number;
}): Blas {
  let threads = o.setThreads ? o.threads : 0;
  /** The count OpenBLAS has now (set per product, up to `threads`). */
  let native = threads;
  /** Set while oneThread runs: every product on one thread. */
  let pinned = false;
  const f = o.f;
  const fit = (work: number) => {
    if (threads <= 1) return;
    const want = pinned
      ? 1
      : Math.max(1, Math.min(threads, Math.floor(work / MIN_WORK_PER_THREAD)));
    if (want !== native) {
      o.setThreads!(want);
      native = want;
    }
  };
  return {
    path: o.path,
    core: o.core,
    coreChosen: o.coreChosen,
    get threads() {
      return threads;
    },
    setThreads(n: number) {
      if (!o.setThreads) return;
      if (!(Number.isInteger(n) && n >= 1)) {
        throw new Error(`native BLAS: threads must be an integer >= 1, got ${n}`);
      }
      o.setThreads(n);
      threads = native = n;
    },
    oneThread<T>(fn: () => T): T {
      const was = pinned;
      pinned = true;
      if (threads > 1 && native !== 1) {
        o.setThreads!(1);
        native = 1;
      }
      try {
        return fn();
      } finally {
        pinned = was;
      }
    },
    sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      checkExtents({ ta, tb, m, n, k, lda, ldb, ldc }, { a: a.length, b: b.length, c: c.length });
      const tA = ta ? TRANS : NO_TRANS, tB = tb ? TRANS : NO_TRANS;
      type F = Float32Array<ArrayBuffer>;
      fit(m * n * Math.min(k, KCHUNK));
      if (k <= KCHUNK) {
        f(ROW_MAJOR, tA, tB, m, n, k, alpha, a as F, lda, b as F, ldb, beta, c as F, ldc);
        return;
      }
      for (let k0 = 0; k0 < k; k0 += KCHUNK) {
        const kk = Math.min(KCHUNK, k - k0);
        // Column block k0 of op(A) and row block k0 of op(B).
        const ak = (ta ? a.subarray(k0 * lda) : a.subarray(k0)) as F;
        const bk = (tb ? b.subarray(k0) : b.subarray(k0 * ldb)) as F;
        f(ROW_MAJOR, tA, tB, m, n, kk, alpha, ak, lda, bk, ldb, k0 === 0 ? beta : 1, c as F, ldc);
      }
    },
  };
}
