# Reference values for precision/recall, density/coverage and Inception Score from the public
# implementations themselves (torch-fidelity's metric_prc and metric_isc, clovaai/prdc), on
# seeded feature sets, for tests/sample_metrics_test.ts and bench/sample_metrics.ts.
#
#   /usr/bin/python3 bench/metrics_reference.py fixture TORCH_FIDELITY_DIR PRDC_DIR OUT.safetensors
#       small sets; writes features, logits and the reference values (in __metadata__)
#   /usr/bin/python3 bench/metrics_reference.py large TORCH_FIDELITY_DIR PRDC_DIR OUT.safetensors N D
#       n = N rows per set of dimension D (e.g. 10000 2048), the same layout, for the timing bench
#
# TORCH_FIDELITY_DIR and PRDC_DIR are checkouts of github.com/toshas/torch-fidelity and
# github.com/clovaai/generative-evaluation-prdc (put on sys.path; nothing is installed). If tqdm
# is missing (torch-fidelity imports it for progress bars only), a no-op stand-in is used.
import json
import os
import struct
import sys
import tempfile
import time

import numpy as np
import torch


def import_references(tf_dir, prdc_dir):
    sys.path[:0] = [tf_dir, prdc_dir]
    try:
        import tqdm  # noqa: F401
    except ImportError:
        shim = tempfile.mkdtemp()
        with open(os.path.join(shim, "tqdm.py"), "w") as f:
            f.write("def tqdm(it=None, *a, **k):\n    return it\n")
        sys.path.insert(0, shim)
    from torch_fidelity.metric_isc import isc_features_to_metric
    from torch_fidelity.metric_prc import prc_features_to_metric
    from prdc import compute_prdc
    return prc_features_to_metric, isc_features_to_metric, compute_prdc


def feature_sets(n_ref, n_gen, d, seed):
    """ReLU'd low-rank features like pool3's: the generated set narrower and shifted."""
    rng = np.random.RandomState(seed)
    rank = 16
    w = rng.randn(rank, d) / np.sqrt(rank)
    b = 0.2 * rng.randn(d)
    ref = np.maximum(rng.randn(n_ref, rank) @ w + b, 0)
    gen = np.maximum(0.8 * rng.randn(n_gen, rank) @ w + b + 0.15 * rng.randn(d), 0)
    gen += 0.05 * np.abs(rng.randn(n_gen, d))
    return ref.astype(np.float32), gen.astype(np.float32)


def logits_set(n, classes, seed):
    rng = np.random.RandomState(seed)
    centres = 3 * rng.randn(12, classes)
    return (centres[rng.randint(0, 12, n)] + rng.randn(n, classes)).astype(np.float32)


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        raw = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def references(prc, isc, prdc, ref, gen, logits):
    out = {}
    t0 = time.perf_counter()
    # torch-fidelity: features_1 = generated, features_2 = real; float32 as it runs, and float64.
    r = prc(torch.from_numpy(gen), torch.from_numpy(ref), verbose=False)
    out["tf_seconds"] = time.perf_counter() - t0
    out["tf_precision"], out["tf_recall"] = r["precision"], r["recall"]
    r = prc(torch.from_numpy(gen).double(), torch.from_numpy(ref).double(), verbose=False)
    out["tf64_precision"], out["tf64_recall"] = r["precision"], r["recall"]
    t0 = time.perf_counter()
    sys.stdout, saved = open(os.devnull, "w"), sys.stdout  # compute_prdc prints the counts
    try:
        p = prdc(real_features=ref, fake_features=gen, nearest_k=5)
    finally:
        sys.stdout.close()
        sys.stdout = saved
    out["prdc_seconds"] = time.perf_counter() - t0
    for key in ("precision", "recall", "density", "coverage"):
        out["prdc_" + key] = float(p[key])
    if logits is not None:
        s = isc(torch.from_numpy(logits), splits=10, shuffle=True, rng_seed=2020)
        out["isc_mean"], out["isc_std"] = s["inception_score_mean"], s["inception_score_std"]
        s = isc(torch.from_numpy(logits[:97]), splits=10, shuffle=True, rng_seed=2020)
        out["isc97_mean"], out["isc97_std"] = s["inception_score_mean"], s["inception_score_std"]
        s = isc(torch.from_numpy(logits), splits=3, shuffle=False)
        out["isc_noshuffle3_mean"] = s["inception_score_mean"]
        out["isc_noshuffle3_std"] = s["inception_score_std"]
    return out


def main():
    mode, tf_dir, prdc_dir, out_path = sys.argv[1:5]
    prc, isc, prdc = import_references(tf_dir, prdc_dir)
    if mode == "fixture":
        ref, gen = feature_sets(300, 260, 64, seed=1)
        logits = logits_set(130, 1008, seed=2)
    elif mode == "large":
        n, d = int(sys.argv[5]), int(sys.argv[6])
        ref, gen = feature_sets(n, n, d, seed=3)
        logits = None
    else:
        sys.exit(f"unknown mode {mode!r}: fixture or large")
    values = references(prc, isc, prdc, ref, gen, logits)
    meta = {"values": json.dumps(values), "torch": torch.__version__, "numpy": np.__version__,
            "script": "bench/metrics_reference.py " + mode}
    tensors = {"reference": ref, "generated": gen}
    if logits is not None:
        tensors["logits"] = logits
    write_safetensors(out_path, tensors, meta)
    print(json.dumps(values))


if __name__ == "__main__":
    main()
