"""PyTorch reference for `deno task bench:compare`: fmbench's hot paths, on one thread or N.

Run with Debian's PyTorch (`apt-get install python3-torch`):

    /usr/bin/python3 bench/torch_reference.py [--reps 15] [--threads 1]
        [--only mlp_train,velocity,dopri5,unet_train,inception,adm_forward,frechet]

It times, with the same model, batch and optimizer as fmbench (plugins/models/mlp.ts default
preset, plugins/models/unet.ts `small`, Adam, the cfm loss on the cond-ot path):

  mlp_train   one Adam step of the MLP 3x256 on the cfm loss at batch 256
  velocity    one velocity evaluation of that MLP at batch 2,000 (no gradient)
  dopri5      dopri5 sampling of 2,000 points from t = 0 to 1 at rtol = atol = 1e-5
  unet_train  one Adam step of the U-Net `small` (2,245,763 parameters) at batch 32

  inception   pytorch-fid's FID Inception forward, batch 16 of 32x32 upsampled to 299x299
              (bench/inception_torch.py; needs python3-torchvision)
  adm_forward TorchCFM's ADM U-Net (128 channels, its CIFAR-10 configuration) forward at batch
              16 (bench/adm_unet_torch.py; needs TorchCFM's source on PYTHONPATH, else skipped)
  frechet     pytorch-fid's Frechet distance by SciPy's sqrtm on --frechet-input FILE
              (bench/frechet-input.ts's file; bench/frechet_scipy.py's computation)

and prints one JSON object per line: {"name", "ms" (median), "reps", ...}. The MLP weights of the
dopri5 field come from `det_weights` (the same integer LCG as core/rng.ts lcgUniform, used by bench/four.ts), so both sides
integrate the same field and take the same number of steps. dopri5 here mirrors
plugins/solvers/dopri5.ts (Hairer's initial step, RMS error norm over all elements, FSAL,
safety 0.9, factors 0.2..10); `--torchdiffeq` uses torchdiffeq's odeint instead if it is on
PYTHONPATH. This is a benchmark, not a test dependency.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

# --threads N (default 1) everywhere: torch.set_num_threads(1) alone leaves the convolutions
# (oneDNN through OpenMP) on two threads here (measured: U-Net step 0.84 s wall, 1.54 s CPU), and
# NumPy/SciPy's OpenBLAS reads its own variable. These must be set before torch is imported.
THREADS = 1
for _i, _a in enumerate(sys.argv):
    if _a == "--threads" and _i + 1 < len(sys.argv):
        THREADS = int(sys.argv[_i + 1])
    elif _a.startswith("--threads="):
        THREADS = int(_a.split("=", 1)[1])
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(THREADS)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass

SIGMA_MIN = 1e-4  # plugins/paths/cond-ot.ts


# ---------------------------------------------------------------------------------------------
# Deterministic weights shared with bench/micro.ts: an LCG over 32-bit integers.


def det_uniform(n, seed):
    """n values in [-1, 1) from s <- 1664525 s + 1013904223 (mod 2^32), as bench/micro.ts."""
    s = seed & 0xFFFFFFFF
    out = []
    for _ in range(n):
        s = (1664525 * s + 1013904223) & 0xFFFFFFFF
        out.append(2.0 * (s / 4294967296.0) - 1.0)
    return out


# ---------------------------------------------------------------------------------------------
# MLP (plugins/models/mlp.ts, preset default): [x, t] -> 3 x (256, SiLU) -> dim.


class Mlp(nn.Module):
    def __init__(self, dim=2, hidden=256, layers=3):
        super().__init__()
        sizes = [dim + 1] + [hidden] * layers + [dim]
        self.lins = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for lin in self.lins:  # Glorot-uniform weights, zero biases, as fmbench
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, x, t):
        h = torch.cat([x, t[:, None]], 1)
        for i, lin in enumerate(self.lins):
            h = lin(h)
            if i + 1 < len(self.lins):
                h = F.silu(h)
        return h

    def set_det_weights(self, gain, out_gain):
        """Weights g * sqrt(6 / (fan_in + fan_out)) * det_uniform with g = gain for the hidden
        layers and out_gain for the output layer; biases 0.1 * det_uniform (as bench/four.ts)."""
        with torch.no_grad():
            for i, lin in enumerate(self.lins):
                fin, fout = lin.in_features, lin.out_features
                g = out_gain if i + 1 == len(self.lins) else gain
                lim = g * math.sqrt(6.0 / (fin + fout))
                w = torch.tensor(det_uniform(fin * fout, 1000 + i), dtype=torch.float32)
                # fmbench stores W as [in, out] (row-major); torch's Linear holds its transpose.
                lin.weight.copy_(w.reshape(fin, fout).t() * lim)
                lin.bias.copy_(torch.tensor(det_uniform(fout, 2000 + i)) * 0.1)


def cfm_loss(model, x0, x1, t):
    """The cfm loss on the cond-ot path (plugins/losses/cfm.ts, plugins/paths/cond-ot.ts)."""
    tc = t.reshape([-1] + [1] * (x1.dim() - 1))
    xt = tc * x1 + (1 - (1 - SIGMA_MIN) * tc) * x0
    ut = x1 - (1 - SIGMA_MIN) * x0
    return ((model(xt, t) - ut) ** 2).mean()


# ---------------------------------------------------------------------------------------------
# U-Net (plugins/models/unet.ts and _unet/*.ts), NCHW here, same layers and parameter count.


class GroupNorm(nn.GroupNorm):
    def __init__(self, channels, groups):
        super().__init__(groups, channels, eps=1e-6)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb_dim, groups, dropout):
        super().__init__()
        self.norm1 = GroupNorm(cin, groups)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb_dim, cout)
        self.norm2 = GroupNorm(cout, groups)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (self.skip(x) if self.skip is not None else x) + h


class AttnBlock(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.norm = GroupNorm(c, groups)
        self.q, self.k, self.v, self.proj = (nn.Linear(c, c) for _ in range(4))

    def forward(self, x):
        b, c, hh, ww = x.shape
        hn = self.norm(x).reshape(b, c, hh * ww).transpose(1, 2)  # [b, n, c]
        q, k, v = self.q(hn), self.k(hn), self.v(hn)
        w = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), dim=-1)
        out = self.proj(w @ v).transpose(1, 2).reshape(b, c, hh, ww)
        return x + out


class UNet(nn.Module):
    """Preset small: ch 32, mult (1, 2, 2, 2), 2 res blocks, attention at 16x16, dropout 0.1."""

    def __init__(self, ch=32, mult=(1, 2, 2, 2), num_res=2, attn_res=(16,), dropout=0.1,
                 groups=8, size=32, c_data=3):
        super().__init__()
        self.ch = ch
        temb_dim = ch * 4
        self.temb1 = nn.Linear(ch, temb_dim)
        self.temb2 = nn.Linear(temb_dim, temb_dim)
        self.conv_in = nn.Conv2d(c_data, ch, 3, padding=1)
        self.down = nn.ModuleList()
        skips = [ch]
        c, res = ch, size
        for level, m in enumerate(mult):
            for _ in range(num_res):
                blk = nn.ModuleList([ResBlock(c, ch * m, temb_dim, groups, dropout)])
                c = ch * m
                if res in attn_res:
                    blk.append(AttnBlock(c, groups))
                self.down.append(blk)
                skips.append(c)
            if level < len(mult) - 1:
                self.down.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                skips.append(c)
                res //= 2
        self.mid = nn.ModuleList([
            ResBlock(c, c, temb_dim, groups, dropout),
            AttnBlock(c, groups),
            ResBlock(c, c, temb_dim, groups, dropout),
        ])
        self.up = nn.ModuleList()
        for level in reversed(range(len(mult))):
            cout = ch * mult[level]
            for _ in range(num_res + 1):
                blk = nn.ModuleList([ResBlock(c + skips.pop(), cout, temb_dim, groups, dropout)])
                c = cout
                if res in attn_res:
                    blk.append(AttnBlock(c, groups))
                self.up.append(blk)
            if level > 0:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                             nn.Conv2d(c, c, 3, padding=1)))
                res *= 2
        self.norm_out = GroupNorm(c, groups)
        self.conv_out = nn.Conv2d(c, c_data, 3, padding=1)

    def time_embedding(self, t, scale=1000.0):
        half = self.ch // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / (half - 1))
        args = (t[:, None] * scale) * freqs[None]
        return torch.cat([torch.sin(args), torch.cos(args)], 1)

    def forward(self, x, t):
        temb = self.temb2(F.silu(self.temb1(self.time_embedding(t))))
        h = self.conv_in(x)
        hs = [h]
        for s in self.down:
            if isinstance(s, nn.ModuleList):
                h = s[0](h, temb)
                if len(s) > 1:
                    h = s[1](h)
            else:
                h = s(h)
            hs.append(h)
        h = self.mid[0](h, temb)
        h = self.mid[1](h)
        h = self.mid[2](h, temb)
        for s in self.up:
            if isinstance(s, nn.ModuleList):
                h = s[0](torch.cat([h, hs.pop()], 1), temb)
                if len(s) > 1:
                    h = s[1](h)
            else:
                h = s(h)
        return self.conv_out(F.silu(self.norm_out(h)))


# ---------------------------------------------------------------------------------------------
# dopri5, mirroring plugins/solvers/dopri5.ts.

A = [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
]
C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1]
B5 = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]
E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40]


def _combine(y, h, w, ks):
    out = y
    for wj, k in zip(w, ks):
        if wj != 0:
            out = out + (h * wj) * k
    return out


def _rms(x):
    return math.sqrt(float((x.double() ** 2).mean()))


def dopri5(f, y0, t0=0.0, t1=1.0, rtol=1e-5, atol=1e-5):
    """Returns (y, nfe). Same step control as fmbench's dopri5."""
    nfe = [0]

    def fc(y, t):
        nfe[0] += 1
        return f(y, t)

    span = abs(t1 - t0)
    y = y0
    k1 = fc(y, t0)
    scale = y.abs() * rtol + atol
    d0, d1 = _rms(y / scale), _rms(k1 / scale)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, span)
    f1 = fc(y + h0 * k1, t0 + h0)
    d2 = _rms((f1 - k1) / scale) / h0
    m = max(d1, d2)
    h1 = max(1e-6, h0 * 1e-3) if m <= 1e-15 else (0.01 / m) ** (1 / 5)
    h = min(100 * h0, h1, span)
    t, last_rejected = t0, False
    while t1 - t > 0:
        hs, last = h, False
        if t + hs - t1 >= -1e-10 * h:
            hs, last = t1 - t, True
        ks = [k1]
        for j in range(1, 6):
            ks.append(fc(_combine(y, hs, A[j], ks), t + C[j] * hs))
        y_new = _combine(y, hs, B5, ks)
        k7 = fc(y_new, t + hs)
        err = _combine(torch.zeros_like(y), hs, E, ks + [k7])
        sc = torch.maximum(y.abs(), y_new.abs()) * rtol + atol
        norm = _rms(err / sc)
        if norm <= 1:
            t = t1 if last else t + hs
            y, k1 = y_new, k7
            factor = 10.0 if norm == 0 else min(10.0, 0.9 * norm ** (-1 / 5))
            if last_rejected:
                factor = min(1.0, factor)
            h = abs(hs) * max(factor, 0.2)
            last_rejected = False
        else:
            h = abs(hs) * max(0.2, 0.9 * norm ** (-1 / 5))
            last_rejected = True
    return y, nfe[0]


