// Native matrix products for the wasm backend: a system BLAS's cblas_sgemm (OpenBLAS, Apple
// Accelerate) called through Deno FFI directly on the wasm heap, several times XNNPACK's speed.

/** The BLAS entry points fmbench calls. Pointers are views into the wasm heap. */
export interface Blas {
  /** Path of the loaded library. */
  path: string;
  /** Threads the library uses (1 unless FMBENCH_BLAS_THREADS says otherwise). */
  threads: number;
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

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

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
  const wanted = env("FMBENCH_BLAS");
  if (wanted === "off" || wanted === "0") return { why: "disabled by FMBENCH_BLAS=off" };
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      return { why: "needs --allow-ffi (deno task bench grants it)" };
    }
  } catch {
    return { why: "FFI permission could not be queried" };
  }
  const threads = Number(env("FMBENCH_BLAS_THREADS") ?? 1);
  if (!(Number.isInteger(threads) && threads >= 1)) {
    return { why: `FMBENCH_BLAS_THREADS must be a positive integer, got "${threads}"` };
  }
  const tried: Array<{ path: string; reason: string }> = [];
  const coreChosen = chooseCoreType();
  for (const path of wanted ? [wanted] : blasCandidates()) {
    try {
      const lib = Deno.dlopen(path, SYMBOLS);
      lib.symbols.openblas_set_num_threads?.(threads);
      const f = lib.symbols.cblas_sgemm;
      const name = lib.symbols.openblas_get_corename?.();
      const core = name ? Deno.UnsafePointerView.getCString(name) : undefined;
      return {
        blas: {
          path,
          threads: lib.symbols.openblas_set_num_threads ? threads : 0,
          core,
          coreChosen: core ? coreChosen : undefined,
          sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
            f(
              ROW_MAJOR,
              ta ? TRANS : NO_TRANS,
              tb ? TRANS : NO_TRANS,
              m,
              n,
              k,
              alpha,
              a as Float32Array<ArrayBuffer>,
              lda,
              b as Float32Array<ArrayBuffer>,
              ldb,
              beta,
              c as Float32Array<ArrayBuffer>,
              ldc,
            );
          },
        },
      };
    } catch (e) {
      tried.push({ path, reason: dlopenReason((e as Error).message, path) });
    }
  }
  return { why: notFoundMessage(tried, Deno.build.os) };
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
