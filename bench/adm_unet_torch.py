"""PyTorch side of the ADM U-Net parity checks (plugins/models/adm-unet.ts against TorchCFM's
torchcfm/models/unet/unet.py UNetModelWrapper). Needs TorchCFM's source on PYTHONPATH (fetch
github:atong01/conditional-flow-matching and extract torchcfm/) and Debian's /usr/bin/python3.

  fixtures                 re-record tests/fixtures/adm-unet-tiny.json (tiny preset, 8x8x3: the
                           weights drawn by seeded_weights below, which tests/adm_unet_test.ts
                           draws identically; inputs, output, gradient samples) and
                           tests/fixtures/torchcfm-format.pt (TorchCFM's training loop, exact
                           checkpoint layout, with its small MLP as the network)
  parity --preset P --out DIR [--batch B] [--variant V]
                           DIR/checkpoint.pt: {net_model, ema_model, optim, sched, step} as
                           train_cifar10.py saves it, every parameter random (ema_model holds the
                           weights to check); DIR/io.json: x, t, output (eval mode), and with
                           --grads the full gradient of sum(output * r) for every parameter
  time --preset P --batch B --reps N
                           seconds per forward pass (eval, no grad), one thread; prints JSON
  serve --preset P --batch B
                           one thread; after a warm-up pass prints {"ready": true}, then for each
                           line read on stdin times one forward pass and prints {"seconds": s}
                           (bench/adm_unet_time.ts interleaves these with fmbench's passes)

Usage: PYTHONPATH=/tmp/tcfm /usr/bin/python3 bench/adm_unet_torch.py fixtures
"""
import argparse
import contextlib
import copy
import json
import math
import os
import sys
import time

import torch

from torchcfm.models.unet.unet import UNetModelWrapper

# plugins/models/_adm/config.ts, in UNetModelWrapper's arguments (keep in step: the TS tests
# assert the parameter counts printed here).
PRESETS = {
    "tiny": dict(num_channels=32, num_res_blocks=1, channel_mult=[1, 2], attention_resolutions="4",
                 num_heads=4, num_head_channels=16, dropout=0.1),
    "torchcfm": dict(num_channels=128, num_res_blocks=2, channel_mult=[1, 2, 2, 2],
                     attention_resolutions="16", num_heads=4, num_head_channels=64, dropout=0.1),
    "lipman": dict(num_channels=256, num_res_blocks=2, channel_mult=[1, 2, 2, 2],
                   attention_resolutions="16", num_heads=4, num_head_channels=64, dropout=0.0),
}
# Argument variants the default presets leave off, for checking those code paths too.
VARIANTS = {
    "default": {},
    "scale-shift-updown": dict(use_scale_shift_norm=True, resblock_updown=True),
    "new-attention-order": dict(use_new_attention_order=True, num_head_channels=-1, num_heads=2),
}
SHAPES = {"tiny": (3, 8, 8), "torchcfm": (3, 32, 32), "lipman": (3, 32, 32)}
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def make_model(preset, variant="default"):
    return UNetModelWrapper(dim=SHAPES[preset], **{**PRESETS[preset], **VARIANTS[variant]})


def randomise(model, gen, fp16_exact=False):
    """Every parameter random (TorchCFM zero-initialises some convs): Linear/Conv weights and biases
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), GroupNorm scale 1 + U(-0.3, 0.3), shift U(-0.2, 0.2).
    With fp16_exact, values are rounded to float16 (stored as float32 they stay exact)."""
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, torch.nn.GroupNorm):
                m.weight.copy_(1 + 0.6 * (torch.rand(m.weight.shape, generator=gen) - 0.5))
                m.bias.copy_(0.4 * (torch.rand(m.bias.shape, generator=gen) - 0.5))
            elif isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Linear)):
                fan_in = m.weight[0].numel()
                bound = fan_in ** -0.5
                m.weight.copy_(bound * (2 * torch.rand(m.weight.shape, generator=gen) - 1))
                m.bias.copy_(bound * (2 * torch.rand(m.bias.shape, generator=gen) - 1))
        if fp16_exact:
            for p in model.parameters():
                p.copy_(p.half().float())