# ---------------------------------------------------------------------------------------------
# Timing.


def median_ms(fn, reps, warmup=2):
    """Median wall and CPU milliseconds (process time, all threads) over reps, and the lists."""
    for _ in range(warmup):
        fn()
    ms, cpu = [], []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(ms), ms, statistics.median(cpu), cpu


def det_normal(n, seed):
    """Roughly normal deterministic values: the sum of 4 uniforms, scaled to unit variance."""
    u = [det_uniform(n, seed + k) for k in range(4)]
    return [math.sqrt(3) / 2 * sum(col) for col in zip(*u)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--unet-reps", type=int, default=5)
    ap.add_argument("--only", default="mlp_train,velocity,dopri5,unet_train")
    ap.add_argument("--gain", type=float, default=5.0,
                    help="scale of the dopri5 field's hidden weights (as bench/four.ts)")
    ap.add_argument("--out-gain", type=float, default=0.5,
                    help="scale of the dopri5 field's output weights (as bench/four.ts)")
    ap.add_argument("--torchdiffeq", action="store_true",
                    help="time torchdiffeq.odeint(method='dopri5') as well")
    ap.add_argument("--threads", type=int, default=1, help="threads (set before torch loads)")
    ap.add_argument("--heavy-reps", type=int, default=3,
                    help="repetitions of inception, adm_forward and frechet")
    ap.add_argument("--frechet-input", help="bench/frechet-input.ts's file (for frechet)")
    a = ap.parse_args()
    only = set(a.only.split(","))
    torch.manual_seed(0)
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads()}

    def emit(name, r, **extra):
        ms, all_ms, cpu, all_cpu = r
        print(json.dumps({"side": "torch", "name": name, "ms": ms, "cpuMs": cpu,
                          "reps": len(all_ms), "all": [round(x, 3) for x in all_ms],
                          "cpuAll": [round(x, 3) for x in all_cpu], **meta, **extra}), flush=True)

    if "mlp_train" in only:
        model = Mlp()
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        x1, x0, t = torch.randn(256, 2), torch.randn(256, 2), torch.rand(256)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = cfm_loss(model, x0, x1, t)
            loss.backward()
            opt.step()
            return float(loss)  # fmbench's micro step reads the loss back, too

        emit("mlp_train", median_ms(step, a.reps), batch=256)

    if "velocity" in only or "dopri5" in only:
        model = Mlp()
        model.set_det_weights(a.gain, a.out_gain)
        x = torch.tensor(det_normal(4000, 7), dtype=torch.float32).reshape(2000, 2)

        @torch.no_grad()
        def vf(y, tt):
            return model(y, torch.full((y.shape[0],), float(tt)))

        if "velocity" in only:
            emit("velocity", median_ms(lambda: vf(x, 0.5), a.reps), batch=2000)
        if "dopri5" in only:
            y, nfe = dopri5(vf, x)
            r = median_ms(lambda: dopri5(vf, x), max(3, a.reps // 3), warmup=1)
            emit("dopri5", r, batch=2000, nfe=nfe, rtol=1e-5, atol=1e-5,
                 mean_abs=float(y.abs().mean()))
            if a.torchdiffeq:
                from torchdiffeq import odeint  # from PYTHONPATH, see the module docstring

                calls = [0]

                def fode(tt, y):
                    calls[0] += 1
                    return vf(y, tt)

                ts = torch.tensor([0.0, 1.0])
                r = median_ms(
                    lambda: odeint(fode, x, ts, rtol=1e-5, atol=1e-5, method="dopri5"),
                    max(3, a.reps // 3), warmup=1)
                n_runs = max(3, a.reps // 3) + 1
                emit("dopri5_torchdiffeq", r, batch=2000, nfe=calls[0] // n_runs)

    if "unet_train" in only:
        torch.manual_seed(0)
        model = UNet()
        n_params = sum(p.numel() for p in model.parameters())
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        x1 = torch.rand(32, 3, 32, 32) * 2 - 1
        x0, t = torch.randn(32, 3, 32, 32), torch.rand(32)
        model.train()

        def ustep():
            opt.zero_grad(set_to_none=True)
            loss = cfm_loss(model, x0, x1, t)
            loss.backward()
            opt.step()
            return float(loss)

        emit("unet_train", median_ms(ustep, a.unet_reps, warmup=1), batch=32, params=n_params)

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    if "inception" in only:
        from inception_torch import time_inception

        emit("inception", time_inception(16, a.heavy_reps), batch=16)

    if "adm_forward" in only:
        try:
            from adm_unet_torch import inputs, make_model
        except ImportError as e:  # TorchCFM's source not on PYTHONPATH
            print(json.dumps({"side": "torch", "name": "adm_forward", "skipped": str(e)}),
                  flush=True)
        else:
            model = make_model("torchcfm").eval()
            x, t, _ = inputs("torchcfm", 16, torch.Generator().manual_seed(0))

            @torch.no_grad()
            def fwd():
                model(t, x)

            emit("adm_forward", median_ms(fwd, a.heavy_reps, warmup=1), batch=16,
                 params=sum(p.numel() for p in model.parameters()))

    if "frechet" in only:
        import numpy as np
        import scipy
        from frechet_scipy import frechet

        raw = np.fromfile(a.frechet_input, dtype="<f8")
        d = int(round(((2 * raw.size + 1) ** 0.5 - 1) / 2))
        mu1, mu2 = raw[:d], raw[d:2 * d]
        s1 = raw[2 * d:2 * d + d * d].reshape(d, d)
        s2 = raw[2 * d + d * d:].reshape(d, d)
        out = {}

        def fr():
            out["fid"] = frechet(mu1, s1, mu2, s2)[0]

        r = median_ms(fr, a.heavy_reps, warmup=1)
        emit("frechet", r, dim=d, fid=out["fid"], scipy=scipy.__version__)


if __name__ == "__main__":
    sys.exit(main())
