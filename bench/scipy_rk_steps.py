#!/usr/bin/env python3
"""Record SciPy's RK45 and RK23 (solve_ivp) on analytic fields, once, as a test fixture.

The fixture (tests/fixtures/scipy-rk-steps.json) pins fmbench's adaptive solver with Hairer's
controller to SciPy's: `dopri5` against RK45 and `bosh3` against RK23 (same tableaux, error
weights and step rule): the number of function evaluations, the accepted step times and the
final state. The fields and cases are those of bench/torchdiffeq_steps.py (float64 state).

    /usr/bin/python3 bench/scipy_rk_steps.py > tests/fixtures/scipy-rk-steps.json
"""
import json
import sys

import numpy as np
import scipy
from scipy.integrate import solve_ivp

LAM, W = -0.5, 2.0


def rotation(t, y):
    # dy/dt = A y per row, A = [[LAM, -W], [W, LAM]]; the state is the flattened rows.
    y = y.reshape(-1, 2)
    return np.stack([LAM * y[:, 0] - W * y[:, 1], W * y[:, 0] + LAM * y[:, 1]], axis=1).ravel()


def cubic(t, y):
    return np.cos(6.0 * t) * y + 0.3 * y ** 3


def relax(t, y):
    return -30.0 * (y - np.sin(8.0 * t))


FIELDS = {"rotation": rotation, "cubic": cubic, "relax": relax}
CASES = [
    ("rotation", [[1.0, 0.0], [0.3, -0.8], [-0.6, 0.5]], 0.0, 1.5, 1e-5, 1e-5),
    ("rotation", [[1.0, 0.0], [0.3, -0.8], [-0.6, 0.5]], 0.0, 1.5, 1e-3, 1e-3),
    ("cubic", [[0.5, -1.2, 2.0]], 1.0, 0.0, 1e-5, 1e-5),
    ("relax", [[2.0, -1.0]], 0.0, 2.0, 1e-4, 1e-4),
]
# fmbench solver -> SciPy method with the same pair and controller.
METHODS = {"dopri5": "RK45", "bosh3": "RK23"}


def main():
    out = []
    for solver, method in METHODS.items():
        for name, y0, t0, t1, rtol, atol in CASES:
            y = np.array(y0, dtype=np.float64)
            r = solve_ivp(FIELDS[name], (t0, t1), y.ravel(), method=method, rtol=rtol, atol=atol)
            if r.status != 0:
                sys.exit(f"scipy_rk_steps.py: {method} failed on {name}: {r.message}")
            out.append({
                "solver": solver, "method": method, "field": name, "y0": y0, "t0": t0, "t1": t1,
                "rtol": rtol, "atol": atol, "nfe": int(r.nfev), "t": r.t.tolist(),
                "y1": r.y[:, -1].reshape(y.shape).tolist(),
            })
    json.dump({
        "source": "scipy.integrate.solve_ivp (RK45, RK23), float64 state",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "cases": out,
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
