# Reference for bench/sinkhorn-pot.ts: POT's (Python Optimal Transport) entropic and exact
# transport on the same 2-D points. Per case: the debiased Sinkhorn divergence
# S = OT(a, b) - (OT(a, a) + OT(b, b)) / 2, each OT the KL-regularised entropic cost
# <P, C> + eps KL(P | a x b) of POT's log-domain Sinkhorn plan (ot.sinkhorn, method
# "sinkhorn_log") for C = |x - y|^2, eps = blur^2; and the exact W2^2 by ot.emd2.
#
#   /usr/bin/python3 bench/sinkhorn_pot.py < cases.json   (prints one JSON line)
#   cases.json: [{"name", "a": [x0, y0, x1, ...], "b": [...], "blur" (or null: exact only),
#                 "emd": bool}]
import json
import sys
import time

import numpy as np
import ot


def entropic(x, y, eps):
    a = np.full(len(x), 1 / len(x))
    b = np.full(len(y), 1 / len(y))
    cost = ot.dist(x, y)  # squared Euclidean
    plan, log = ot.sinkhorn(
        a, b, cost, eps, method="sinkhorn_log", numItermax=20000, stopThr=1e-9, log=True
    )
    nz = plan > 0
    kl = np.sum(plan[nz] * np.log(plan[nz] / np.outer(a, b)[nz]))
    return float(np.sum(plan * cost) + eps * kl), int(log["niter"]), float(log["err"][-1])


def main():
    out = []
    for case in json.load(sys.stdin):
        x = np.array(case["a"], dtype=np.float64).reshape(-1, 2)
        y = np.array(case["b"], dtype=np.float64).reshape(-1, 2)
        row = {"name": case["name"]}
        if case.get("blur"):
            eps = case["blur"] ** 2
            t0 = time.process_time()
            ab, it_ab, e_ab = entropic(x, y, eps)
            aa, it_aa, e_aa = entropic(x, x, eps)
            bb, it_bb, e_bb = entropic(y, y, eps)
            row["divergence"] = ab - 0.5 * (aa + bb)
            row["iterations"] = [it_ab, it_aa, it_bb]
            # POT's last marginal violation (L2) of each plan: the self plans converge slowly.
            row["marginalError"] = max(e_ab, e_aa, e_bb)
            row["seconds"] = time.process_time() - t0
        if case.get("emd"):
            t0 = time.process_time()
            w = np.full(len(x), 1 / len(x))
            v = np.full(len(y), 1 / len(y))
            row["w2"] = float(np.sqrt(ot.emd2(w, v, ot.dist(x, y), numItermax=10**8)))
            row["emdSeconds"] = time.process_time() - t0
        out.append(row)
    print(json.dumps({"pot": ot.__version__, "cases": out}))


if __name__ == "__main__":
    main()
