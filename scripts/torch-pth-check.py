# Dev-only: state dicts written by real torch.save for scripts/torch-pth-check.ts to read back.
# Writes to OUT_DIR: small.{zip,legacy}.pth (shared storage, offset views, transposed and permuted
# views, fp16/bf16/fp64, int64) + small.json (expected values), module.{zip,legacy}.pth (an
# nn.Module's state_dict as is, with its _metadata)
# and inception.{zip,legacy}.pth: pytorch-fid's names/shapes from MANIFEST filled with
# the seeded values of features/inception/seeded-weights.ts, BN tensors sharing one storage, some
# conv weights non-contiguous. Needs torch (Debian python3-torch), not torchvision.
#
#   deno run -A scripts/torch-pth-check.ts     (runs this script and checks the loader)
import collections
import json
import sys

import numpy as np
import torch


def mulberry32(seed, count, start=0):
    """Draws start..start+count-1 of core/rng.ts rng(seed), vectorised (state is seed + k*C)."""
    m = np.uint64(0xFFFFFFFF)
    k = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    a = (np.uint64(seed) + k * np.uint64(0x6D2B79F5)) & m
    t = ((a ^ (a >> np.uint64(15))) * (a | np.uint64(1))) & m
    t = t ^ ((t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & m)) & m)
    return ((t ^ (t >> np.uint64(14))) & m).astype(np.float64) / 4294967296.0


def fill(kind, shape, u):
    if kind == "conv.weight":
        v = (2 * u - 1) * np.sqrt(6 / int(np.prod(shape[1:])))
    elif kind in ("bn.weight", "bn.running_var"):
        v = 0.5 + u
    else:
        v = 0.4 * u - 0.2
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def small():
    base = torch.arange(24, dtype=torch.float32) * 0.5 - 3
    sd = collections.OrderedDict()
    sd["offset"] = base[4:10].view(2, 3)
    sd["transposed"] = base[:6].view(2, 3).t()
    sd["permuted"] = base.view(2, 2, 3, 2).permute(0, 2, 3, 1)
    sd["strided"] = base[1::5]
    sd["half"] = torch.tensor([1.0, -2.0, 1 / 3], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -3.0, 0.1], dtype=torch.bfloat16)
    sd["f64"] = torch.tensor([np.pi, -1e-300], dtype=torch.float64)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.BatchNorm2d(4))
    torch.manual_seed(0)
    for p in net.parameters():
        torch.nn.init.normal_(p)
    for k, v in net.state_dict().items():  # includes bn.num_batches_tracked (int64)
        sd["net." + k] = v
    expected = {k: {"shape": list(v.shape), "values": v.double().flatten().tolist()}
                for k, v in sd.items() if v.is_floating_point()}
    return sd, expected, net.state_dict()


def inception(manifest):
    sd = collections.OrderedDict()
    offset = 0
    values = {}
    for t in manifest:
        n = int(np.prod(t["shape"]))
        kind = ".".join(t["name"].split(".")[-2:])
        values[t["name"]] = fill(kind, t["shape"], mulberry32(1234, n, offset))
        offset += n
    convs = [t["name"][: -len(".conv.weight")] for t in manifest if t["name"].endswith(".conv.weight")]
    for i, c in enumerate(convs):
        w = values[c + ".conv.weight"]
        # Every third conv weight as a non-contiguous view (OIHW over an HWIO storage).
        sd[c + ".conv.weight"] = w.permute(2, 3, 1, 0).contiguous().permute(3, 2, 0, 1) if i % 3 == 0 else w
        parts = ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"]
        shared = torch.cat([values[c + "." + p] for p in parts])  # one storage, four offset views
        cout = values[c + ".bn.weight"].numel()
        for j, p in enumerate(parts):
            sd[c + "." + p] = shared[j * cout:(j + 1) * cout]
        sd[c + ".bn.num_batches_tracked"] = torch.tensor(0)
    sd["fc.weight"] = torch.zeros(1008, 2048)
    sd["fc.bias"] = torch.zeros(1008)
    return sd


def main():
    out, manifest = sys.argv[1], json.load(open(sys.argv[2]))
    sd, expected, module_sd = small()
    assert hasattr(module_sd, "_metadata")  # pickled with a BUILD of {"_metadata": ...}
    for legacy in (False, True):
        layout = "legacy" if legacy else "zip"
        torch.save(sd, f"{out}/small.{layout}.pth", _use_new_zipfile_serialization=not legacy)
        torch.save(module_sd, f"{out}/module.{layout}.pth", _use_new_zipfile_serialization=not legacy)
    json.dump({"torch": torch.__version__, "tensors": expected}, open(f"{out}/small.json", "w"))
    big = inception(manifest)
    assert not big[manifest[0]["name"]].is_contiguous()
    for legacy in (False, True):
        torch.save(big, f"{out}/inception.{'legacy' if legacy else 'zip'}.pth",
                   _use_new_zipfile_serialization=not legacy)
    # torch reads back its own files: the values the TS loader must reproduce.
    for legacy in ("zip", "legacy"):
        back = torch.load(f"{out}/inception.{legacy}.pth")
        assert all(torch.equal(back[k], big[k]) for k in big)
    print(f"torch {torch.__version__}: wrote small.* and inception.* to {out}")


if __name__ == "__main__":
    main()
