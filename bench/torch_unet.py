"""PyTorch reference for the U-Net training step: the architecture of plugins/models/unet.ts
(presets of plugins/models/_unet/config.ts), same parameter count, timed like
probes/unet-micro.ts (flow-matching loss on the linear path, backward, Adam; batch 128).

Usage: python3 bench/torch_unet.py [--preset small] [--batch 128] [--reps 10]
       [--device cuda|cpu] [--expect-params N] [--tf32]
       python3 bench/torch_unet.py --check FILE.safetensors  (from probes/unet-export.ts)
Prints one JSON object. Exits 3 when --expect-params differs from this model's count; with
--check, loads fmbench's weights and input and exits 4 when the output differs from fmbench's.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# plugins/models/_unet/config.ts (keep in step; --expect-params checks the count).
PRESETS = {
    "tiny": dict(ch=16, mult=[1, 2], num_res=1, attn_res=[16], dropout=0.0, groups=8, heads=1),
    "small": dict(ch=32, mult=[1, 2, 2, 2], num_res=2, attn_res=[16], dropout=0.1, groups=8,
                  heads=1),
    "paper": dict(ch=128, mult=[1, 2, 2, 2], num_res=2, attn_res=[16], dropout=0.1, groups=32,
                  heads=1),
}
TIME_SCALE = 1000.0
EPS = 1e-6


def time_embedding(t, dim):
    """[sin(s t f_i), cos(s t f_i)], f_i = 10000^(-i / (dim/2 - 1)), as _unet/timeembed.ts."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / (half - 1))
    args = (t[:, None] * TIME_SCALE) * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class SameConv(nn.Module):
    """3x3 convolution with TensorFlow "same" padding (stride 2 pads right/bottom only)."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1 if stride == 1 else 0)

    def forward(self, x):
        if self.stride == 2:
            x = F.pad(x, (0, 1, 0, 1))
        return self.conv(x)


class ResBlock(nn.Module):
    """GN, SiLU, conv, + time, GN, SiLU, dropout, conv; 1x1 skip when channels change."""

    def __init__(self, cin, cout, temb, groups, dropout):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=EPS)
        self.conv1 = SameConv(cin, cout)
        self.temb = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=EPS)
        self.drop = nn.Dropout(dropout)
        self.conv2 = SameConv(cout, cout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return (self.skip(x) if self.skip is not None else x) + h


class AttnBlock(nn.Module):
    """x + proj(softmax(q k^T / sqrt(d)) v) over the H*W positions, per head."""

    def __init__(self, c, groups, heads):
        super().__init__()
        self.norm = nn.GroupNorm(groups, c, eps=EPS)
        self.q, self.k, self.v, self.proj = (nn.Linear(c, c) for _ in range(4))
        self.heads = heads

    def forward(self, x):
        b, c, h, w = x.shape
        d = c // self.heads
        hn = self.norm(x).flatten(2).transpose(1, 2)  # [b, hw, c]

        def split(t):
            return t.reshape(b, h * w, self.heads, d).transpose(1, 2)

        q, k, v = split(self.q(hn)), split(self.k(hn)), split(self.v(hn))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1) @ v
        out = self.proj(a.transpose(1, 2).reshape(b, h * w, c))
        return x + out.transpose(1, 2).reshape(b, c, h, w)


class UNet(nn.Module):
    """The U-Net of plugins/models/unet.ts, in NCHW."""

    def __init__(self, preset="small", size=32, channels=3):
        super().__init__()
        cfg = PRESETS[preset]
        ch, mult, groups = cfg["ch"], cfg["mult"], cfg["groups"]
        temb = ch * 4
        self.ch = ch
        self.temb0, self.temb1 = nn.Linear(ch, temb), nn.Linear(temb, temb)
        self.conv_in = SameConv(channels, ch)
        self.down = nn.ModuleList()
        skips, c, res = [ch], ch, size
        for level, m in enumerate(mult):
            for _ in range(cfg["num_res"]):
                block = nn.ModuleList([ResBlock(c, ch * m, temb, groups, cfg["dropout"])])
                c = ch * m
                if res in cfg["attn_res"]:
                    block.append(AttnBlock(c, groups, cfg["heads"]))
                self.down.append(block)
                skips.append(c)
            if level < len(mult) - 1:
                self.down.append(SameConv(c, c, stride=2))
                skips.append(c)
                res //= 2
        self.mid = nn.ModuleList([ResBlock(c, c, temb, groups, cfg["dropout"]),
                                  AttnBlock(c, groups, cfg["heads"]),
                                  ResBlock(c, c, temb, groups, cfg["dropout"])])
        self.up = nn.ModuleList()
        for level in reversed(range(len(mult))):
            cout = ch * mult[level]
            for _ in range(cfg["num_res"] + 1):
                block = nn.ModuleList([ResBlock(c + skips.pop(), cout, temb, groups,
                                                cfg["dropout"])])
                c = cout
                if res in cfg["attn_res"]:
                    block.append(AttnBlock(c, groups, cfg["heads"]))
                self.up.append(block)
            if level > 0:
                self.up.append(SameConv(c, c))
                res *= 2
        self.norm_out = nn.GroupNorm(groups, c, eps=EPS)
        self.conv_out = SameConv(c, channels)

    def forward(self, x, t):
        temb = self.temb1(F.silu(self.temb0(time_embedding(t, self.ch))))
        h = self.conv_in(x)
        hs = [h]
        for block in self.down:
            if isinstance(block, SameConv):
                h = block(h)
            else:
                h = block[0](h, temb)
                if len(block) > 1:
                    h = block[1](h)
            hs.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, temb)), temb)
        for block in self.up:
            if isinstance(block, SameConv):
                h = block(F.interpolate(h, scale_factor=2, mode="nearest"))
            else:
                h = block[0](torch.cat([h, hs.pop()], dim=1), temb)
                if len(block) > 1:
                    h = block[1](h)
        return self.conv_out(F.silu(self.norm_out(h)))


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def read_safetensors(path):
    """{name: float tensor} and the metadata of a safetensors file (F32/F64 only)."""
    import struct
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        dtype = {"F32": torch.float32, "F64": torch.float64}[e["dtype"]]
        buf = bytearray(raw[8 + n + a:8 + n + b])
        out[name] = torch.frombuffer(buf, dtype=dtype).reshape(e["shape"]).float()
    return out, meta


def check_against(path, device):
    """Load fmbench's weights into this model (creation order, layouts converted) and compare
    the outputs on fmbench's input: the same architecture gives the same velocity."""
    tensors, meta = read_safetensors(path)
    model = UNet(meta["preset"]).to(device).eval()
    params = list(model.parameters())
    n_ts = len([k for k in tensors if k.startswith("param.")])
    if n_ts != len(params):
        return {"error": f"{n_ts} fmbench variables, {len(params)} torch parameters"}
    with torch.no_grad():
        for i, p in enumerate(params):
            w = tensors[f"param.{i}"]
            if w.dim() == 4:  # conv [kh, kw, Ci, Co] -> [Co, Ci, kh, kw]
                w = w.permute(3, 2, 0, 1)
            elif w.dim() == 2:  # dense [Ci, Co] -> Linear [Co, Ci] (or a 1x1 conv)
                w = w.t()
            if w.numel() != p.numel() or (w.dim() == p.dim() and w.shape != p.shape):
                return {"error": f"parameter {i}: fmbench {list(w.shape)}, torch {list(p.shape)}"}
            p.copy_(w.reshape(p.shape))
        x = tensors["x"].permute(0, 3, 1, 2).to(device)
        v = model(x, tensors["t"].to(device)).permute(0, 2, 3, 1).cpu()
    ref = tensors["v"]
    diff = (v - ref).abs().max().item()
    scale = ref.abs().max().item()
    return {"preset": meta["preset"], "params": param_count(model), "maxAbsDiff": diff,
            "maxAbsOutput": scale, "relDiff": diff / scale if scale else diff}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="small", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--expect-params", type=int)
    ap.add_argument("--tf32", action="store_true",
                    help="allow TF32 matmuls/convolutions (default: full fp32, as webgpu)")
    ap.add_argument("--check", metavar="FILE",
                    help="compare with fmbench's output (probes/unet-export.ts) and exit")
    a = ap.parse_args()
    if a.check:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        r = check_against(a.check, torch.device(a.device))
        print(json.dumps(r))
        sys.exit(4 if "error" in r or r["relDiff"] > 1e-4 else 0)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
        torch.backends.cudnn.allow_tf32 = a.tf32
        torch.backends.cudnn.benchmark = True
    model = UNet(a.preset).to(dev)
    n = param_count(model)
    out = {"framework": f"torch {torch.__version__}", "device": str(dev), "preset": a.preset,
           "batch": a.batch, "params": n, "tf32": a.tf32}
    if dev.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(dev)
    if a.expect_params is not None and n != a.expect_params:
        out["error"] = f"parameter count {n} != expected {a.expect_params} (fmbench's U-Net)"
        print(json.dumps(out))
        sys.exit(3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    g = torch.Generator(device="cpu").manual_seed(1)
    x1 = (torch.rand(a.batch, 3, 32, 32, generator=g) * 2 - 1).to(dev)
    x0 = torch.randn(a.batch, 3, 32, 32, generator=g).to(dev)
    t = torch.rand(a.batch, generator=g).to(dev)
    xt = t[:, None, None, None] * x1 + (1 - t[:, None, None, None]) * x0
    ut = x1 - x0

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((model(xt, t) - ut) ** 2)
        loss.backward()
        opt.step()

    def forward():
        with torch.no_grad():
            model(xt, t)

    def timed(f, reps):
        for _ in range(3):  # warm-up: cuDNN autotuning, allocator
            f()
        sync()
        ms = []
        for _ in range(reps):
            t0 = time.perf_counter()
            f()
            sync()
            ms.append((time.perf_counter() - t0) * 1000)
        ms.sort()
        return ms[len(ms) // 2]

    model.train()
    train_ms = timed(step, a.reps)
    model.eval()
    fwd_ms = timed(forward, a.reps)
    out["train"] = {"msPerStep": train_ms, "imagesPerSec": 1000 * a.batch / train_ms,
                    "reps": a.reps}
    out["forward"] = {"msPerEval": fwd_ms, "imagesPerSec": 1000 * a.batch / fwd_ms,
                      "reps": a.reps}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
