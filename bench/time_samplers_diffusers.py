# Records diffusers' SD3 training-time samplers (compute_density_for_timestep_sampling in
# src/diffusers/training_utils.py) for bench/time_samplers_diffusers.ts to compare fmbench's with.
#
#   /usr/bin/python3 bench/time_samplers_diffusers.py TRAINING_UTILS_PY OUT_JSON
#
# TRAINING_UTILS_PY is diffusers' file from a checkout of huggingface/diffusers (read here, never
# copied into fmbench): only the one function is taken from it (by its syntax tree) and run with
# torch, so no other diffusers dependency is needed. For each scheme and seed it writes the base
# draws torch makes from that seed (normals for logit_normal, uniforms for mode and the uniform
# fallback), checks that diffusers' output is exactly its transform of those draws, and writes
# both; and, from a separate seed, percentiles of a large sample, to compare distributions.
import ast
import json
import math
import sys

import torch

CASES = [
    ("logit_normal", {"logit_mean": 0.0, "logit_std": 1.0}),
    ("logit_normal", {"logit_mean": 0.5, "logit_std": 0.6}),
    ("logit_normal", {"logit_mean": -1.0, "logit_std": 1.5}),
    ("mode", {"mode_scale": 1.29}),
    ("mode", {"mode_scale": -0.5}),
    ("none", {}),
]
SEEDS = [0, 1, 2]
N_SAME = 200  # draws per seed, compared one by one
N_DIST = 200_000  # draws per case for the percentiles
DIST_SEED = 1234
PROBS = [i / 100 for i in range(1, 100)]


def load(path):
    src = open(path).read()
    tree = ast.parse(src)
    fn = next(
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and n.name == "compute_density_for_timestep_sampling"
    )
    ns = {"torch": torch, "math": math}
    exec("from __future__ import annotations\n" + ast.get_source_segment(src, fn), ns)
    return ns["compute_density_for_timestep_sampling"]


def base_draws(scheme, n, seed):
    g = torch.Generator().manual_seed(seed)
    if scheme == "logit_normal":
        return torch.normal(mean=0.0, std=1.0, size=(n,), generator=g)
    return torch.rand(size=(n,), generator=g)


def transform(scheme, params, base):
    """What diffusers' function computes from its base draws (checked against it below)."""
    if scheme == "logit_normal":
        return torch.sigmoid(params["logit_mean"] + params["logit_std"] * base)
    if scheme == "mode":
        s = params["mode_scale"]
        return 1 - base - s * (torch.cos(math.pi * base / 2) ** 2 - 1 + base)
    return base


def main():
    compute = load(sys.argv[1])
    cases = []
    for scheme, params in CASES:
        seeds = []
        for seed in SEEDS:
            g = torch.Generator().manual_seed(seed)
            ref = compute(scheme, N_SAME, generator=g, **params)
            base = base_draws(scheme, N_SAME, seed)
            gap = (ref - transform(scheme, params, base)).abs().max().item()
            assert gap < 1e-6, f"{scheme} {params} seed {seed}: not the same base draws ({gap})"
            seeds.append({"seed": seed, "base": base.tolist(), "diffusers": ref.tolist()})
        g = torch.Generator().manual_seed(DIST_SEED)
        big = compute(scheme, N_DIST, generator=g, **params).double()
        pct = torch.quantile(big, torch.tensor(PROBS, dtype=torch.float64)).tolist()
        cases.append(
            {
                "scheme": scheme,
                "params": params,
                "seeds": seeds,
                "percentiles": {"n": N_DIST, "seed": DIST_SEED, "probs": PROBS, "values": pct},
            }
        )
    out = {"torch": torch.__version__, "cases": cases}
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
