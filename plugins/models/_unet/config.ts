// U-Net hyper-parameters: the presets and the check of a preset against an input shape.

/** Architecture of a U-Net. */
export interface UNetConfig {
  /** Base channel count; level i has ch * mult[i] channels. */
  ch: number;
  mult: number[];
  /** Residual blocks per level on the way down (the way up has one more). */
  numRes: number;
  /** Spatial sizes (height) at which blocks are followed by self-attention. */
  attnRes: number[];
  dropout: number;
  /** GroupNorm groups (must divide every channel count). */
  groups: number;
  heads: number;
  /** Times t in [0, 1] are multiplied by this before the sinusoidal embedding. */
  timeScale: number;
}

/**
 * Presets: tiny for tests; small = the paper topology at a quarter of the width (~1/16 of its
 * FLOPs, for CPU runs); paper = DDPM's CIFAR-10 network (Ho et al. 2020; 35.7M parameters).
 * @example
 * UNET_PRESETS.small.mult; // [1, 2, 2, 2]
 */
export const UNET_PRESETS: Record<string, UNetConfig> = {
  tiny: {
    ch: 16,
    mult: [1, 2],
    numRes: 1,
    attnRes: [16],
    dropout: 0,
    groups: 8,
    heads: 1,
    timeScale: 1000,
  },
  small: {
    ch: 32,
    mult: [1, 2, 2, 2],
    numRes: 2,
    attnRes: [16],
    dropout: 0.1,
    groups: 8,
    heads: 1,
    timeScale: 1000,
  },
  paper: {
    ch: 128,
    mult: [1, 2, 2, 2],
    numRes: 2,
    attnRes: [16],
    dropout: 0.1,
    groups: 32,
    heads: 1,
    timeScale: 1000,
  },
};

/**
 * Validate a preset name and an input shape [H, W, C]; returns the config. Throws on an unknown
 * preset, a shape that is not [H, W, C], or H, W not divisible by 2^(levels - 1).
 * @example
 * resolveConfig("tiny", [32, 32, 3]).ch; // 16
 * resolveConfig("small", [28, 28, 1]); // throws: H and W must be multiples of 8
 */
export function resolveConfig(preset: string, shape: number[]): UNetConfig {
  const cfg = UNET_PRESETS[preset];
  if (!cfg) {
    throw new Error(
      `unet: unknown preset "${preset}"; valid: ${Object.keys(UNET_PRESETS).join(", ")}`,
    );
  }
  if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`unet: data shape must be [H, W, C] (an image), got [${shape.join(", ")}]`);
  }
  const f = 2 ** (cfg.mult.length - 1);
  if (shape[0] % f !== 0 || shape[1] % f !== 0) {
    throw new Error(
      `unet: preset "${preset}" downsamples ${cfg.mult.length - 1} times, so H and W must be ` +
        `multiples of ${f}; got ${shape[0]}x${shape[1]}`,
    );
  }
  return cfg;
}
