# Dev-only: PyTorch reference values for tests/inception_test.ts. Builds torchvision's Inception3
# patched into pytorch-fid's FID Inception (FIDInceptionA/C/E_1/E_2 as in pytorch-fid's
# inception.py), fills it with the same seeded pseudo-random weights the test generates
# (mulberry32 from harness/rng.ts, consumed in the order of expectedTensors()), runs pytorch-fid's
# forward (resize 299 bilinear align_corners=False, 2x-1, blocks, adaptive avg pool) and prints
# the values the test compares against. Needs torch + torchvision (Debian: python3-torch,
# python3-torchvision); not a test dependency.
#
#   deno eval 'import {expectedTensors as e} from "./features/inception/inception-spec.ts";
#     console.log(JSON.stringify(e()))' > /tmp/manifest.json
#   /usr/bin/python3 features/inception/torch_golden.py /tmp/manifest.json
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torchvision.models import inception as tvi

WEIGHT_SEED = 1234
INPUT_SEED = 99
INPUT_SHAPE = (2, 32, 32, 3)  # NHWC, values in [0, 1)


def mulberry32(seed, count, start=0):
    """Draws start..start+count-1 of harness/rng.ts rng(seed), vectorised (state is seed + k*C)."""
    m = np.uint64(0xFFFFFFFF)
    k = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    a = (np.uint64(seed) + k * np.uint64(0x6D2B79F5)) & m
    t = ((a ^ (a >> np.uint64(15))) * (a | np.uint64(1))) & m
    t = t ^ ((t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & m)) & m)
    return ((t ^ (t >> np.uint64(14))) & m).astype(np.float64) / 4294967296.0


def fill(kind, shape, u):
    if kind == "conv.weight":
        fan_in = int(np.prod(shape[1:]))
        v = (2 * u - 1) * np.sqrt(6 / fan_in)
    elif kind in ("bn.weight", "bn.running_var"):
        v = 0.5 + u
    else:  # bn.bias, bn.running_mean
        v = 0.4 * u - 0.2
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def avg_excl(x):
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FidA(tvi.InceptionA):
    def forward(self, x):
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(avg_excl(x))], 1)


class FidC(tvi.InceptionC):
    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for m in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3,
                  self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = m(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(avg_excl(x))], 1)


class FidE(tvi.InceptionE):
    def __init__(self, in_channels, max_pool):
        super().__init__(in_channels)
        self.max_pool = max_pool

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        p = F.max_pool2d(x, 3, 1, 1) if self.max_pool else avg_excl(x)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(p)], 1)


def build():
    net = torchvision.models.inception_v3(num_classes=1008, aux_logits=False, init_weights=False)
    net.Mixed_5b, net.Mixed_5c, net.Mixed_5d = FidA(192, 32), FidA(256, 64), FidA(288, 64)
    net.Mixed_6b, net.Mixed_6c = FidC(768, 128), FidC(768, 160)
    net.Mixed_6d, net.Mixed_6e = FidC(768, 160), FidC(768, 192)
    net.Mixed_7b, net.Mixed_7c = FidE(1280, False), FidE(2048, True)
    return net.eval()


def features(net, x):
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    x = 2 * x - 1
    for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"):
        x = getattr(net, name)(x)
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    x = net.Conv2d_4a_3x3(net.Conv2d_3b_1x1(x))
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
                 "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"):
        x = getattr(net, name)(x)
    return F.adaptive_avg_pool2d(x, output_size=(1, 1)).flatten(1)


def main():
    manifest = json.load(open(sys.argv[1]))
    net = build()
    sd = net.state_dict()
    params = sum(p.numel() for p in net.parameters())
    buffers = sum(v.numel() for k, v in sd.items() if "running" in k)
    feature_keys = [k for k in sd if not k.startswith("fc.") and "num_batches" not in k]
    assert feature_keys == [t["name"] for t in manifest], "manifest order differs"
    new_sd = dict(sd)
    offset = 0
    for t in manifest:
        assert list(sd[t["name"]].shape) == t["shape"], t["name"]
        n = int(np.prod(t["shape"]))
        kind = ".".join(t["name"].split(".")[-2:])
        new_sd[t["name"]] = fill(kind, t["shape"], mulberry32(WEIGHT_SEED, n, offset))
        offset += n
    net.load_state_dict(new_sd)
    u = mulberry32(INPUT_SEED, int(np.prod(INPUT_SHAPE))).astype(np.float32)
    x = torch.from_numpy(u.reshape(INPUT_SHAPE)).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        f = features(net, x).double()
    print(json.dumps({
        "torch": torch.__version__, "torchvision": torchvision.__version__,
        "params_with_fc": params, "bn_running_values": buffers,
        "first8": [[round(float(v), 7) for v in row[:8]] for row in f],
        "rowSum": [round(float(row.sum()), 5) for row in f],
        "rowSumSq": [round(float((row * row).sum()), 4) for row in f],
    }, indent=1))


if __name__ == "__main__":
    main()
