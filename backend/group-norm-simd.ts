// GroupNorm(+SiLU) forward and gradient on tfjs-wasm's heap by WebAssembly SIMD passes
// (backend/group-norm-wat.ts), with the per-group arithmetic of backend/group-norm-math.ts: the
// same bits as the JS loops, about 4x faster.
import wabtInit from "wabt";
import { GROUP_NORM_WAT } from "./group-norm-wat.ts";
import {
  affineCoefs,
  gradCoefs,
  type GroupNormDims,
  statsFromSums,
  sumExamples,
} from "./group-norm-math.ts";

/** The SIMD passes, bound to one wasm memory (every pointer is a byte offset in it). */
interface Passes {
  sums(x: number, out: number, b: number, n: number, c: number): void;
  affine(x: number, coef: number, z: number, b: number, n: number, c: number): void;
  gradSums(x: number, dy: number, out: number, b: number, n: number, c: number): void;
  siluGradSums(
    x: number,
    dy: number,
    z: number,
    s: number,
    out: number,
    b: number,
    n: number,
    c: number,
  ): void;
  gradApply(
    src: number,
    x: number,
    coef: number,
    dx: number,
    b: number,
    n: number,
    c: number,
  ): void;
  mul(a: number, b: number, out: number, len: number): void;
}

let compiled: Promise<WebAssembly.Module> | undefined;

/**
 * Compile the SIMD module once (wabt, ~50 ms); rejects where WebAssembly SIMD is missing.
 * @example
 * const module = await compileGroupNormSimd();
 */
export function compileGroupNormSimd(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    const wabt = await wabtInit();
    const parsed = wabt.parseWat("group-norm.wat", GROUP_NORM_WAT, { simd: true });
    try {
      return await WebAssembly.compile(new Uint8Array(parsed.toBinary({}).buffer));
    } finally {
      parsed.destroy();
    }
  })();
  return compiled;
}

/**
 * GroupNorm on one wasm memory through the SIMD passes. Offsets are bytes into the memory;
 * `scratch` is 8-byte aligned room for 3 b c float64 values; c must be a multiple of 4.
 * @example
 * const gn = groupNormSimd(await compileGroupNormSimd(), memory);
 * gn.forward({ x, gamma, beta, y, stats, scratch }, d, 1e-6);
 */
export function groupNormSimd(module: WebAssembly.Module, memory: WebAssembly.Memory) {
  const passes = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Passes;
  const f32 = (offset: number, length: number) => new Float32Array(memory.buffer, offset, length);
  const f64 = (offset: number, length: number) => new Float64Array(memory.buffer, offset, length);
  return {
    /**
     * z = (x - mean) rstd gamma + beta into y and (mean, rstd) into stats; with `silu`, y =
     * silu(z) given s = sigmoid(z) later by `siluFromSigmoid`.
     */
    forward(
      at: { x: number; gamma: number; beta: number; y: number; stats: number; scratch: number },
      d: GroupNormDims,
      eps: number,
    ): void {
      const { b, n, c, groups } = d, bc = b * c;
      passes.sums(at.x, at.scratch, b, n, c);
      const s1 = f64(at.scratch, bc), s2 = f64(at.scratch + 8 * bc, bc);
      const x = f32(at.x, b * n * c), stats = f32(at.stats, b * groups * 2);
      const x0 = new Float64Array(c);
      for (let e = 0; e < b; e++) {
        for (let k = 0; k < c; k++) x0[k] = x[e * n * c + k];
        statsFromSums(
          { s1: s1.subarray(e * c, (e + 1) * c), s2: s2.subarray(e * c, (e + 1) * c), x0 },
          d,
          eps,
          stats.subarray(e * groups * 2, (e + 1) * groups * 2),
        );
      }
      this.affine({
        x: at.x,
        gamma: at.gamma,
        beta: at.beta,
        stats: at.stats,
        z: at.y,
        scratch: at.scratch,
      }, d);
    },
    /** z = (x - mean) rstd gamma + beta from the stats (z may be x). */
    affine(
      at: { x: number; gamma: number; beta: number; stats: number; z: number; scratch: number },
      d: GroupNormDims,
    ): void {
      const { b, c, groups } = d, bc = b * c;
      const a = f64(at.scratch, bc), sh = f64(at.scratch + 8 * bc, bc);
      const stats = f32(at.stats, b * groups * 2), gamma = f32(at.gamma, c), beta = f32(at.beta, c);
      for (let e = 0; e < b; e++) {
        affineCoefs(stats.subarray(e * groups * 2, (e + 1) * groups * 2), gamma, beta, groups, {
          a: a.subarray(e * c, (e + 1) * c),
          sh: sh.subarray(e * c, (e + 1) * c),
        });
      }
      passes.affine(at.x, at.scratch, at.z, b, d.n, c);
    },
    /** y = x s elementwise (SiLU from the sigmoid), `len` floats; y may be x. */
    siluFromSigmoid(x: number, s: number, y: number, len: number): void {
      passes.mul(x, s, y, len);
    },
    /**
     * The gradient: dx, dgamma, dbeta from dy (at y), x and the stats; with `silu` = { z, s }
     * (z may be dx), dy is at silu(z) and dz = dy s (1 + z (1 - s)) is formed over z first.
     */
    backward(
      at: {
        dy: number;
        x: number;
        gamma: number;
        stats: number;
        dx: number;
        dgamma: number;
        dbeta: number;
        scratch: number;
        silu?: { z: number; s: number };
      },
      d: GroupNormDims,
    ): void {
      const { b, n, c, groups } = d, bc = b * c;
      if (at.silu) passes.siluGradSums(at.x, at.dy, at.silu.z, at.silu.s, at.scratch, b, n, c);
      else passes.gradSums(at.x, at.dy, at.scratch, b, n, c);
      const sumDz = f64(at.scratch, bc), sumDzX = f64(at.scratch + 8 * bc, bc);
      const stats = f32(at.stats, b * groups * 2), gamma = f32(at.gamma, c);
      const perExample = { dg: new Float64Array(bc), db: new Float64Array(bc) };
      // The coefficients overwrite the sums example by example (each example's sums are read
      // into its coefficients first: copies of one example's sums).
      const k = [0, 1, 2].map((i) => f64(at.scratch + 8 * bc * i, bc));
      const one = { sumDz: new Float64Array(c), sumDzX: new Float64Array(c) };
      for (let e = 0; e < b; e++) {
        const slice = (a: Float64Array) => a.subarray(e * c, (e + 1) * c);
        one.sumDz.set(slice(sumDz));
        one.sumDzX.set(slice(sumDzX));
        gradCoefs({
          sums: one,
          stats: stats.subarray(e * groups * 2, (e + 1) * groups * 2),
          gamma,
          d,
          shares: { dg: slice(perExample.dg), db: slice(perExample.db) },
          coefs: { k1: slice(k[0]), k2: slice(k[1]), k3: slice(k[2]) },
        });
      }
      sumExamples(perExample, d, f32(at.dgamma, c), f32(at.dbeta, c));
      passes.gradApply(at.silu ? at.silu.z : at.dy, at.x, at.scratch, at.dx, b, n, c);
    },
  };
}

/**
 * The SIMD GroupNorm of one memory.
 * @example
 * let gn: GroupNormSimd | undefined;
 */
export type GroupNormSimd = ReturnType<typeof groupNormSimd>;
