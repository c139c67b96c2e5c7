// Export a U-Net's weights (randomised, so zero-initialised layers count too), an input and its
// velocity to safetensors, for bench/torch_unet.py --check: the PyTorch model must reproduce it.
import { rng } from "../core/rng.ts";
import { tf } from "../core/tf.ts";
import { encodeSafetensors, type TensorToWrite } from "../store/safetensors.ts";
import unet from "../plugins/models/unet.ts";

function uniform(n: number, seed: number, scale: number): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * u() - 1));
}

/**
 * The safetensors bytes: `param.<i>` for every variable in creation order (fmbench's layouts:
 * conv [kh, kw, Ci, Co], dense [Ci, Co]), `x` [2, 32, 32, 3], `t` [2] and `v` = the U-Net's
 * output (no dropout), on the active backend.
 * @example
 * await Deno.writeFile("unet.safetensors", await exportUnet("tiny"));
 */
export async function exportUnet(preset = "tiny", seed = 0): Promise<Uint8Array> {
  const model = unet.create({ shape: [32, 32, 3], preset, seed });
  const tensors: Record<string, TensorToWrite> = {};
  try {
    model.variables().forEach((v, i) => {
      const values = uniform(v.size, seed * 1000 + i, 0.3);
      v.assign(tf.tensor(values, v.shape));
      tensors[`param.${i}`] = { shape: v.shape, data: values };
    });
    const x = uniform(2 * 32 * 32 * 3, seed + 1, 1), t = Float32Array.from([0.3, 0.7]);
    const out = tf.tidy(() => model.apply(tf.tensor(x, [2, 32, 32, 3]), tf.tensor1d(t), false));
    tensors.x = { shape: [2, 32, 32, 3], data: x };
    tensors.t = { shape: [2], data: t };
    tensors.v = { shape: out.shape, data: (await out.data()) as Float32Array };
    out.dispose();
  } finally {
    model.dispose();
  }
  return encodeSafetensors(tensors, { preset, layout: "NHWC; conv [kh,kw,Ci,Co]; dense [Ci,Co]" });
}

if (import.meta.main) {
  // deno run -A probes/unet-export.ts OUT.safetensors [preset]
  const { selectBackend } = await import("../backend/select.ts");
  await selectBackend("cpu");
  const [out, preset = "tiny"] = Deno.args;
  if (!out) {
    console.error("usage: probes/unet-export.ts OUT.safetensors [preset]");
    Deno.exit(2);
  }
  await Deno.writeFile(out, await exportUnet(preset));
  console.error(`wrote ${out}`);
}
