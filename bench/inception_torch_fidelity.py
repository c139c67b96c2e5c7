# torch-fidelity's own Inception ("inception-v3-compat", FeatureExtractorInceptionV3) on seeded
# weights: its pool3 features ("2048") and fc logits without bias ("logits_unbiased", what its
# ISC uses) for two 8-bit 32x32 images, for tests/inception_logits_test.ts (the network with
# `preprocess: "torch-fidelity"` against torch-fidelity's TF1-style resize and (x - 128) / 128).
#
#   /usr/bin/python3 bench/inception_torch_fidelity.py TORCH_FIDELITY_DIR OUT.safetensors
#
# The weights are features/inception/torch_golden.py's (mulberry32 seed 1234, in pytorch-fid's
# tensor order, the same values as seededWeights(1234) in TypeScript) plus an fc layer from seed
# 4321; the images are round(255 u) for u from mulberry32 seed 99. If tqdm is missing
# (torch-fidelity imports it for progress bars only), a no-op stand-in is used.
import json
import os
import struct
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "features", "inception"))
import torch_golden as golden  # noqa: E402

FC_SEED = 4321


def torch_fidelity(tf_dir):
    sys.path.insert(0, tf_dir)
    try:
        import tqdm  # noqa: F401
    except ImportError:
        shim = tempfile.mkdtemp()
        with open(os.path.join(shim, "tqdm.py"), "w") as f:
            f.write("def tqdm(it=None, *a, **k):\n    return it\n")
        sys.path.insert(0, shim)
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    return FeatureExtractorInceptionV3


def seeded_state_dict():
    sd = golden.build().state_dict()
    offset = 0
    for name in [k for k in sd if not k.startswith("fc.") and "num_batches" not in k]:
        n = sd[name].numel()
        kind = ".".join(name.split(".")[-2:])
        sd[name] = golden.fill(kind, list(sd[name].shape), golden.mulberry32(golden.WEIGHT_SEED, n, offset))
        offset += n
    n = 1008 * 2048
    u = golden.mulberry32(FC_SEED, n + 1008)
    sd["fc.weight"] = torch.from_numpy(((2 * u[:n] - 1) * np.sqrt(6 / 2048)).astype(np.float32).reshape(1008, 2048))
    sd["fc.bias"] = torch.from_numpy((0.2 * u[n:] - 0.1).astype(np.float32))
    return sd


def main():
    tf_dir, out_path = sys.argv[1:3]
    Extractor = torch_fidelity(tf_dir)
    path = os.path.join(tempfile.mkdtemp(), "seeded.pth")
    torch.save(seeded_state_dict(), path)
    net = Extractor("inception-v3-compat", ["2048", "logits_unbiased"],
                    feature_extractor_weights_path=path, verbose=False)
    u = golden.mulberry32(golden.INPUT_SEED, 2 * 32 * 32 * 3)
    x = torch.from_numpy(np.round(255 * u).astype(np.uint8).reshape(2, 32, 32, 3)).permute(0, 3, 1, 2)
    with torch.no_grad():
        pool, logits = net(x.contiguous())
    header = {"__metadata__": {"torch": torch.__version__,
                               "script": "bench/inception_torch_fidelity.py"}}
    blobs, offset = [], 0
    for name, t in (("pool3", pool), ("logits_unbiased", logits)):
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(out_path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    print(json.dumps({"pool3_first4": pool[0, :4].tolist(), "logits_first4": logits[0, :4].tolist()}))


if __name__ == "__main__":
    main()
