"""PyTorch side of the FID Inception timing (bench/torch_reference.py --only inception, and
bench/inception_micro.ts's comparison): pytorch-fid's FID Inception-v3 (torchvision's Inception3
patched as features/inception/torch_golden.py builds it: BasicConv2d = conv, BatchNorm, ReLU in
eval mode, as pytorch-fid runs it), forward on B images of 32x32 upsampled to 299x299 (bilinear,
align_corners=False), no gradient. Needs Debian's python3-torch and python3-torchvision.

    /usr/bin/python3 bench/inception_torch.py [--batch 16] [--reps 3] [--threads 1]

prints one JSON line: {"name": "inception", "ms", "cpuMs", "all", "cpuAll", "batch", ...}.
"""
import argparse
import json
import os
import statistics
import sys
import time


def time_inception(batch, reps, warmup=1):
    """Median wall and CPU ms of one forward pass of `batch` images, and the lists."""
    import torch

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "features",
                                    "inception"))
    from torch_golden import build, features  # noqa: E402 (the FID network, dev-only module)

    torch.manual_seed(0)
    net = build()
    with torch.no_grad():
        for m in net.modules():  # running statistics as trained networks have them
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    x = torch.rand(batch, 3, 32, 32)
    ms, cpu = [], []
    with torch.no_grad():
        for _ in range(warmup):
            features(net, x)
        for _ in range(reps):
            c0, t0 = time.process_time(), time.perf_counter()
            features(net, x)
            ms.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(ms), ms, statistics.median(cpu), cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    import torch

    torch.set_num_threads(a.threads)
    ms, all_ms, c, all_c = time_inception(a.batch, a.reps)
    print(json.dumps({"side": "torch", "name": "inception", "ms": ms, "cpuMs": c,
                      "reps": len(all_ms), "all": [round(v, 3) for v in all_ms],
                      "cpuAll": [round(v, 3) for v in all_c], "batch": a.batch,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
