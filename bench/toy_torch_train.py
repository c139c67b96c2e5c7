"""PyTorch reference for the toy2d converged recipe: fmbench's MLP (3 x 256, SiLU, input [x, t])
trained with TorchCFM's own matchers on the exact training points fmbench uses, saved as a state
dict that `deno task bench --checkpoint FILE --checkpoint-key net_model` evaluates with fmbench's
evaluator (so only the trainer differs).

Methods (fmbench label -> TorchCFM class):
  fm-ot   FM w/ OT -> TargetConditionalFlowMatcher(sigma=1e-4)  (Lipman et al.; fmbench's cond-ot)
  ot-cfm  OT-CFM   -> ExactOptimalTransportConditionalFlowMatcher(sigma=0)
  1-rf    1-RF     -> ConditionalFlowMatcher(sigma=0)  (I-CFM)
Recipe (fmbench's --budget converged): 20,000 steps, batch 256 drawn with replacement from the
20,000 training points, Adam lr 2e-3 (eps 1e-7 as tfjs) decayed linearly to 2e-5 at the last
step, no EMA, no clipping. PyTorch's default initialisation (as a TorchCFM user gets), or
fmbench's with --init glorot.

usage: PYTHONPATH=/path/to/TorchCFM python3 bench/toy_torch_train.py --train moons.f32 \
         --method ot-cfm --seed 0 --out ot-cfm.pt
       python3 bench/toy_torch_train.py --fixture tests/fixtures/mlp-torch-tiny.json
         (ToyMLP's mlp:tiny layout, 32 x 2, random weights, inputs and PyTorch's outputs, and the
         same weights torch.save'd beside it as .pt, for tests/mlp_state_dict_test.ts; needs no
         TorchCFM)
"""
import argparse
import json
import time

import numpy as np
import torch
from torch import nn


class ToyMLP(nn.Module):
    """fmbench's mlp:default in PyTorch: Linear/SiLU layers on [x, t] (state-dict keys net.N.*)."""

    def __init__(self, dim=2, hidden=256, layers=3):
        super().__init__()
        sizes = [dim + 1] + [hidden] * layers + [dim]
        mods = []
        for i in range(len(sizes) - 1):
            mods.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i + 2 < len(sizes):
                mods.append(nn.SiLU())
        self.net = nn.Sequential(*mods)

    def forward(self, x, t):
        return self.net(torch.cat([x, t[:, None]], dim=-1))


def matcher(method):
    from torchcfm import conditional_flow_matching as cfm

    return {
        "fm-ot": lambda: cfm.TargetConditionalFlowMatcher(sigma=1e-4),
        "ot-cfm": lambda: cfm.ExactOptimalTransportConditionalFlowMatcher(sigma=0.0),
        "1-rf": lambda: cfm.ConditionalFlowMatcher(sigma=0.0),
    }[method]()


def write_fixture(path):
    """mlp:tiny in PyTorch (seeded random weights, biases not zero), 5 inputs and its outputs."""
    torch.manual_seed(7)
    model = ToyMLP(hidden=32, layers=2)
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.5, 0.5)
        x = torch.randn(5, 2)
        t = torch.rand(5)
        y = model(x, t)
    fixture = {
        "source": "bench/toy_torch_train.py --fixture (torch " + torch.__version__ + ")",
        "state_dict": {
            k: {"shape": list(v.shape), "data": v.flatten().tolist()}
            for k, v in model.state_dict().items()
        },
        "x": x.flatten().tolist(),
        "t": t.tolist(),
        "y": y.flatten().tolist(),
    }
    with open(path, "w") as f:
        json.dump(fixture, f, indent=2)
        f.write("\n")
    # The same weights as torch.save writes them, for the --checkpoint end-to-end test.
    torch.save({"net_model": model.state_dict(), "step": 123}, path.replace(".json", ".pt"))
    print(f"{path} (and .pt): mlp:tiny state dict, 5 inputs and PyTorch's outputs")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", help="write the mlp:tiny parity fixture here and stop")
    ap.add_argument("--train", help="float32 x, y pairs (bench/toy_export.ts)")
    ap.add_argument("--method", choices=["1-rf", "fm-ot", "ot-cfm"])
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--end-lr", type=float, default=2e-5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--init",
        choices=["torch", "glorot"],
        default="torch",
        help="torch: PyTorch's default Linear init; glorot: fmbench's (Glorot-uniform, zero bias)",
    )
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.fixture:
        return write_fixture(a.fixture)
    if not (a.train and a.method and a.out):
        ap.error("--train, --method and --out are needed (or --fixture)")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)  # TorchCFM's OT plan sampler draws pairs with NumPy
    data = torch.from_numpy(np.fromfile(a.train, dtype=np.float32).reshape(-1, 2))
    model = ToyMLP()
    if a.init == "glorot":
        for m in model.net:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, eps=1e-7)
    # fmbench's polynomial decay (power 1): lr_k = end + (lr - end) (1 - k / steps).
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: (a.end_lr + (a.lr - a.end_lr) * (1 - k / a.steps)) / a.lr
    )
    fm = matcher(a.method)
    t0 = time.time()
    for k in range(a.steps):
        x1 = data[torch.randint(0, data.shape[0], (a.batch,))]
        x0 = torch.randn_like(x1)
        t, xt, ut = fm.sample_location_and_conditional_flow(x0, x1)
        loss = ((model(xt, t) - ut) ** 2).mean()  # fmbench's cfm loss: mean over every coordinate
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (k + 1) % 5000 == 0:
            print(f"{a.method} step {k + 1}/{a.steps} loss {loss.item():.4f} ({time.time() - t0:.0f} s)")
    torch.save({"net_model": model.state_dict(), "step": a.steps}, a.out)
    print(f"{a.out}: {a.method}, {a.steps} steps in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
