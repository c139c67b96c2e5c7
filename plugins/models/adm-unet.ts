// ADM U-Net model plugin: guided-diffusion's UNetModel exactly as TorchCFM's UNetModelWrapper
// builds it (the network TorchCFM and Lipman et al. train on CIFAR-10), loadable from their
// PyTorch state dicts.
import {
  defineModel,
  type Model,
  type ModelSpec,
  type StateDictTensor,
  subSeed,
  type Tensor,
  type Tensor1D,
  tf,
} from "../../core/mod.ts";
import { ADM_PRESETS, type AdmConfig, resolveAdmConfig } from "./_adm/config.ts";
import { admForward, buildAdmNet } from "./_adm/network.ts";
import { AdmParams } from "./_adm/params.ts";
import { loadAdmStateDict } from "./_adm/state-dict.ts";

/** An ADM U-Net: a Model that also names its variables (TorchCFM's state-dict keys). */
export interface AdmUNet extends Model {
  /** State-dict name of each variable, in variables() order. */
  names(): string[];
  loadStateDict(tensors: Map<string, StateDictTensor>): void;
}

/**
 * Build an ADM U-Net for data of shape [H, W, C] from a preset name (or a full config, for
 * variants such as use_scale_shift_norm) and a seed, initialised as PyTorch initialises
 * TorchCFM's model. `apply(x, t, training)` maps x [B, H, W, C] and t [B] in [0, 1] to a
 * velocity of x's shape; dropout is active only when `training` is set.
 * @example
 * const m = createAdmUNet({ preset: "tiny", shape: [8, 8, 3], seed: 0 });
 * m.paramCount(); // 702499, as PyTorch counts UNetModelWrapper(dim=(3, 8, 8), ...)
 * m.names()[0]; // "time_embed.0.weight"
 */
export function createAdmUNet(spec: ModelSpec & { config?: AdmConfig }): AdmUNet {
  const cfg = resolveAdmConfig(spec.config ?? spec.preset, spec.shape);
  const label = `adm-unet:${spec.config ? "custom" : spec.preset}`;
  const params = new AdmParams({ seed: subSeed(spec.seed, "adm-unet-init") });
  const net = buildAdmNet(params, cfg, spec.shape);
  const entries = params.entries;
  const variables = entries.map((e) => e.variable);
  const count = variables.reduce((a, v) => a + v.size, 0);
  let calls = 0;
  let disposed = false;
  return {
    apply(x: Tensor, t: Tensor1D, training = false): Tensor {
      if (disposed) throw new Error(`${label}: apply() after dispose()`);
      const [, h, w, c] = x.shape;
      if (x.rank !== 4 || h !== spec.shape[0] || w !== spec.shape[1] || c !== spec.shape[2]) {
        throw new Error(
          `${label}: input must be [B, ${spec.shape.join(", ")}], got [${x.shape.join(", ")}]`,
        );
      }
      if (t.rank !== 1 || t.shape[0] !== x.shape[0]) {
        throw new Error(
          `${label}: t must be [${x.shape[0]}] (one time per example), got [${t.shape}]`,
        );
      }
      const dropoutSeed = training && cfg.dropout > 0
        ? subSeed(spec.seed, `dropout:${calls++}`)
        : undefined;
      return tf.tidy(() => admForward(net, x, t, dropoutSeed));
    },
    variables: () => variables.slice(),
    names: () => entries.map((e) => e.name),
    paramCount: () => count,
    loadStateDict(tensors: Map<string, StateDictTensor>): void {
      if (disposed) throw new Error(`${label}: loadStateDict() after dispose()`);
      loadAdmStateDict({ entries, label, shape: spec.shape, tensors });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const v of variables) v.dispose();
    },
  };
}

export default defineModel({
  name: "adm-unet",
  description: "ADM U-Net (guided-diffusion UNetModel as TorchCFM's UNetModelWrapper builds it; " +
    "state-dict compatible): presets torchcfm (TorchCFM CIFAR-10, 35.7M), lipman (Lipman et al. " +
    "CIFAR-10, 142.9M), tiny (tests)",
  accepts: ["image"],
  presets: ADM_PRESETS as unknown as Record<string, Record<string, unknown>>,
  defaultPreset: "torchcfm",
  usesConvolution: true,
  onlyWhenNamed: true,
  create: createAdmUNet,
});
