// Diffusion U-Net model plugin (DDPM / Lipman et al. CIFAR-10 style) built from tf ops.
import {
  defineModel,
  type Model,
  type ModelSpec,
  subSeed,
  type Tensor,
  type Tensor1D,
  tf,
} from "../../core/mod.ts";
import { type AttnBlock, attnBlock, makeAttnBlock } from "./_unet/attention.ts";
import { resolveConfig, UNET_PRESETS, type UNetConfig } from "./_unet/config.ts";
import { groupNorm, type GroupNormParams, makeGroupNorm } from "./_unet/groupnorm.ts";
import {
  type Conv,
  conv,
  type Dense,
  dense,
  makeConv,
  makeDense,
  Params,
  silu,
} from "./_unet/params.ts";
import { makeResBlock, type ResBlock, resBlock } from "./_unet/resblock.ts";
import { timeEmbedding } from "./_unet/timeembed.ts";
import { upsample2x } from "./_unet/upsample.ts";

/** One step of the network: a residual block with optional attention, or a resampling conv. */
type Stage =
  | { kind: "res"; res: ResBlock; attn?: AttnBlock }
  | { kind: "down"; conv: Conv }
  | { kind: "up"; conv: Conv };

interface Net {
  temb1: Dense;
  temb2: Dense;
  convIn: Conv;
  down: Stage[];
  mid: [ResBlock, AttnBlock, ResBlock];
  up: Stage[];
  normOut: GroupNormParams;
  convOut: Conv;
}

function build(p: Params, cfg: UNetConfig, [height, , cData]: number[]): Net {
  const tembDim = cfg.ch * 4;
  const temb1 = makeDense(p, "temb.dense0", cfg.ch, tembDim);
  const temb2 = makeDense(p, "temb.dense1", tembDim, tembDim);
  const convIn = makeConv(p, "conv_in", 3, cData, cfg.ch);
  const down: Stage[] = [];
  const skips: number[] = [cfg.ch];
  let c = cfg.ch, res = height;
  cfg.mult.forEach((m, level) => {
    for (let i = 0; i < cfg.numRes; i++) {
      const name = `down.${level}.${i}`;
      const r = makeResBlock(p, name, c, cfg.ch * m, tembDim, cfg.groups);
      c = cfg.ch * m;
      const attn = cfg.attnRes.includes(res)
        ? makeAttnBlock(p, `${name}.attn`, c, cfg.groups, cfg.heads)
        : undefined;
      down.push({ kind: "res", res: r, attn });
      skips.push(c);
    }
    if (level < cfg.mult.length - 1) {
      down.push({ kind: "down", conv: makeConv(p, `down.${level}.downsample`, 3, c, c) });
      skips.push(c);
      res /= 2;
    }
  });
  const mid: Net["mid"] = [
    makeResBlock(p, "mid.0", c, c, tembDim, cfg.groups),
    makeAttnBlock(p, "mid.attn", c, cfg.groups, cfg.heads),
    makeResBlock(p, "mid.1", c, c, tembDim, cfg.groups),
  ];
  const up: Stage[] = [];
  for (let level = cfg.mult.length - 1; level >= 0; level--) {
    const cout = cfg.ch * cfg.mult[level];
    for (let i = 0; i <= cfg.numRes; i++) {
      const name = `up.${level}.${i}`;
      const r = makeResBlock(p, name, c + skips.pop()!, cout, tembDim, cfg.groups);
      c = cout;
      const attn = cfg.attnRes.includes(res)
        ? makeAttnBlock(p, `${name}.attn`, c, cfg.groups, cfg.heads)
        : undefined;
      up.push({ kind: "res", res: r, attn });
    }
    if (level > 0) {
      up.push({ kind: "up", conv: makeConv(p, `up.${level}.upsample`, 3, c, c) });
      res *= 2;
    }
  }
  const normOut = makeGroupNorm(p, "norm_out", c, cfg.groups);
  // Zero-initialised output: the untrained network predicts 0 everywhere.
  const convOut = makeConv(p, "conv_out", 3, c, cData, 0);
  return { temb1, temb2, convIn, down, mid, up, normOut, convOut };
}