def inputs(preset, batch, gen):
    c, h, w = SHAPES[preset]
    x = torch.randn(batch, c, h, w, generator=gen)
    t = torch.linspace(0, 1, batch) if batch > 1 else torch.tensor([0.37])
    r = torch.randn(batch, c, h, w, generator=gen)
    return x, t, r


def nhwc(v):
    return v.permute(0, 2, 3, 1).contiguous().flatten().tolist()


def forward_and_grads(model, x, t, r):
    model.eval()
    x = x.clone().requires_grad_(True)
    model.zero_grad()
    out = model(t, x)
    (out * r).sum().backward()
    return out.detach(), x.grad.detach()


def torchcfm_checkpoint(net_model, ema_weights, gen, steps=2):
    """{net_model, ema_model, sched, optim, step} exactly as train_cifar10.py saves it after
    `steps` optimiser steps (Adam lr 2e-4, LambdaLR warm-up, gradient clip 1, EMA 0.9999); the
    EMA model then gets `ema_weights` (the weights a parity check compares)."""
    ema_model = copy.deepcopy(net_model)
    optim = torch.optim.Adam(net_model.parameters(), lr=2e-4)
    warmup = 5000

    def warmup_lr(step):
        return min(step, warmup) / warmup

    sched = torch.optim.lr_scheduler.LambdaLR(optim, lr_lambda=warmup_lr)
    is_unet = isinstance(net_model, UNetModelWrapper)
    for step in range(steps):
        optim.zero_grad()
        if is_unet:
            c, h, w = net_model.in_channels, net_model.image_size, net_model.image_size
            x1 = torch.randn(2, c, h, w, generator=gen)
            t = torch.rand(2, generator=gen)
            loss = ((net_model(t, x1) - x1) ** 2).mean()
        else:
            xt = torch.randn(4, net_model.net[0].in_features, generator=gen)
            loss = (net_model(xt) ** 2).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net_model.parameters(), 1.0)
        optim.step()
        sched.step()
        src, tgt = net_model.state_dict(), ema_model.state_dict()
        for key in src:
            tgt[key].data.copy_(tgt[key].data * 0.9999 + src[key].data * (1 - 0.9999))
    if ema_weights is not None:
        ema_model.load_state_dict(ema_weights)
    return {
        "net_model": net_model.state_dict(),
        "ema_model": ema_model.state_dict(),
        "sched": sched.state_dict(),
        "optim": optim.state_dict(),
        "step": steps - 1,
    }


