// The Frechet distance's float64 linear algebra through the system LAPACK (OpenBLAS carries it)
// by Deno FFI: pivoted Cholesky (dpstrf), the congruence L^T S L (dtrmm / dgemm) and symmetric
// eigenvalues (dsyevd): the same steps as features/linalg.ts's JS route, which stays the fallback.
import type { PivotedCholesky } from "./linalg.ts";
import { envVar } from "../core/env.ts";

/** The three steps of the Frechet distance's trace term, natively. */
export interface Lapack {
  /** Path of the loaded library. */
  path: string;
  /**
   * Pivoted Cholesky of a symmetric PSD d x d matrix (row-major): features/linalg.ts's
   * pivotedCholesky, by LAPACK's dpstrf (same default threshold).
   */
  pivotedCholesky(s: Float64Array, d: number, tol?: number): PivotedCholesky;
  /** L^T S L (r x r) for symmetric S (d x d) and lower-trapezoidal L (d x r), row-major. */
  congruenceLower(s: Float64Array, l: Float64Array, d: number, r: number): Float64Array;
  /** Eigenvalues of a symmetric n x n matrix, ascending (dsyevd, eigenvalues only). */
  symmetricEigenvalues(a: Float64Array, n: number): Float64Array;
}

const SYMBOLS = {
  // Fortran: every argument by reference, then the hidden lengths of the character arguments.
  dpstrf_: {
    parameters: [
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "usize",
    ],
    result: "void",
  },
  dsyevd_: {
    parameters: [
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "usize",
      "usize",
    ],
    result: "void",
  },
  cblas_dgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f64",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f64",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  cblas_dtrmm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f64",
      "buffer",
      "i32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
} as const;

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112, LEFT = 141, RIGHT = 142, LOWER = 122;
const NON_UNIT = 131;

const char = (c: string) => new Uint8Array([c.charCodeAt(0)]);
const int = (n: number) => new Int32Array([n]);

/** Where a LAPACK is looked for when FMBENCH_LAPACK does not name one. */
function candidates(): string[] {
  if (Deno.build.os === "darwin") {
    return ["/System/Library/Frameworks/Accelerate.framework/Accelerate"];
  }
  if (Deno.build.os === "windows") return ["libopenblas.dll"];
  return ["libopenblas.so.0", "libopenblas.so", "liblapack.so.3"];
}

/** Why no LAPACK was loaded, or the loaded one. */
export type LapackLoad = { lapack: Lapack; why?: undefined } | { lapack?: undefined; why: string };

let cached: LapackLoad | undefined;

/**
 * Load a system LAPACK (with CBLAS: OpenBLAS, Accelerate) through FFI, once. `FMBENCH_LAPACK=off`
 * (or `FMBENCH_BLAS=off`) disables it, `FMBENCH_LAPACK=/path/lib` names the library.
 * @example
 * const { lapack, why } = loadLapack();
 * console.log(lapack ? `LAPACK: ${lapack.path}` : `JS linear algebra: ${why}`);
 */
export function loadLapack(): LapackLoad {
  if (cached) return cached;
  cached = tryLoad();
  return cached;
}

function tryLoad(): LapackLoad {
  const wanted = envVar("FMBENCH_LAPACK");
  if (wanted === "off" || envVar("FMBENCH_BLAS") === "off") {
    return { why: "disabled by FMBENCH_LAPACK=off or FMBENCH_BLAS=off" };
  }
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      return { why: "needs --allow-ffi" };
    }
  } catch {
    return { why: "FFI permission could not be queried" };
  }
  const tried: string[] = [];
  for (const path of wanted ? [wanted] : candidates()) {
    try {
      return { lapack: makeLapack(path, Deno.dlopen(path, SYMBOLS).symbols) };
    } catch (e) {
      tried.push(`${path} (${(e as Error).message.split("\n")[0].slice(0, 80)})`);
    }
  }
  return { why: `no LAPACK with dpstrf, dsyevd and CBLAS found: tried ${tried.join("; ")}` };
}

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

function makeLapack(path: string, f: Symbols): Lapack {
  return {
    path,
    pivotedCholesky(s, d, tol) {
      // Symmetric, so the row-major matrix is its own column-major form; after dpstrf with
      // uplo "L", column-major a[i + k d] (i >= k) is L[i][k].
      const a = Float64Array.from(s);
      const piv = new Int32Array(d), rank = int(0), info = int(0);
      let maxDiag = 0;
      for (let i = 0; i < d; i++) maxDiag = Math.max(maxDiag, s[i * d + i]);
      const threshold = tol ?? d * Number.EPSILON * maxDiag;
      if (d === 0 || !(maxDiag > threshold)) {
        return {
          l: new Float64Array(0),
          perm: Int32Array.from(piv, (_, i) => i),
          rank: 0,
          tol: threshold,
        };
      }
      const work = new Float64Array(2 * d);
      f.dpstrf_(
        char("L"),
        int(d),
        a,
        int(d),
        piv,
        rank,
        new Float64Array([threshold]),
        work,
        info,
        1n,
      );
      if (info[0] < 0) throw new Error(`dpstrf: argument ${-info[0]} was illegal`);
      const r = rank[0];
      const l = new Float64Array(d * r);
      for (let k = 0; k < r; k++) {
        for (let i = k; i < d; i++) l[i * r + k] = a[i + k * d];
      }
      return { l, perm: Int32Array.from(piv, (p) => p - 1), rank: r, tol: threshold };
    },
    congruenceLower(s, l, d, r) {
      if (r === d) {
        // L square lower-triangular: T = S L, then M = L^T T, two triangular products (2 d^3).
        const t = Float64Array.from(s);
        f.cblas_dtrmm(ROW_MAJOR, RIGHT, LOWER, NO_TRANS, NON_UNIT, d, d, 1, l, d, t, d);
        f.cblas_dtrmm(ROW_MAJOR, LEFT, LOWER, TRANS, NON_UNIT, d, d, 1, l, d, t, d);
        return t;
      }
      const w = new Float64Array(d * r), m = new Float64Array(r * r);
      f.cblas_dgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, d, r, d, 1, s, d, l, r, 0, w, r);
      f.cblas_dgemm(ROW_MAJOR, TRANS, NO_TRANS, r, r, d, 1, l, r, w, r, 0, m, r);
      return m;
    },
    symmetricEigenvalues(a, n) {
      const w = new Float64Array(n);
      if (n === 0) return w;
      const copy = Float64Array.from(a);
      const info = int(0), query = new Float64Array(1), iquery = int(0);
      const call = (work: Float64Array, lwork: number, iwork: Int32Array, liwork: number) =>
        f.dsyevd_(
          char("N"),
          char("L"),
          int(n),
          copy,
          int(n),
          w,
          work,
          int(lwork),
          iwork,
          int(liwork),
          info,
          1n,
          1n,
        );
      call(query, -1, iquery, -1);
      const lwork = Math.max(2 * n + 1, Math.ceil(query[0]));
      const liwork = Math.max(1, iquery[0]);
      call(new Float64Array(lwork), lwork, new Int32Array(liwork), liwork);
      if (info[0] !== 0) throw new Error(`dsyevd: info ${info[0]} (n = ${n})`);
      return w;
    },
  };
}
