// The ADM U-Net's structure (UNetModel's input, middle and output blocks, in TorchCFM's
// state-dict order) and its forward pass on NHWC tensors.
import { subSeed, type Tensor, tf } from "../../../core/mod.ts";
import { type AttnBlock, attnBlock, makeAttnBlock } from "./attention.ts";
import { type AdmConfig, attentionHeads, attentionRates } from "./config.ts";
import { type Affine, conv2d, groupNorm32, linear, type Norm, silu, upsample2x } from "./layers.ts";
import type { AdmParams } from "./params.ts";
import { makeResBlock, type ResBlock, resBlock } from "./resblock.ts";
import { timestepEmbedding } from "./timestep.ts";

/** One layer of a block (a TimestepEmbedSequential's child). */
export type Layer =
  | { kind: "conv"; conv: Affine }
  | { kind: "res"; res: ResBlock }
  | { kind: "attn"; attn: AttnBlock }
  | { kind: "down"; conv: Affine }
  | { kind: "up"; conv: Affine };

/** The whole network's parameters and wiring. */
export interface AdmNet {
  cfg: AdmConfig;
  timeEmbed: [Affine, Affine];
  inputBlocks: Layer[][];
  middleBlock: Layer[];
  outputBlocks: Layer[][];
  outNorm: Norm;
  outConv: Affine;
}

/**
 * Create every parameter of the network for data of shape [H, W, C], in the order of PyTorch's
 * state_dict for TorchCFM's UNetModelWrapper (time_embed, input_blocks, middle_block,
 * output_blocks, out).
 * @example
 * const net = buildAdmNet(new AdmParams({ seed: 0 }), ADM_PRESETS.tiny, [8, 8, 3]);
 * net.inputBlocks.length; // 4
 */
export function buildAdmNet(p: AdmParams, cfg: AdmConfig, shape: number[]): AdmNet {
  const [, , dataCh] = shape;
  const mc = cfg.numChannels;
  const embDim = mc * 4;
  const rates = attentionRates(cfg, shape);
  const timeEmbed: AdmNet["timeEmbed"] = [
    p.linear("time_embed.0", mc, embDim),
    p.linear("time_embed.2", embDim, embDim),
  ];
  const res = (name: string, cin: number, cout: number, resample?: "up" | "down"): Layer => ({
    kind: "res",
    res: makeResBlock(p, { name, cin, cout, embDim, scaleShift: cfg.useScaleShiftNorm, resample }),
  });
  const attn = (name: string, channels: number, upsample: boolean): Layer => ({
    kind: "attn",
    attn: makeAttnBlock(p, {
      name,
      channels,
      heads: attentionHeads(cfg, channels, upsample),
      newOrder: cfg.useNewAttentionOrder,
    }),
  });
  let ch = Math.trunc(cfg.channelMult[0] * mc);
  const inputCh = ch;
  const inputBlocks: Layer[][] = [[{
    kind: "conv",
    conv: p.conv2d("input_blocks.0.0", dataCh, ch, 3),
  }]];
  const skips = [ch];
  let ds = 1;
  cfg.channelMult.forEach((mult, level) => {
    for (let i = 0; i < cfg.numResBlocks; i++) {
      const name = `input_blocks.${inputBlocks.length}`;
      const cout = Math.trunc(mult * mc);
      const layers = [res(`${name}.0`, ch, cout)];
      ch = cout;
      if (rates.includes(ds)) layers.push(attn(`${name}.1`, ch, false));
      inputBlocks.push(layers);
      skips.push(ch);
    }
    if (level !== cfg.channelMult.length - 1) {
      const name = `input_blocks.${inputBlocks.length}.0`;
      inputBlocks.push([
        cfg.resblockUpdown
          ? res(name, ch, ch, "down")
          : { kind: "down", conv: p.conv2d(`${name}.op`, ch, ch, 3) },
      ]);
      skips.push(ch);
      ds *= 2;
    }
  });
  const middleBlock = [
    res("middle_block.0", ch, ch),
    attn("middle_block.1", ch, false),
    res("middle_block.2", ch, ch),
  ];
  const outputBlocks: Layer[][] = [];
  for (let level = cfg.channelMult.length - 1; level >= 0; level--) {
    for (let i = 0; i <= cfg.numResBlocks; i++) {
      const name = `output_blocks.${outputBlocks.length}`;
      const cout = Math.trunc(mc * cfg.channelMult[level]);
      const layers = [res(`${name}.0`, ch + skips.pop()!, cout)];
      ch = cout;
      if (rates.includes(ds)) layers.push(attn(`${name}.${layers.length}`, ch, true));
      if (level && i === cfg.numResBlocks) {
        const up = `${name}.${layers.length}`;
        layers.push(
          cfg.resblockUpdown
            ? res(up, ch, ch, "up")
            : { kind: "up", conv: p.conv2d(`${up}.conv`, ch, ch, 3) },
        );
        ds /= 2;
      }
      outputBlocks.push(layers);
    }
  }
  const outNorm = p.norm("out.0", ch);
  const outConv = p.conv2d("out.2", inputCh, dataCh, 3, true);
  return { cfg, timeEmbed, inputBlocks, middleBlock, outputBlocks, outNorm, outConv };
}

/**
 * The network's output for x [B, H, W, C] at times t [B] (UNetModel.forward(t, x) in NHWC).
 * Dropout is active only when `dropoutSeed` is given (training); each residual block draws its
 * mask from its own sub-seed.
 * @example
 * admForward(net, tf.zeros([2, 8, 8, 3]), tf.tensor1d([0.1, 0.9])).shape; // [2, 8, 8, 3]
 */
export function admForward(net: AdmNet, x: Tensor, t: Tensor, dropoutSeed?: number): Tensor {
  let block = 0;
  const dropout = net.cfg.dropout;
  // time_embed: Linear, SiLU, Linear (each ResBlock applies its own SiLU before emb_layers).
  const hidden = silu(linear(timestepEmbedding(t, net.cfg.numChannels), net.timeEmbed[0]));
  const e = linear(hidden, net.timeEmbed[1]);
  const run = (h: Tensor, layers: Layer[]): Tensor => {
    for (const l of layers) {
      if (l.kind === "res") {
        const seed = dropoutSeed === undefined ? undefined : subSeed(dropoutSeed, block++);
        h = resBlock(h, e, l.res, { dropout, dropoutSeed: seed });
      } else if (l.kind === "attn") h = attnBlock(h, l.attn);
      else if (l.kind === "conv") h = conv2d(h, l.conv);
      else if (l.kind === "down") h = conv2d(h, l.conv, 2);
      else h = conv2d(upsample2x(h), l.conv);
    }
    return h;
  };
  const hs: Tensor[] = [];
  let h = x;
  for (const layers of net.inputBlocks) {
    h = run(h, layers);
    hs.push(h);
  }
  h = run(h, net.middleBlock);
  for (const layers of net.outputBlocks) h = run(tf.concat([h, hs.pop()!], 3), layers);
  return conv2d(groupNorm32(h, net.outNorm, true), net.outConv);
}
