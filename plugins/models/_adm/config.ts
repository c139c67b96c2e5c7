// ADM U-Net hyper-parameters (TorchCFM's UNetModelWrapper arguments), the presets, and their check.

/** Architecture of an ADM U-Net, in the terms of TorchCFM's `UNetModelWrapper`. */
export interface AdmConfig {
  /** `num_channels`: base width; level i has trunc(channelMult[i] * numChannels) channels. */
  numChannels: number;
  /** `num_res_blocks`: residual blocks per level on the way down (the way up has one more). */
  numResBlocks: number;
  /** `channel_mult`. */
  channelMult: number[];
  /** `attention_resolutions`: image sizes at which attention follows each block (e.g. [16]). */
  attentionResolutions: number[];
  /** `num_heads` (used when numHeadChannels is -1). */
  numHeads: number;
  /** `num_head_channels`: channels per head, or -1 to use numHeads heads everywhere. */
  numHeadChannels: number;
  /** `num_heads_upsample`: heads on the way up when numHeadChannels is -1 (-1 = numHeads). */
  numHeadsUpsample: number;
  dropout: number;
  /** `use_scale_shift_norm`: FiLM-like time conditioning after the second GroupNorm. */
  useScaleShiftNorm: boolean;
  /** `resblock_updown`: residual blocks (not convolutions) resample between levels. */
  resblockUpdown: boolean;
  /** `use_new_attention_order`: split q, k, v before heads (QKVAttention) instead of after. */
  useNewAttentionOrder: boolean;
}

const TORCHCFM_DEFAULTS = {
  numHeadsUpsample: -1,
  useScaleShiftNorm: false,
  resblockUpdown: false,
  useNewAttentionOrder: false,
};

/**
 * Presets. `torchcfm`: TorchCFM's CIFAR-10 network (examples/images/cifar10/train_cifar10.py;
 * 35,746,307 parameters on 32x32x3). `lipman`: Lipman et al. 2023's CIFAR-10 table (256
 * channels, depth 2, [1, 2, 2, 2], attention at 16, 64 channels per head, dropout 0; the other
 * arguments as UNetModelWrapper's defaults; 142,861,315 parameters). `tiny`: the same topology at
 * the smallest widths that keep the time embedding effective (32 and 64 channels: at 32 channels
 * GroupNorm(32) normalises each channel alone and removes the per-channel time shift), two levels
 * of one block, for tests on 8x8 images (attention at 4, i.e. the second level, four heads of 16
 * channels; 702,499 parameters).
 * @example
 * ADM_PRESETS.torchcfm.channelMult; // [1, 2, 2, 2]
 */
export const ADM_PRESETS: Record<string, AdmConfig> = {
  tiny: {
    numChannels: 32,
    numResBlocks: 1,
    channelMult: [1, 2],
    attentionResolutions: [4],
    numHeads: 4,
    numHeadChannels: 16,
    dropout: 0.1,
    ...TORCHCFM_DEFAULTS,
  },
  torchcfm: {
    numChannels: 128,
    numResBlocks: 2,
    channelMult: [1, 2, 2, 2],
    attentionResolutions: [16],
    numHeads: 4,
    numHeadChannels: 64,
    dropout: 0.1,
    ...TORCHCFM_DEFAULTS,
  },
  lipman: {
    numChannels: 256,
    numResBlocks: 2,
    channelMult: [1, 2, 2, 2],
    attentionResolutions: [16],
    numHeads: 4,
    numHeadChannels: 64,
    dropout: 0,
    ...TORCHCFM_DEFAULTS,
  },
};

/**
 * GroupNorm groups of every normalisation layer (guided-diffusion's GroupNorm32).
 * @example
 * 128 % NORM_GROUPS; // 0: every level width must be a multiple of 32
 */
export const NORM_GROUPS = 32;

/**
 * Validate a preset name (or a config) against a data shape [H, W, C]; returns the config.
 * Throws on an unknown preset, a shape that is not an image, H or W not divisible by
 * 2^(levels - 1), or a width GroupNorm(32) cannot split.
 * @example
 * resolveAdmConfig("torchcfm", [32, 32, 3]).numChannels; // 128
 * resolveAdmConfig("torchcfm", [28, 28, 1]); // throws: H and W must be multiples of 8
 */
export function resolveAdmConfig(preset: string | AdmConfig, shape: number[]): AdmConfig {
  const cfg = typeof preset === "string" ? ADM_PRESETS[preset] : preset;
  const label = typeof preset === "string" ? `preset "${preset}"` : "config";
  if (!cfg) {
    throw new Error(
      `adm-unet: unknown preset "${preset}"; valid: ${Object.keys(ADM_PRESETS).join(", ")}`,
    );
  }
  if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`adm-unet: data shape must be [H, W, C] (an image), got [${shape.join(", ")}]`);
  }
  const f = 2 ** (cfg.channelMult.length - 1);
  if (shape[0] % f !== 0 || shape[1] % f !== 0) {
    throw new Error(
      `adm-unet: ${label} downsamples ${cfg.channelMult.length - 1} times, so H and W must be ` +
        `multiples of ${f}; got ${shape[0]}x${shape[1]}`,
    );
  }
  for (const m of cfg.channelMult) {
    const ch = Math.trunc(m * cfg.numChannels);
    if (ch <= 0 || ch % NORM_GROUPS !== 0) {
      throw new Error(
        `adm-unet: ${label}: level width ${ch} (${m} x ${cfg.numChannels}) is not a positive ` +
          `multiple of ${NORM_GROUPS}, which GroupNorm(${NORM_GROUPS}) needs`,
      );
    }
  }
  return cfg;
}

/**
 * The downsampling rates at which attention is used, as UNetModelWrapper derives them from the
 * resolutions: floor(imageSize / resolution), with imageSize the image width.
 * @example
 * attentionRates(ADM_PRESETS.torchcfm, [32, 32, 3]); // [2]
 */
export function attentionRates(cfg: AdmConfig, shape: number[]): number[] {
  return cfg.attentionResolutions.map((r) => Math.floor(shape[1] / r));
}

/**
 * Heads of an attention block over `channels` channels (num_head_channels wins over num_heads).
 * @example
 * attentionHeads(ADM_PRESETS.torchcfm, 256, false); // 4
 */
export function attentionHeads(cfg: AdmConfig, channels: number, upsample: boolean): number {
  if (cfg.numHeadChannels === -1) {
    const heads = upsample && cfg.numHeadsUpsample !== -1 ? cfg.numHeadsUpsample : cfg.numHeads;
    if (!Number.isInteger(heads) || heads < 1 || channels % heads !== 0) {
      throw new Error(`adm-unet: ${channels} attention channels do not split into ${heads} heads`);
    }
    return heads;
  }
  if (channels % cfg.numHeadChannels !== 0) {
    throw new Error(
      `adm-unet: ${channels} attention channels are not divisible by num_head_channels ` +
        `${cfg.numHeadChannels}`,
    );
  }
  return channels / cfg.numHeadChannels;
}
