// The jobs helper threads run: each names a function of backend/conv-grid-taps.ts (or one sgemm)
// with its arrays and numbers, written into shared memory as raw pointers and read back as views.
import type { Blas } from "./native-blas.ts";
import {
  filterGradTaps,
  forwardShare,
  inputGradShare,
  type TapGrid,
  toGridImages,
} from "./conv-grid-taps.ts";

/** An array a job reads or writes: float32 or float64, in any memory that does not move. */
export type JobArray = Float32Array | Float64Array;

/** What a job runs with on its thread: that thread's BLAS, for jobs that multiply matrices. */
export interface JobEnv {
  blas?: Pick<Blas, "sgemm">;
}

const RUNNERS = {
  /** filterGradTaps: [xp, dz, dw], [ci, co, kh, kw, wp, rows, t0, t1]. */
  filterGradTaps(a: JobArray[], v: number[], env: JobEnv) {
    if (!env.blas) throw new Error("filterGradTaps needs a BLAS on this thread");
    const [xp, dz, dw] = a as Float32Array[];
    const [ci, co, kh, kw, wp, rows, t0, t1] = v;
    const g: TapGrid = { ci, co, kh, kw, wp, rows };
    filterGradTaps(env.blas, g, { xp, dz, dw }, [t0, t1]);
  },
  /** toGridImages: [x, grid], [c, hp, wp, top, left, h, w, b0, b1]. */
  toGridImages(a: JobArray[], v: number[]) {
    const [x, grid] = a as Float32Array[];
    const [c, hp, wp, top, left, h, w, b0, b1] = v;
    toGridImages(x, grid, { c, hp, wp, top, left, h, w }, [b0, b1]);
  },
  /**
   * forwardShare: [xp, filter, z, y(, bias)], [ci, co, kh, kw, wp, rows, r0, r1, block, hp, ho,
   * wo].
   */
  forwardShare(a: JobArray[], v: number[], env: JobEnv) {
    if (!env.blas) throw new Error("forwardShare needs a BLAS on this thread");
    const [xp, filter, z, y, bias] = a as Float32Array[];
    const [ci, co, kh, kw, wp, rows, r0, r1, block, hp, ho, wo] = v;
    const g = { ci, co, kh, kw, wp, rows };
    forwardShare(env.blas, g, { xp, filter, z, y, bias }, { hp, ho, wo }, [r0, r1], block);
  },
  /**
   * inputGradShare: [dz, filter, dxp, dx], [ci, co, kh, kw, wp, rows, q0, q1, block, hp, top,
   * left, h, w].
   */
  inputGradShare(a: JobArray[], v: number[], env: JobEnv) {
    if (!env.blas) throw new Error("inputGradShare needs a BLAS on this thread");
    const [dz, filter, dxp, dx] = a as Float32Array[];
    const [ci, co, kh, kw, wp, rows, q0, q1, block, hp, top, left, h, w] = v;
    const g = { ci, co, kh, kw, wp, rows };
    const place = { c: ci, hp, wp, top, left, h, w };
    inputGradShare(env.blas, g, { dz, filter, dxp, dx }, place, [q0, q1], block);
  },
  /**
   * count products C_i = op(A_i) op(B_i), A_i at i sa floats (sa 0: one A for all), B_i at i sb,
   * C_i at i m n: [a, b, c], [transA, transB, m, n, k, lda, ldb, count, sa, sb].
   */
  sgemmBatch(a: JobArray[], v: number[], env: JobEnv) {
    if (!env.blas) throw new Error("sgemmBatch needs a BLAS on this thread");
    const [A, B, C] = a as Float32Array[];
    const [ta, tb, m, n, k, lda, ldb, count, sa, sb] = v;
    for (let i = 0; i < count; i++) {
      env.blas.sgemm(
        !!ta,
        !!tb,
        m,
        n,
        k,
        1,
        A.subarray(i * sa),
        lda,
        B.subarray(i * sb),
        ldb,
        0,
        C.subarray(i * m * n),
        n,
      );
    }
  },
  /** One sgemm: [a, b, c], [transA, transB, m, n, k, alpha, lda, ldb, beta, ldc]. */
  sgemm(a: JobArray[], v: number[], env: JobEnv) {
    if (!env.blas) throw new Error("sgemm needs a BLAS on this thread");
    const [A, B, C] = a as Float32Array[];
    env.blas.sgemm(!!v[0], !!v[1], v[2], v[3], v[4], v[5], A, v[6], B, v[7], v[8], C, v[9]);
  },
} satisfies Record<string, (a: JobArray[], v: number[], env: JobEnv) => void>;

