// Test helper: the ADM U-Net's seeded parity weights, drawn exactly as bench/adm_unet_torch.py's
// seeded_weights draws them into TorchCFM's model (core/rng's mulberry32, state_dict order).
import { rng } from "../../core/rng.ts";
import type { StateDictTensor } from "../../core/types.ts";
import type { AdmConfig } from "../../plugins/models/_adm/config.ts";
import { stateDictShapes } from "../../plugins/models/_adm/state-dict.ts";

/** GroupNorm modules of UNetModel: ResBlock in/out norms, attention norms, the output norm. */
const NORM = /(^|\.)(in_layers\.0|out_layers\.0|norm)$|^out\.0$/;

/**
 * A state dict (PyTorch names, shapes and layouts) of seeded values: GroupNorm scale
 * 1 + 0.6 (u - 0.5), shift 0.4 (u - 0.5); every other weight and bias (2u - 1) / sqrt(fan_in)
 * of its layer. Also the float64 sum of all values, to check against the recorder's.
 * @example
 * const { tensors, sum } = seededAdmWeights(ADM_PRESETS.tiny, [8, 8, 3], 21);
 */
export function seededAdmWeights(
  cfg: AdmConfig,
  shape: number[],
  seed: number,
): { tensors: Map<string, StateDictTensor>; sum: number } {
  const u = rng(seed);
  const entries = stateDictShapes(cfg, shape);
  const shapes = new Map(entries.map((e) => [e.name, e.shape]));
  const tensors = new Map<string, StateDictTensor>();
  let sum = 0;
  for (const e of entries) {
    const dot = e.name.lastIndexOf(".");
    const module = e.name.slice(0, dot), kind = e.name.slice(dot + 1);
    const n = e.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (NORM.test(module)) {
      for (let i = 0; i < n; i++) {
        data[i] = kind === "weight" ? 1 + 0.6 * (u() - 0.5) : 0.4 * (u() - 0.5);
      }
    } else {
      const w = shapes.get(`${module}.weight`)!;
      const bound = 1 / Math.sqrt(w.reduce((a, b) => a * b, 1) / w[0]);
      for (let i = 0; i < n; i++) data[i] = (2 * u() - 1) * bound;
    }
    for (const v of data) sum += v;
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { tensors, sum };
}
