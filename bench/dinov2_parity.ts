// DINOv2 parity with PyTorch at full size: ViT-L/14 with seeded random weights, written by
// `bench/dinov2_reference.py large ...` under Hugging Face's names with the PyTorch model's class
// tokens for two 32x32 images; loads it like the published file, runs the same images, prints the
// max relative error and the time per image.
//
//   /usr/bin/python3 bench/dinov2_reference.py large DINOV2_DIR /tmp/dinov2-vitl14-random.safetensors
//   deno run --allow-read --allow-env --allow-ffi bench/dinov2_parity.ts /tmp/dinov2-vitl14-random.safetensors [wasm]
import { selectBackend } from "../backend/select.ts";
import { readSafetensors } from "../store/safetensors.ts";
import { dinov2FromWeights } from "../features/dinov2/vit.ts";
import { VIT_L14 } from "../features/dinov2/vit-spec.ts";
import { dinov2ReferenceImages } from "./dinov2-images.ts";

const [path, backend = "wasm"] = Deno.args;
if (!path) {
  console.error("usage: bench/dinov2_parity.ts FILE.safetensors [backend]");
  Deno.exit(2);
}
const info = await selectBackend(backend);
const file = await readSafetensors(path);
const t0 = performance.now();
const net = dinov2FromWeights(file, VIT_L14);
const loadSeconds = (performance.now() - t0) / 1000;

const want = file.float32("expected_32");
const x = dinov2ReferenceImages(2, 32);
const t1 = performance.now();
const got = await net.features(x).data();
const forwardSeconds = (performance.now() - t1) / 1000;
let err = 0, mag = 0;
for (let i = 0; i < want.length; i++) {
  err = Math.max(err, Math.abs(got[i] - want[i]));
  mag = Math.max(mag, Math.abs(want[i]));
}
console.log(JSON.stringify({
  backend: info.backend,
  device: info.device,
  config: "ViT-L/14, 224x224, seeded random weights",
  params: net.paramCount,
  images: 2,
  maxAbsError: err,
  maxAbsFeature: mag,
  maxRelError: err / mag,
  loadSeconds: +loadSeconds.toFixed(1),
  secondsPerImage: +(forwardSeconds / 2).toFixed(2),
  torch: file.metadata.torch,
}));
net.dispose();
