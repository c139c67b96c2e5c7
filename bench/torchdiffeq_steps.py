#!/usr/bin/env python3
"""Record torchdiffeq's step sequences (dopri5 or bosh3) on analytic fields, once, as a fixture.

The fixtures (tests/fixtures/torchdiffeq-<method>-steps.json) pin fmbench's adaptive solver with
torchdiffeq's controller (`dopri5-torchdiffeq`; the bosh3 tableau with that controller) to the
reference implementation: every trial step (start time, signed size, accepted or not), the number
of function evaluations and the final state.

torchdiffeq is not on PyPI here; fetch rtqichen/torchdiffeq and put it on PYTHONPATH:

    git --git-dir=<mirror of rtqichen/torchdiffeq> archive HEAD torchdiffeq | tar -x -C /tmp/tdq
    PYTHONPATH=/tmp/tdq /usr/bin/python3 bench/torchdiffeq_steps.py > tests/fixtures/torchdiffeq-dopri5-steps.json
    PYTHONPATH=/tmp/tdq /usr/bin/python3 bench/torchdiffeq_steps.py bosh3 > tests/fixtures/torchdiffeq-bosh3-steps.json

The fields must match FIELDS in tests/torchdiffeq_test.ts. The state is float64 so that the
recording is free of float32 round-off; times are float64 in torchdiffeq either way.
"""
import json
import math
import subprocess
import sys

import torch
import torchdiffeq

LAM, W = -0.5, 2.0


def rotation(t, y):
    # dy/dt = A y per row, A = [[LAM, -W], [W, LAM]]
    return torch.stack([LAM * y[:, 0] - W * y[:, 1], W * y[:, 0] + LAM * y[:, 1]], dim=1)


def cubic(t, y):
    return torch.cos(6.0 * t) * y + 0.3 * y ** 3


def relax(t, y):
    return -30.0 * (y - torch.sin(8.0 * t))


CASES = [
    ("rotation", rotation, [[1.0, 0.0], [0.3, -0.8], [-0.6, 0.5]], 0.0, 1.5, 1e-5, 1e-5),
    ("rotation", rotation, [[1.0, 0.0], [0.3, -0.8], [-0.6, 0.5]], 0.0, 1.5, 1e-3, 1e-3),
    ("cubic", cubic, [[0.5, -1.2, 2.0]], 1.0, 0.0, 1e-5, 1e-5),
    ("relax", relax, [[2.0, -1.0]], 0.0, 2.0, 1e-4, 1e-4),
]


class Recorder(torch.nn.Module):
    """The field with torchdiffeq's step callbacks; counts evaluations."""

    def __init__(self, f, sign):
        super().__init__()
        self.f, self.sign, self.nfe, self.steps = f, sign, 0, []

    def forward(self, t, y):
        self.nfe += 1
        return self.f(t, y)

    # For t1 < t0 torchdiffeq integrates in -t: it un-negates t0 for callbacks but not dt.
    def callback_accept_step(self, t0, y0, dt):
        self.steps.append({"t": float(t0), "h": self.sign * float(dt), "accepted": True})

    def callback_reject_step(self, t0, y0, dt):
        self.steps.append({"t": float(t0), "h": self.sign * float(dt), "accepted": False})


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else "dopri5"
    if method not in ("dopri5", "bosh3"):
        sys.exit(f"torchdiffeq_steps.py: method must be dopri5 or bosh3, got {method!r}")
    out = []
    for name, f, y0, t0, t1, rtol, atol in CASES:
        rec = Recorder(f, 1.0 if t1 > t0 else -1.0)
        y = torch.tensor(y0, dtype=torch.float64)
        ts = torch.tensor([t0, t1], dtype=torch.float64)
        sol = torchdiffeq.odeint(rec, y, ts, rtol=rtol, atol=atol, method=method)
        out.append({
            "field": name, "y0": y0, "t0": t0, "t1": t1, "rtol": rtol, "atol": atol,
            "nfe": rec.nfe, "steps": rec.steps, "y1": sol[-1].tolist(),
        })
    try:
        commit = subprocess.run(["git", "-C", torchdiffeq.__path__[0], "rev-parse", "HEAD"],
                                capture_output=True, text=True).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    json.dump({
        "source": f"rtqichen/torchdiffeq odeint(method='{method}'), float64 state",
        "torchdiffeq": getattr(torchdiffeq, "__version__", "unknown"),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "cases": out,
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
