// Evaluating a released model: its PyTorch checkpoint's state dict loaded into the run's model
// (through the restricted unpickler: data and tensors only, nothing executed), in place of training.
import { createHash } from "node:crypto";
import { basename } from "node:path";
import type { Model } from "../core/types.ts";
import { readTorchCheckpoint, readTorchSaved } from "../store/torch-checkpoint.ts";
import { quote, safeMessage } from "../store/quote.ts";
import type { ReleasedCheckpoint } from "./suites/types.ts";

/** What a run records of the checkpoint it evaluated (results.json: provenance.checkpoint). */
export interface ReleasedRecord {
  /** The file's name (not its folder: results stay portable). */
  file: string;
  sha256: string;
  key: string;
  /** The training step the file says it was saved at, when it says. */
  step?: number;
}

/**
 * Refuse a state dict holding NaN or infinity (a damaged file, or one saved after training
 * diverged): one line naming the file, the key, the tensor and the element, before any weight is
 * set; such a model would otherwise be scored with NaN figures and no reason.
 */
function refuseNonFinite(
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
  src: ReleasedCheckpoint,
): void {
  for (const [name, t] of tensors) {
    const i = t.data.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) {
      throw new Error(
        `${src.file}: state dict ${quote(src.key)} tensor ${quote(name)} holds ${t.data[i]} at ` +
          `element ${i} of ${t.data.length}; the checkpoint is damaged or was saved after its ` +
          `training diverged`,
      );
    }
  }
}

/**
 * Load the state dict at `src.key` of a released checkpoint into `model` (which must implement
 * Model.loadStateDict, e.g. adm-unet or mlp); errors are one line naming the file (a missing key
 * lists the keys that exist; a mismatched tensor names the key, both shapes and, for adm-unet,
 * the preset that fits, for mlp the layer sizes; a NaN or infinity names the tensor and element).
 * @example
 * const rec = await loadReleased(model, { file: "/data/otcfm.pt", key: "ema_model", sha256 });
 * rec.step; // 400000
 */
export async function loadReleased(
  model: Model & { name?: string },
  src: ReleasedCheckpoint,
): Promise<ReleasedRecord> {
  if (!model.loadStateDict) {
    throw new Error(
      `--checkpoint: this model cannot load a PyTorch state dict; use a model that mirrors the ` +
        `network that was trained, e.g. --models adm-unet:torchcfm (TorchCFM's CIFAR-10 U-Net) ` +
        `or mlp (bench/toy_torch_train.py's ToyMLP)`,
    );
  }
  const bytes = await Deno.readFile(src.file);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== src.sha256) {
    throw new Error(
      `${src.file} changed since the run started (SHA-256 ${sha256.slice(0, 12)}…, expected ` +
        `${src.sha256.slice(0, 12)}…); run the command again`,
    );
  }
  const saved = readTorchSaved(bytes, src.file);
  const step = saved.value instanceof Map ? saved.value.get("step") : undefined;
  const ckpt = readTorchCheckpoint(bytes, src.file, { key: src.key });
  const tensors = ckpt.float32Tensors();
  refuseNonFinite(tensors, src);
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    // The model names the keys it missed or did not expect, which come from the file: escaped here.
    throw new Error(`${src.file}: ${safeMessage(e, 600)}`);
  }
  return {
    file: basename(src.file),
    sha256,
    key: src.key,
    ...(typeof step === "number" && Number.isInteger(step) && step >= 0 ? { step } : {}),
  };
}
