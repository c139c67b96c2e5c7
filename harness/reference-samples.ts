// The sampling-error reference of a run (its tight adaptive solve), kept on disk until the run's
// record is complete, so a resumed evaluation compares against it without solving it again.
import { type Tensor, tf } from "../core/mod.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { encodeSafetensors, type SafetensorsFile } from "../store/safetensors.ts";
import { readChecked } from "../store/read-checked.ts";
import { checkFile, literal, ValidationError } from "../store/validate.ts";

/**
 * Format tag of a reference-samples file.
 * @example
 * encodeSafetensors({ x }, { format: REFERENCE_SAMPLES_FORMAT, key });
 */
export const REFERENCE_SAMPLES_FORMAT = "fmbench/reference-samples@1";
const FORMAT = REFERENCE_SAMPLES_FORMAT;

/** Where evaluateSampling keeps and finds its reference samples. */
export interface ReferenceStore {
  /** The saved samples if the file exists, its key matches and its shape is `shape`; else null. */
  load(shape: number[]): Promise<Tensor | null>;
  /** Save the samples durably (atomic write). */
  save(x: Tensor): Promise<void>;
}

/**
 * Check a reference-samples file: its format, then (for this `key`; another key is stale: null)
 * one F32 tensor "x" of `shape`. Values are not required finite: a reference solve that diverged
 * is a result the sampling-error figures report as such. Throws a FileCheckError otherwise.
 * @example
 * const x = checkReferenceSamples(file, "hash|dopri5", [500, 2]); // Float32Array or null
 */
export function checkReferenceSamples(
  f: SafetensorsFile,
  key: string,
  shape: number[],
): Float32Array | null {
  return checkFile(f.source, () => {
    literal(FORMAT)(f.metadata.format, "__metadata__.format");
    if (f.metadata.key !== key) return null;
    const e = f.entry("x");
    const want = JSON.stringify(shape);
    if (!e || e.dtype !== "F32" || JSON.stringify(e.shape) !== want) {
      throw new ValidationError(
        `tensor "x"`,
        e ? `is ${e.dtype} [${e.shape}], expected F32 ${want}` : "is missing",
      );
    }
    return f.float32("x");
  });
}

/**
 * A reference store in one safetensors file; `key` identifies what the samples belong to (the
 * run's config hash and the reference setting), so a stale file is never used; a file that fails
 * its check is moved aside (told to `log`) and the reference solved again.
 * @example
 * const store = referenceStore("runs/x/weights/moons__1-rf__mlp-default.reference.safetensors", hash);
 */
export function referenceStore(
  file: string,
  key: string,
  log?: (line: string) => void,
): ReferenceStore {
  return {
    async load(shape) {
      const x = await readChecked({
        file,
        check: (f) => checkReferenceSamples(f, key, shape),
        then: "the reference is solved again",
        log,
      });
      return x && tf.tensor(x, shape);
    },
    async save(x) {
      const data = (await x.data()) as Float32Array;
      const bytes = encodeSafetensors({ x: { shape: x.shape, data } }, { format: FORMAT, key });
      await writeFileAtomic(file, bytes, { tracePhase: "write-reference" });
    },
  };
}
