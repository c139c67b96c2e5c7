// DINOv2's vision transformer as data: the configuration (ViT-L/14 as torch.hub's dinov2_vitl14
// builds it, or a small one for tests) and the tensors a weights file must hold, under Hugging
// Face's names (facebook/dinov2-large) and the original checkpoint's (dinov2_vitl14_pretrain.pth).

/** A DINOv2 ViT configuration (no registers, MLP feed-forward, LayerScale). */
export interface VitConfig {
  /** Token width (1024 for ViT-L). */
  dim: number;
  depth: number;
  heads: number;
  /** Hidden width of the MLP (4 x dim). */
  mlpDim: number;
  patch: number;
  /** Side of the square position-embedding grid the weights hold (518 / 14 = 37). */
  posGrid: number;
  /** Side the images are resized to (224: a 16 x 16 grid of patches). */
  imageSize: number;
  /** LayerNorm epsilon (1e-6). */
  eps: number;
  /** DINOv2's interpolate_offset: the grid is resized by scale factor (g + offset) / posGrid. */
  interpolateOffset: number;
}

/**
 * ViT-L/14 as torch.hub's `dinov2_vitl14` builds it (img_size 518, patch 14, 24 blocks of width
 * 1024 and 16 heads, MLP 4096, LayerNorm eps 1e-6, interpolate_offset 0.1, no registers), run on
 * 224 x 224 inputs as EDM2 and dgm-eval do.
 * @example
 * VIT_L14.dim; // 1024, the FD-DINOv2 feature dimension
 */
export const VIT_L14: VitConfig = {
  dim: 1024,
  depth: 24,
  heads: 16,
  mlpDim: 4096,
  patch: 14,
  posGrid: 37,
  imageSize: 224,
  eps: 1e-6,
  interpolateOffset: 0.1,
};

/** One tensor of the weights file under Hugging Face's name, and its shape. */
export interface VitTensor {
  name: string;
  shape: number[];
}

/**
 * The tensors the network needs, Hugging Face Dinov2Model names, in forward order
 * (`embeddings.mask_token` is in the file but unused).
 * @example
 * vitTensors(VIT_L14).length; // 4 + 16 * 24 + 2 = 390
 */
export function vitTensors(c: VitConfig): VitTensor[] {
  const d = c.dim;
  const out: VitTensor[] = [
    { name: "embeddings.cls_token", shape: [1, 1, d] },
    { name: "embeddings.position_embeddings", shape: [1, 1 + c.posGrid * c.posGrid, d] },
    { name: "embeddings.patch_embeddings.projection.weight", shape: [d, 3, c.patch, c.patch] },
    { name: "embeddings.patch_embeddings.projection.bias", shape: [d] },
  ];
  for (let i = 0; i < c.depth; i++) {
    const p = `encoder.layer.${i}`;
    out.push(
      { name: `${p}.norm1.weight`, shape: [d] },
      { name: `${p}.norm1.bias`, shape: [d] },
      { name: `${p}.attention.attention.query.weight`, shape: [d, d] },
      { name: `${p}.attention.attention.query.bias`, shape: [d] },
      { name: `${p}.attention.attention.key.weight`, shape: [d, d] },
      { name: `${p}.attention.attention.key.bias`, shape: [d] },
      { name: `${p}.attention.attention.value.weight`, shape: [d, d] },
      { name: `${p}.attention.attention.value.bias`, shape: [d] },
      { name: `${p}.attention.output.dense.weight`, shape: [d, d] },
      { name: `${p}.attention.output.dense.bias`, shape: [d] },
      { name: `${p}.layer_scale1.lambda1`, shape: [d] },
      { name: `${p}.norm2.weight`, shape: [d] },
      { name: `${p}.norm2.bias`, shape: [d] },
      { name: `${p}.mlp.fc1.weight`, shape: [c.mlpDim, d] },
      { name: `${p}.mlp.fc1.bias`, shape: [c.mlpDim] },
      { name: `${p}.mlp.fc2.weight`, shape: [d, c.mlpDim] },
      { name: `${p}.mlp.fc2.bias`, shape: [d] },
      { name: `${p}.layer_scale2.lambda1`, shape: [d] },
    );
  }
  out.push({ name: "layernorm.weight", shape: [d] }, { name: "layernorm.bias", shape: [d] });
  return out;
}

/**
 * Parameters of the network as PyTorch counts them (the tensors above plus the unused mask
 * token): 304,368,640 for ViT-L/14.
 * @example
 * vitParamCount(VIT_L14); // 304368640
 */
export function vitParamCount(c: VitConfig): number {
  const all = vitTensors(c).reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  return all + c.dim; // mask_token [1, dim]
}

/**
 * The original checkpoint's name for a Hugging Face name, and, for the split query/key/value,
 * which third of the fused `attn.qkv` tensor it is (Hugging Face's conversion splits it in that
 * order).
 * @example
 * originalName("encoder.layer.3.attention.attention.key.weight"); // { name: "blocks.3.attn.qkv.weight", third: 1 }
 */
export function originalName(hf: string): { name: string; third?: number } {
  const fixed: Record<string, string> = {
    "embeddings.cls_token": "cls_token",
    "embeddings.position_embeddings": "pos_embed",
    "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
    "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
    "layernorm.weight": "norm.weight",
    "layernorm.bias": "norm.bias",
  };
  if (fixed[hf]) return { name: fixed[hf] };
  const m = hf.match(/^encoder\.layer\.(\d+)\.(.+)$/);
  if (!m) return { name: hf };
  const [, i, rest] = m;
  const qkv = rest.match(/^attention\.attention\.(query|key|value)\.(weight|bias)$/);
  if (qkv) {
    return {
      name: `blocks.${i}.attn.qkv.${qkv[2]}`,
      third: ["query", "key", "value"].indexOf(qkv[1]),
    };
  }
  const map: Record<string, string> = {
    "attention.output.dense.weight": "attn.proj.weight",
    "attention.output.dense.bias": "attn.proj.bias",
    "layer_scale1.lambda1": "ls1.gamma",
    "layer_scale2.lambda1": "ls2.gamma",
  };
  return { name: `blocks.${i}.${map[rest] ?? rest}` };
}
