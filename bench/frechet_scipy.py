# Bench reference for `deno task bench:micro --fid`: pytorch-fid's Frechet distance (the matrix
# square root of S1 S2 by scipy.linalg.sqrtm, an eps * I offset when it is not finite, the real
# part's trace), timed on the covariances bench/frechet.ts sends. Prints one JSON line.
#
#   /usr/bin/python3 bench/frechet_scipy.py D < inputs   (stdin: mu1, mu2, s1, s2, raw LE float64)
import json
import sys
import time

import numpy as np
import scipy
import scipy.linalg


def frechet(mu1, s1, mu2, s2, eps=1e-6):
    diff = mu1 - mu2
    root, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(root).all():
        offset = np.eye(s1.shape[0]) * eps
        root = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(root):
        root = root.real
    tr = float(np.trace(root))
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * tr), tr


def main():
    d = int(sys.argv[1])
    raw = np.frombuffer(sys.stdin.buffer.read(), dtype="<f8")
    if raw.size != 2 * d + 2 * d * d:
        sys.exit(f"expected {2 * d + 2 * d * d} float64 values on stdin, got {raw.size}")
    mu1, mu2 = raw[:d], raw[d:2 * d]
    s1 = raw[2 * d:2 * d + d * d].reshape(d, d)
    s2 = raw[2 * d + d * d:].reshape(d, d)
    t0 = time.perf_counter()
    fid, tr = frechet(mu1, s1, mu2, s2)
    seconds = time.perf_counter() - t0
    print(json.dumps({"fid": fid, "traceSqrt": tr, "seconds": seconds,
                      "scipy": scipy.__version__, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
