# DINOv2 reference features from facebookresearch/dinov2's own DinoVisionTransformer (as
# torch.hub's dinov2_vitl14 builds it) with seeded random weights, preprocessed as NVlabs/edm2's
# DINOv2Detector (float images in [0, 255], F.interpolate bicubic antialias=True to 224, / 255,
# ImageNet mean/std). Writes the weights under Hugging Face's names (facebook/dinov2-large's
# layout) plus the expected class tokens, for tests/dinov2_test.ts and bench/dinov2_parity.ts.
#
#   /usr/bin/python3 bench/dinov2_reference.py small DINOV2_DIR OUT.safetensors   (test fixture)
#   /usr/bin/python3 bench/dinov2_reference.py large DINOV2_DIR OUT.safetensors   (ViT-L/14, 1.2 GB)
#
# DINOV2_DIR is a checkout of github.com/facebookresearch/dinov2 (put on sys.path). Its attention
# calls F.scaled_dot_product_attention (torch >= 2.0); on older torch the same formula,
# softmax(q k^T / sqrt(d)) v, is supplied here.
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

SMALL = dict(embed_dim=32, depth=2, num_heads=2)
LARGE = dict(embed_dim=1024, depth=24, num_heads=16)


def image(b, h, w):
    """Test images by an integer formula, reproduced exactly in tests/dinov2_test.ts."""
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    v = (b * 7919 + y * 131 + x * 31 + c * 17 + ((x * y) % 13) * 19) % 256
    return v.astype(np.float32)  # HWC in [0, 255], as the uint8 images EDM2 feeds its detector


def build(dinov2_dir, size, seed):
    sys.path.insert(0, dinov2_dir)
    if not hasattr(F, "scaled_dot_product_attention"):
        def sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False):
            return ((q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])).softmax(-1) @ v
        F.scaled_dot_product_attention = sdpa
    from dinov2.models.vision_transformer import DinoVisionTransformer
    from dinov2.layers import MemEffAttention, NestedTensorBlock
    from functools import partial
    # torch.hub's _make_dinov2_model(arch_name="vit_large", img_size=518, patch_size=14,
    # init_values=1.0, ffn_layer="mlp", block_chunks=0, num_register_tokens=0,
    # interpolate_antialias=False, interpolate_offset=0.1), with vit_large's mlp_ratio 4.
    model = DinoVisionTransformer(
        img_size=518, patch_size=14, mlp_ratio=4, init_values=1.0, ffn_layer="mlp",
        block_chunks=0, num_register_tokens=0, interpolate_antialias=False,
        interpolate_offset=0.1, block_fn=partial(NestedTensorBlock, attn_class=MemEffAttention),
        **size)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            z = torch.randn(p.shape, generator=g)
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight":
                p.copy_(1 + 0.2 * z)
            elif "ls1" in name or "ls2" in name:
                p.copy_(0.3 + 0.1 * z)
            elif name.endswith(".weight") and p.dim() >= 2:
                p.copy_(z / math.sqrt(p[0].numel()))
            else:
                p.copy_(0.3 * z)
    return model.eval()


def edm2_preprocess(x):
    """EDM2's DINOv2Detector (resize_mode 'torch') on NCHW float images in [0, 255]."""
    x = F.interpolate(x.to(torch.float32), size=(224, 224), mode="bicubic", antialias=True)
    x = x / 255
    x = x - torch.tensor([0.485, 0.456, 0.406]).reshape(1, -1, 1, 1)
    return x / torch.tensor([0.229, 0.224, 0.225]).reshape(1, -1, 1, 1)


def hf_state(model, dim):
    """The state dict under Hugging Face's Dinov2Model names (its conversion script's mapping)."""
    out = {}
    for k, v in model.state_dict().items():
        v = v.detach().float().contiguous()
        if k == "mask_token":
            out["embeddings.mask_token"] = v
        elif k in ("cls_token", "pos_embed"):
            out["embeddings." + {"cls_token": "cls_token", "pos_embed": "position_embeddings"}[k]] = v
        elif k.startswith("patch_embed.proj."):
            out["embeddings.patch_embeddings.projection." + k.split(".")[-1]] = v
        elif k.startswith("norm."):
            out["layernorm." + k.split(".")[-1]] = v
        else:
            i, rest = k.split(".", 2)[1:]
            p = f"encoder.layer.{i}."
            if rest.startswith("attn.qkv."):
                kind = rest.split(".")[-1]
                for t, part in enumerate(["query", "key", "value"]):
                    out[p + f"attention.attention.{part}.{kind}"] = v[t * dim:(t + 1) * dim]
            else:
                rest = {"attn.proj.weight": "attention.output.dense.weight",
                        "attn.proj.bias": "attention.output.dense.bias",
                        "ls1.gamma": "layer_scale1.lambda1",
                        "ls2.gamma": "layer_scale2.lambda1"}.get(rest, rest)
                out[p + rest] = v
    return out


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    for name, t in tensors.items():
        n = t.numel() * 4
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for t in tensors.values():
            f.write(t.contiguous().numpy().astype("<f4").tobytes())


def main():
    mode, dinov2_dir, out_path = sys.argv[1:4]
    size = {"small": SMALL, "large": LARGE}[mode]
    torch.manual_seed(0)
    model = build(dinov2_dir, size, seed=7)
    # Two 32x32 images (CIFAR's size, upsampled) and one 300x300 (antialiased downsampling).
    batches = {"small": [(2, 32), (1, 300)], "large": [(2, 32)]}[mode]
    tensors = hf_state(model, size["embed_dim"])
    meta = {"config": json.dumps(size), "torch": torch.__version__,
            "script": "bench/dinov2_reference.py " + mode}
    with torch.no_grad():
        for count, side in batches:
            imgs = np.stack([image(b, side, side) for b in range(count)])
            x = torch.from_numpy(imgs).permute(0, 3, 1, 2)
            tensors[f"expected_{side}"] = model(edm2_preprocess(x))
    write_safetensors(out_path, tensors, meta)
    print(json.dumps({k: list(v.shape) for k, v in tensors.items() if k.startswith("expected")}))


if __name__ == "__main__":
    main()
