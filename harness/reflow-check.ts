// What cached reflow pairs must hold before a student trains on them: provenance of the right
// types (compared with what would be generated now), exactly 2 n prod(shape) finite float32
// values, and for a saved chunk of an interrupted generation two finite vectors and a count.
import type { SafetensorsFile } from "../store/safetensors.ts";
import {
  arr,
  checkFile,
  num,
  obj,
  optional,
  parseJson,
  record,
  str,
  ValidationError,
} from "../store/validate.ts";
import type { SolverSetting } from "./suites/types.ts";

export interface ReflowProvenance {
  teacher: string;
  dataset: string;
  model: string;
  solver: string;
  setting: SolverSetting;
  seed: number;
  n: number;
  nfe: number;
  shape: number[];
  teacherConfigHash: string;
  file: string;
  /**
   * What generating the pairs cost: CPU seconds of the generating thread and wall-clock seconds,
   * summed over chunks (also chunks an interrupted session made); absent where unknown.
   */
  cpuSeconds?: number;
  seconds?: number;
}

export interface ReflowPairs {
  x0: Float32Array;
  x1: Float32Array;
  provenance: ReflowProvenance;
}

/** One chunk of generated pairs. */
export interface PairChunk {
  x0: Float32Array;
  x1: Float32Array;
  nfe: number;
  /** CPU seconds of the generating thread and wall-clock seconds the chunk took. */
  cpuSeconds?: number;
  seconds?: number;
}

const PROVENANCE = obj({
  teacher: str({ max: 1000 }),
  dataset: str({ max: 1000 }),
  model: str({ max: 1000 }),
  solver: str({ max: 1000 }),
  // Compared with the expected setting as a whole below; here only its kind of values.
  setting: record((v, at) => typeof v === "string" ? str({ max: 100 })(v, at) : num()(v, at), {
    max: 100,
  }),
  seed: num({ int: true }),
  n: num({ int: true, min: 1 }),
  nfe: num({ int: true, min: 0 }),
  shape: arr(num({ int: true, min: 1 }), { min: 1, max: 8 }),
  teacherConfigHash: str({ max: 1000 }),
  file: str({ max: 10_000 }),
  cpuSeconds: optional(num({ min: 0 })),
  seconds: optional(num({ min: 0 })),
});

/**
 * Check cached pairs: the provenance's schema, then (when it matches `expect`; else null, a stale
 * cache) a .f32 of exactly 2 n prod(shape) finite values. Throws a FileCheckError naming the
 * file that fails.
 * @example
 * const pairs = checkPairs({ json, f32, file: "runs/x/reflow/r", expect }); // or null
 */
export function checkPairs(
  o: {
    json: string;
    f32: Uint8Array;
    file: string;
    expect: Omit<ReflowProvenance, "nfe" | "file">;
  },
): ReflowPairs | null {
  const provenance = checkFile(
    `${o.file}.json`,
    () => parseJson(o.json, PROVENANCE, "provenance") as unknown as ReflowProvenance,
  );
  const same = (Object.keys(o.expect) as (keyof typeof o.expect)[])
    .every((k) => JSON.stringify(provenance[k]) === JSON.stringify(o.expect[k]));
  if (!same) return null;
  return checkFile(`${o.file}.f32`, () => {
    const count = 2 * provenance.n * provenance.shape.reduce((a, b) => a * b, 1);
    if (o.f32.byteLength !== 4 * count) {
      throw new ValidationError(
        "pairs",
        `hold ${o.f32.byteLength} bytes, expected ${4 * count} (2 x ${provenance.n} pairs of ` +
          `[${provenance.shape}] float32)`,
      );
    }
    const all = new Float32Array(
      o.f32.buffer.slice(o.f32.byteOffset, o.f32.byteOffset + 4 * count),
    );
    for (let i = 0; i < all.length; i++) {
      if (!Number.isFinite(all[i])) {
        throw new ValidationError("pairs", `hold ${all[i]} at value ${i}`);
      }
    }
    const half = all.length / 2;
    return { x0: all.subarray(0, half), x1: all.subarray(half), provenance };
  });
}

/**
 * Check one saved chunk of pairs (x0, x1 finite F32 vectors, nfe a count); a FileCheckError
 * names the file otherwise.
 * @example
 * const chunk = checkPairChunk(new SafetensorsFile(bytes, "runs/x/reflow/r.parts/h-0.safetensors"));
 */
export function checkPairChunk(f: SafetensorsFile): PairChunk {
  return checkFile(f.source, () => {
    const vec = (name: string) => {
      const e = f.entry(name);
      if (!e || e.dtype !== "F32" || e.shape.length !== 1) {
        throw new ValidationError(
          `tensor ${JSON.stringify(name)}`,
          "is missing or not an F32 vector",
        );
      }
      const v = f.float32(name);
      for (let i = 0; i < v.length; i++) {
        if (!Number.isFinite(v[i])) {
          throw new ValidationError(
            `tensor ${JSON.stringify(name)}`,
            `holds ${v[i]} at element ${i}`,
          );
        }
      }
      return v;
    };
    const nfe = num({ int: true, min: 0 })(
      f.metadata.nfe === undefined ? undefined : Number(f.metadata.nfe),
      "__metadata__.nfe",
    );
    // What the chunk cost (absent in chunks of older sessions).
    const cost = (k: "cpuSeconds" | "seconds") =>
      f.metadata[k] === undefined
        ? {}
        : { [k]: num({ min: 0 })(Number(f.metadata[k]), `__metadata__.${k}`) };
    return { x0: vec("x0"), x1: vec("x1"), nfe, ...cost("cpuSeconds"), ...cost("seconds") };
  });
}