function forward(
  net: Net,
  cfg: UNetConfig,
  x: Tensor,
  t: Tensor1D,
  dropSeed?: number,
): Tensor {
  let block = 0;
  const seed = () => (dropSeed === undefined ? undefined : subSeed(dropSeed, block++));
  const emb = timeEmbedding(t, cfg.ch, cfg.timeScale);
  const temb = dense(silu(dense(emb, net.temb1)), net.temb2);
  const runRes = (h: Tensor, s: Extract<Stage, { kind: "res" }>) => {
    const out = resBlock(h, temb, s.res, cfg.dropout, seed());
    return s.attn ? attnBlock(out, s.attn) : out;
  };
  let h = conv(x, net.convIn);
  const hs: Tensor[] = [h];
  for (const s of net.down) {
    h = s.kind === "res" ? runRes(h, s) : conv(h, (s as { conv: Conv }).conv, 2);
    hs.push(h);
  }
  h = resBlock(h, temb, net.mid[0], cfg.dropout, seed());
  h = attnBlock(h, net.mid[1]);
  h = resBlock(h, temb, net.mid[2], cfg.dropout, seed());
  for (const s of net.up) {
    if (s.kind === "res") {
      h = runRes(tf.concat([h, hs.pop()!], 3), s);
    } else {
      h = conv(upsample2x(h), (s as { conv: Conv }).conv);
    }
  }
  return conv(groupNorm(h, net.normOut, true), net.convOut);
}

/**
 * Build a U-Net for data of shape [H, W, C] from a preset name and a seed. `apply(x, t)` maps
 * x [B, H, W, C] and times t [B] to a velocity of x's shape.
 * @example
 * const m = createUNet({ preset: "tiny", shape: [16, 16, 3], seed: 0 });
 * m.paramCount(); // 167923
 * m.apply(tf.zeros([2, 16, 16, 3]), tf.tensor1d([0.1, 0.5])).shape; // [2, 16, 16, 3]
 */
export function createUNet(spec: ModelSpec): Model {
  const cfg = resolveConfig(spec.preset, spec.shape);
  const params = new Params(subSeed(spec.seed, "unet-init"));
  const net = build(params, cfg, spec.shape);
  const variables = params.variables;
  const count = variables.reduce((a, v) => a + v.size, 0);
  let calls = 0;
  let disposed = false;
  return {
    apply(x: Tensor, t: Tensor1D, training = false): Tensor {
      if (disposed) throw new Error("unet: apply() after dispose()");
      const [, h, w, c] = x.shape;
      if (x.rank !== 4 || h !== spec.shape[0] || w !== spec.shape[1] || c !== spec.shape[2]) {
        throw new Error(
          `unet: input must be [B, ${spec.shape.join(", ")}], got [${x.shape.join(", ")}]`,
        );
      }
      if (t.rank !== 1 || t.shape[0] !== x.shape[0]) {
        throw new Error(`unet: t must be [${x.shape[0]}] (one time per example), got [${t.shape}]`);
      }
      const dropSeed = training && cfg.dropout > 0
        ? subSeed(spec.seed, `dropout:${calls++}`)
        : undefined;
      return tf.tidy(() => forward(net, cfg, x, t, dropSeed));
    },
    variables: () => variables.slice(),
    paramCount: () => count,
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const v of variables) v.dispose();
    },
  };
}

export default defineModel({
  name: "unet",
  description: "Diffusion U-Net (DDPM / Lipman et al. CIFAR-10): GroupNorm residual blocks with " +
    "time embedding, self-attention at 16x16, skip connections (presets tiny, small, paper)",
  accepts: ["image"],
  presets: UNET_PRESETS as unknown as Record<string, Record<string, unknown>>,
  defaultPreset: "small",
  usesConvolution: true,
  create: createUNet,
});
