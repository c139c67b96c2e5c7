// Test helper: seeded pseudo-random FID Inception weights under pytorch-fid's names and shapes,
// as safetensors tensors or as a torch.save state dict with shared and strided storages.
import { rng } from "../../core/rng.ts";
import { allConvs, expectedTensors, FEATURE_DIM } from "./inception-spec.ts";
import type { TensorToWrite } from "../../store/safetensors.ts";
import {
  contiguousStrides,
  f32Bytes,
  i64Bytes,
  type PthSpec,
  type PthStorage,
} from "../../store/torch-save.ts";

/** Seeded weights under pytorch-fid's names, in the order and formulas torch_golden.py uses. */
export function seededWeights(seed: number): Record<string, TensorToWrite> {
  const u = rng(seed);
  const out: Record<string, TensorToWrite> = {};
  for (const t of expectedTensors()) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const kind = t.name.split(".").slice(-2).join(".");
    if (kind === "conv.weight") {
      const scale = Math.sqrt(6 / (n / t.shape[0]));
      for (let i = 0; i < n; i++) data[i] = (2 * u() - 1) * scale;
    } else if (kind === "bn.weight" || kind === "bn.running_var") {
      for (let i = 0; i < n; i++) data[i] = 0.5 + u();
    } else {
      for (let i = 0; i < n; i++) data[i] = 0.4 * u() - 0.2;
    }
    out[t.name] = { shape: t.shape, data };
  }
  return out;
}

/** Convolutions whose weight is stored transposed (a non-contiguous view) in inceptionPthSpec. */
export const STRIDED_CONVS = ["Conv2d_1a_3x3", "Mixed_7c.branch_pool"];

/**
 * The weights as a state dict the way a checkpoint could hold them: every conv's four BatchNorm
 * tensors share one storage at offsets 0, C, 2C, 3C; the STRIDED_CONVS' weights are permuted
 * views (OIHW over an HWIO-ordered storage); plus the 1008-way fc layer and an int64
 * num_batches_tracked, which the loader must ignore.
 */
export function inceptionPthSpec(weights: Record<string, TensorToWrite>): PthSpec {
  const storages = new Map<string, PthStorage>();
  const tensors: PthSpec["tensors"] = [];
  const add = (data: Float32Array): string => {
    const key = String(storages.size);
    storages.set(key, { type: "FloatStorage", data: f32Bytes(data), numel: data.length });
    return key;
  };
  for (const c of allConvs()) {
    const w = weights[`${c.name}.conv.weight`];
    const shape = w.shape;
    if (STRIDED_CONVS.includes(c.name)) {
      // Lay the values out as [kh, kw, cin, cout] and view them as [cout, cin, kh, kw].
      const [o, i, h, k] = shape;
      const hwio = new Float32Array(w.data.length);
      for (let a = 0; a < o; a++) {
        for (let b = 0; b < i; b++) {
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < k; x++) {
              hwio[((y * k + x) * i + b) * o + a] = w.data[((a * i + b) * h + y) * k + x];
            }
          }
        }
      }
      const key = add(hwio);
      tensors.push([`${c.name}.conv.weight`, {
        storage: key,
        offset: 0,
        shape,
        stride: [1, o, k * i * o, i * o],
      }]);
    } else {
      tensors.push([`${c.name}.conv.weight`, {
        storage: add(w.data as Float32Array),
        offset: 0,
        shape,
        stride: contiguousStrides(shape),
      }]);
    }
    const parts = ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"];
    const bn = new Float32Array(4 * c.cout);
    parts.forEach((p, j) => bn.set(weights[`${c.name}.${p}`].data, j * c.cout));
    const key = add(bn);
    parts.forEach((p, j) =>
      tensors.push([`${c.name}.${p}`, {
        storage: key,
        offset: j * c.cout,
        shape: [c.cout],
        stride: [1],
      }])
    );
    if (c.name === "Conv2d_1a_3x3") {
      storages.set("nbt", { type: "LongStorage", data: i64Bytes([0]), numel: 1 });
      tensors.push([`${c.name}.bn.num_batches_tracked`, {
        storage: "nbt",
        offset: 0,
        shape: [],
        stride: [],
      }]);
    }
  }
  const fc = new Float32Array(1008 * FEATURE_DIM + 1008).fill(0.25);
  const fcKey = add(fc);
  tensors.push(["fc.weight", {
    storage: fcKey,
    offset: 0,
    shape: [1008, FEATURE_DIM],
    stride: [FEATURE_DIM, 1],
  }]);
  tensors.push(["fc.bias", {
    storage: fcKey,
    offset: 1008 * FEATURE_DIM,
    shape: [1008],
    stride: [1],
  }]);
  return { storages, tensors };
}
