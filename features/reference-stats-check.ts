// What a cached reference-statistics file must hold before FID and KID trust it: provenance of
// the right types, and finite tensors whose shapes agree (mu [d], sigma [d, d], the factor
// [d, rank] with a permutation of 0..d-1, KID features [kidFeatures, d]). Pure: bytes in.
import type { SafetensorsFile } from "../store/safetensors.ts";
import { checkFile, num, type Shape, str, ValidationError } from "../store/validate.ts";
import { quote } from "../store/quote.ts";
import type { PreparedGaussian } from "./frechet.ts";

/**
 * Largest feature dimension a cache may declare (Inception's pool3 has 2048; DINOv2 1024).
 * @example
 * MAX_FEATURE_DIM; // 65536
 */
export const MAX_FEATURE_DIM = 1 << 16;

/** The provenance fields, as the cache's string metadata holds them. */
const PROVENANCE = {
  format: str({ max: 200 }),
  pipeline: str({ max: 1000 }),
  dataset: str({ max: 1000 }),
  split: str({ max: 200 }),
  n: num({ int: true, min: 1 }),
  kidFeatures: num({ int: true, min: 0 }),
  weightsSha256: str({ max: 200 }),
  date: str({ max: 100 }),
};

/** A cache's provenance, checked. */
export type CheckedProvenance = Shape<typeof PROVENANCE>;

/** A checked cache: its provenance, and the statistics when its format is `format`. */
export interface CheckedReferenceStats {
  provenance: CheckedProvenance;
  /** Absent for a cache of another format (the caller recomputes). */
  stats?: PreparedGaussian;
  features?: Float32Array;
}

/** The finite tensor `name` of dtype `dtype`; its shape is returned for the caller to relate. */
function tensor(f: SafetensorsFile, name: string, dtype: string, rank: number): number[] {
  const e = f.entry(name);
  if (!e) throw new ValidationError(`tensor ${quote(name)}`, "is missing");
  if (e.dtype !== dtype || e.shape.length !== rank) {
    throw new ValidationError(
      `tensor ${quote(name)}`,
      `is ${e.dtype} [${e.shape}], expected ${dtype} of ${rank} dimension(s)`,
    );
  }
  return e.shape;
}

function finite(name: string, data: Float32Array | Float64Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new ValidationError(`tensor ${quote(name)}`, `holds ${data[i]} at element ${i}`);
    }
  }
}

/**
 * Check a reference-statistics cache: its provenance (numbers from their strings), and for the
 * current `format` every tensor's dtype, shape, finiteness and the factor's permutation. Throws a
 * FileCheckError naming the file and what is wrong.
 * @example
 * const c = checkReferenceStats(new SafetensorsFile(bytes, path), REFERENCE_FORMAT);
 */
export function checkReferenceStats(f: SafetensorsFile, format: string): CheckedReferenceStats {
  return checkFile(f.source, () => {
    const m = f.metadata;
    if (m.format !== format) {
      // Another layout: only its provenance is read (it will not match; the caller recomputes).
      const loose = { ...m, n: Number(m.n), kidFeatures: Number(m.kidFeatures) };
      return { provenance: loose as unknown as CheckedProvenance };
    }
    const provenance = {} as Record<string, unknown>;
    for (const [k, check] of Object.entries(PROVENANCE)) {
      const raw = m[k];
      const v = check === PROVENANCE.n || check === PROVENANCE.kidFeatures
        ? (raw === undefined || raw.trim() === "" ? raw : Number(raw))
        : raw;
      provenance[k] = check(v, `__metadata__.${k}`);
    }
    const p = provenance as CheckedProvenance;
    if (p.kidFeatures > p.n) {
      throw new ValidationError(
        "__metadata__.kidFeatures",
        `= ${p.kidFeatures}, more than n = ${p.n}`,
      );
    }
    const tol = num({ min: 0 })(
      m.factorTol === undefined ? undefined : Number(m.factorTol),
      "__metadata__.factorTol",
    );
    const [d] = tensor(f, "mu", "F64", 1);
    if (d < 1 || d > MAX_FEATURE_DIM) {
      throw new ValidationError(
        `tensor "mu"`,
        `has ${d} features, expected 1 to ${MAX_FEATURE_DIM}`,
      );
    }
    const [s0, s1] = tensor(f, "sigma", "F64", 2);
    const [l0, rank] = tensor(f, "factor_l", "F64", 2);
    const [p0] = tensor(f, "factor_perm", "F64", 1);
    const [k0, k1] = tensor(f, "kid_features", "F32", 2);
    if (
      s0 !== d || s1 !== d || l0 !== d || rank > d || p0 !== d || k1 !== d || k0 !== p.kidFeatures
    ) {
      throw new ValidationError(
        "tensors",
        `have inconsistent shapes (mu [${d}], sigma [${s0}, ${s1}], factor_l [${l0}, ${rank}], ` +
          `factor_perm [${p0}], kid_features [${k0}, ${k1}] with kidFeatures = ${p.kidFeatures})`,
      );
    }
    const mu = f.float64("mu"), sigma = f.float64("sigma"), l = f.float64("factor_l");
    const features = f.float32("kid_features");
    for (
      const [name, data] of [["mu", mu], ["sigma", sigma], ["factor_l", l], [
        "kid_features",
        features,
      ]] as const
    ) {
      finite(name, data);
    }
    const permF = f.float64("factor_perm");
    const seen = new Uint8Array(d);
    for (let i = 0; i < d; i++) {
      const j = permF[i];
      if (!Number.isInteger(j) || j < 0 || j >= d || seen[j]) {
        throw new ValidationError(
          `tensor "factor_perm"`,
          `is not a permutation of 0..${d - 1} (element ${i} = ${j})`,
        );
      }
      seen[j] = 1;
    }
    const perm = Int32Array.from(permF);
    return {
      provenance: p,
      stats: { dim: d, n: p.n, mu, sigma, factor: { l, perm, rank, tol } },
      features,
    };
  });
}
