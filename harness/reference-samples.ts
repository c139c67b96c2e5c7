// The sampling-error reference of a run (its tight adaptive solve), kept on disk until the run's
// record is complete, so a resumed evaluation compares against it without solving it again.
import { type Tensor, tf } from "../core/mod.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { encodeSafetensors, readSafetensors } from "../store/safetensors.ts";

const FORMAT = "fmbench/reference-samples@1";

/** Where evaluateSampling keeps and finds its reference samples. */
export interface ReferenceStore {
  /** The saved samples if the file exists, its key matches and its shape is `shape`; else null. */
  load(shape: number[]): Promise<Tensor | null>;
  /** Save the samples durably (atomic write). */
  save(x: Tensor): Promise<void>;
}

/**
 * A reference store in one safetensors file; `key` identifies what the samples belong to (the
 * run's config hash and the reference setting), so a stale file is never used.
 * @example
 * const store = referenceStore("runs/x/weights/moons__1-rf__mlp-default.reference.safetensors", hash);
 */
export function referenceStore(file: string, key: string): ReferenceStore {
  return {
    async load(shape) {
      let f;
      try {
        f = await readSafetensors(file);
      } catch {
        return null;
      }
      const e = f.entry("x");
      if (f.metadata.format !== FORMAT || f.metadata.key !== key) return null;
      if (!e || JSON.stringify(e.shape) !== JSON.stringify(shape)) return null;
      return tf.tensor(f.float32("x"), shape);
    },
    async save(x) {
      const data = (await x.data()) as Float32Array;
      const bytes = encodeSafetensors({ x: { shape: x.shape, data } }, { format: FORMAT, key });
      await writeFileAtomic(file, bytes, { tracePhase: "write-reference" });
    },
  };
}