def mulberry32(seed):
    """core/rng.ts's generator, bit for bit: uniform draws on [0, 1)."""
    a = seed & 0xFFFFFFFF

    def imul(x, y):
        return (x * y) & 0xFFFFFFFF

    def u():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = imul(a ^ (a >> 15), a | 1)
        t = (t ^ ((t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return (t ^ (t >> 14)) / 4294967296

    return u


def seeded_weights(model, seed):
    """Every parameter from one mulberry32 stream, in state_dict order and row-major PyTorch
    layout: GroupNorm scale 1 + 0.6 (u - 0.5), shift 0.4 (u - 0.5); every Linear/Conv weight and
    bias (2u - 1) / sqrt(fan_in) of its layer (TorchCFM zero-initialises some: here none is 0).
    tests/adm_unet_test.ts draws the same values; the fixture records their sum as a check."""
    u = mulberry32(seed)
    norms = {n for n, m in model.named_modules() if isinstance(m, torch.nn.GroupNorm)}
    state = model.state_dict()
    total = 0.0
    with torch.no_grad():
        for name, p in state.items():
            module, kind = name.rsplit(".", 1)
            n = p.numel()
            if module in norms:
                vals = [(1 + 0.6 * (u() - 0.5)) if kind == "weight" else 0.4 * (u() - 0.5)
                        for _ in range(n)]
            else:
                w = state[module + ".weight"]
                bound = (w.numel() // w.shape[0]) ** -0.5
                vals = [(2 * u() - 1) * bound for _ in range(n)]
            p.copy_(torch.tensor(vals, dtype=torch.float32).reshape(p.shape))
            total += p.double().sum().item()
    return total


@contextlib.contextmanager
def float64_everywhere():
    """TorchCFM computes the timestep embedding and GroupNorm32 in float32 whatever the model's
    dtype; for a float64 reference run, let both follow their input's dtype."""
    import torchcfm.models.unet.nn as unet_nn
    import torchcfm.models.unet.unet as unet_mod

    embed, norm = unet_mod.timestep_embedding, unet_nn.GroupNorm32.forward

    def embed64(timesteps, dim, max_period=10000):
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half)
        args = timesteps[:, None].double() * freqs[None]
        emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
        return torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1) if dim % 2 else emb

    unet_mod.timestep_embedding, unet_nn.GroupNorm32.forward = embed64, torch.nn.GroupNorm.forward
    try:
        yield
    finally:
        unet_mod.timestep_embedding, unet_nn.GroupNorm32.forward = embed, norm


def record_fixtures():
    gen = torch.Generator().manual_seed(21)
    model = make_model("tiny")
    weights_sum = seeded_weights(model, 21)
    x, t, r = inputs("tiny", 3, gen)
    out, dx = forward_and_grads(model, x, t, r)
    # The same in float64: its gradients tell which are zero in exact arithmetic (a bias before a
    # GroupNorm that normalises each channel alone), where float32 leaves only rounding noise.
    m64 = copy.deepcopy(model).double()
    m64.dtype = torch.float64  # UNetModel casts its input to this
    with float64_everywhere():
        out64, _ = forward_and_grads(m64, x.double(), t.double(), r.double())
    g64 = {n: p.grad.abs().max().item() for n, p in m64.named_parameters()}
    top64 = max(g64.values())
    # Dropout is active in training mode: the same input gives a different output.
    model.train()
    torch.manual_seed(0)
    with torch.no_grad():
        train_diff = (model(t, x) - out).abs().max().item()
    grads = {}
    for name, p in model.named_parameters():
        g = p.grad.detach().flatten().double()
        idx = torch.randperm(g.numel(), generator=gen)[:16].tolist()
        idx += [int(g.abs().argmax())]
        grads[name] = {
            "numel": g.numel(),
            "shape": list(p.shape),
            "exact_zero": g64[name] < 1e-9 * top64,
            "sum": g.sum().item(),
            "sumsq": (g * g).sum().item(),
            "maxabs": g.abs().max().item(),
            "idx": idx,
            "val": [g[i].item() for i in idx],
        }
    record = {
        "what": "TorchCFM UNetModelWrapper(dim=(3, 8, 8), **tiny) with seeded_weights(seed 21), "
                "eval mode, float32 (output64: the same in float64); gradients of "
                "sum(output * r); tensors flattened in NHWC order; gradient samples indexed in "
                "PyTorch's row-major parameter layout",
        "weights_seed": 21,
        "weights_sum": weights_sum,
        "torch": torch.__version__,
        "preset": "tiny",
        "shape": [8, 8, 3],
        "params": sum(p.numel() for p in model.parameters()),
        "param_counts": {k: sum(p.numel() for p in make_model(k).parameters()) for k in PRESETS},
        "t": t.tolist(),
        "x": nhwc(x),
        "r": nhwc(r),
        "output": nhwc(out),
        "output64": nhwc(out64),
        "dx": nhwc(dx),
        "train_minus_eval_maxabs": train_diff,
        "grads": grads,
    }
    with open(os.path.join(FIXTURES, "adm-unet-tiny.json"), "w") as f:
        json.dump(record, f, indent=2)  # as `deno fmt` lays it out
        f.write("\n")
    # The checkpoint layout: TorchCFM's own loop, its MLP as the network (a U-Net with its Adam
    # state would not fit a small fixture); a LambdaLR with a plain function stores None for it.
    from torchcfm.models.models import MLP

    torch.manual_seed(0)
    mlp = MLP(dim=2, w=8, time_varying=True)
    ckpt = torchcfm_checkpoint(mlp, None, gen)
    torch.save(ckpt, os.path.join(FIXTURES, "torchcfm-format.pt"))
    print(json.dumps({"params": record["params"], "param_counts": record["param_counts"],
                      "train_minus_eval_maxabs": train_diff,
                      "step": ckpt["step"], "sched": str(ckpt["sched"])}))


def record_parity(args):
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(args.seed)
    model = make_model(args.preset, args.variant)
    net = make_model(args.preset, args.variant)
    randomise(model, gen)
    ckpt = torchcfm_checkpoint(net, model.state_dict(), gen, steps=1)
    os.makedirs(args.out, exist_ok=True)
    torch.save(ckpt, os.path.join(args.out, "checkpoint.pt"))
    x, t, r = inputs(args.preset, args.batch, gen)
    if args.grads:
        out, dx = forward_and_grads(model, x, t, r)
    else:
        model.eval()
        with torch.no_grad():
            out = model(t, x)
    rec = {"preset": args.preset, "variant": args.variant, "variant_args": VARIANTS[args.variant],
           "shape": [SHAPES[args.preset][1], SHAPES[args.preset][2], SHAPES[args.preset][0]],
           "t": t.tolist(), "x": nhwc(x), "r": nhwc(r), "output": nhwc(out),
           "params": sum(p.numel() for p in model.parameters())}
    if args.grads:
        rec["dx"] = nhwc(dx)
        rec["grads"] = {n: p.grad.flatten().tolist() for n, p in model.named_parameters()}
    with open(os.path.join(args.out, "io.json"), "w") as f:
        json.dump(rec, f, separators=(",", ":"))
    print(json.dumps({"out": args.out, "params": rec["params"]}))


def time_forward(args):
    torch.set_num_threads(1)
    model = make_model(args.preset)
    model.eval()
    gen = torch.Generator().manual_seed(0)
    x, t, _ = inputs(args.preset, args.batch, gen)
    times = []
    with torch.no_grad():
        model(t, x)  # warm-up
        for _ in range(args.reps):
            start = time.perf_counter()
            model(t, x)
            times.append(time.perf_counter() - start)
    print(json.dumps({"preset": args.preset, "batch": args.batch, "seconds": times,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


def serve_forward(args):
    torch.set_num_threads(1)
    model = make_model(args.preset)
    model.eval()
    gen = torch.Generator().manual_seed(0)
    x, t, _ = inputs(args.preset, args.batch, gen)
    with torch.no_grad():
        model(t, x)  # warm-up
        print(json.dumps({"ready": True, "threads": torch.get_num_threads(),
                          "torch": torch.__version__}), flush=True)
        for _ in sys.stdin:
            start = time.perf_counter()
            model(t, x)
            print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["fixtures", "parity", "time", "serve"])
    ap.add_argument("--preset", default="torchcfm", choices=list(PRESETS))
    ap.add_argument("--variant", default="default", choices=list(VARIANTS))
    ap.add_argument("--out", default="/tmp/adm-parity")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--grads", action="store_true")
    args = ap.parse_args()
    if args.mode == "fixtures":
        record_fixtures()
    elif args.mode == "parity":
        record_parity(args)
    elif args.mode == "serve":
        serve_forward(args)
    else:
        time_forward(args)


if __name__ == "__main__":
    sys.exit(main())