/**
 * The kinds of job.
 * @example
 * const kind: JobKind = "sgemm";
 */
export type JobKind = keyof typeof RUNNERS;

const KINDS = Object.keys(RUNNERS) as JobKind[];

/**
 * One share of a kernel's work: a kind, its arrays and its numbers (see RUNNERS for each kind's).
 * @example
 * const job: Job = { kind: "sgemm", arrays: [a, b, c], nums: [0, 0, m, n, k, 1, k, n, 0, n] };
 */
export interface Job {
  kind: JobKind;
  arrays: JobArray[];
  nums: number[];
}

/**
 * The smallest buffer a job's array may live in: V8 keeps the data of small typed arrays (up to
 * 64 bytes, v8_typed_array_max_size_in_heap) in its moving heap; larger buffers are allocated
 * outside it, at a fixed address.
 */
export const MIN_BUFFER_BYTES = 128;

/** Float64 slots of one job's descriptor: kind, counts, 3 per array, then the numbers. */
export const JOB_SLOTS = 40;

/**
 * Run a job on this thread.
 * @example
 * runJob({ kind: "sgemm", arrays: [a, b, c], nums: [0, 0, m, n, k, 1, k, n, 0, n] }, { blas });
 */
export function runJob(job: Job, env: JobEnv): void {
  RUNNERS[job.kind](job.arrays, job.nums, env);
}

/**
 * Write a job's descriptor at slots[at...]: its kind, each array as (address, length, float64?)
 * and its numbers. The arrays' memory must stay where it is until the job has run.
 * @example
 * encodeJob(job, slots, 0);
 */
export function encodeJob(job: Job, slots: Float64Array, at: number): void {
  const need = 3 + 3 * job.arrays.length + job.nums.length;
  if (need > JOB_SLOTS) throw new Error(`helper job ${job.kind}: ${need} slots > ${JOB_SLOTS}`);
  slots[at] = KINDS.indexOf(job.kind);
  slots[at + 1] = job.arrays.length;
  slots[at + 2] = job.nums.length;
  let o = at + 3;
  for (const a of job.arrays) {
    if (a.length > 0 && a.buffer.byteLength < MIN_BUFFER_BYTES) {
      // V8 keeps typed arrays of up to 64 bytes inside its heap, where the garbage collector
      // moves them: a helper could read freed memory through the address.
      throw new Error(
        `helper job ${job.kind}: an array in a ${a.buffer.byteLength}-byte buffer may move ` +
          `(jobs need buffers of at least ${MIN_BUFFER_BYTES} bytes)`,
      );
    }
    slots[o++] = a.length === 0 ? 0 : Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(a)));
    slots[o++] = a.length;
    slots[o++] = a instanceof Float64Array ? 1 : 0;
  }
  for (const v of job.nums) slots[o++] = v;
}

const buffers = new Map<string, ArrayBuffer>();
function foreignBuffer(address: number, bytes: number): ArrayBuffer {
  const key = `${address}:${bytes}`;
  let b = buffers.get(key);
  if (!b) {
    if (buffers.size > 4096) buffers.clear();
    b = Deno.UnsafePointerView.getArrayBuffer(Deno.UnsafePointer.create(BigInt(address))!, bytes);
    buffers.set(key, b);
  }
  return b;
}

/**
 * Read the job at slots[at...] that encodeJob wrote, with views onto its arrays' memory.
 * @example
 * runJob(decodeJob(slots, 0), env);
 */
export function decodeJob(slots: Float64Array, at: number): Job {
  const kind = KINDS[slots[at]];
  if (!kind) throw new Error(`helper job: unknown kind ${slots[at]}`);
  const nArrays = slots[at + 1], nNums = slots[at + 2];
  const arrays: JobArray[] = [];
  let o = at + 3;
  for (let i = 0; i < nArrays; i++, o += 3) {
    const [address, length, f64] = [slots[o], slots[o + 1], slots[o + 2]];
    const bytes = length * (f64 ? 8 : 4);
    const buffer = length === 0 ? new ArrayBuffer(0) : foreignBuffer(address, bytes);
    arrays.push(f64 ? new Float64Array(buffer) : new Float32Array(buffer));
  }
  return { kind, arrays, nums: Array.from(slots.subarray(o, o + nNums)) };
}
