// MLP velocity network for vector data: input [x, t], SiLU hidden layers, linear output.
import {
  defineModel,
  type Model,
  type ModelSpec,
  type StateDictTensor,
  subSeed,
  type Tensor,
  type Tensor1D,
  tf,
} from "../../core/mod.ts";

interface MlpPreset {
  hidden: number;
  layers: number;
}

const presets: Record<string, MlpPreset> = {
  default: { hidden: 256, layers: 3 },
  tiny: { hidden: 32, layers: 2 },
  wide: { hidden: 512, layers: 4 },
};

/** Instances created, so variable names stay unique when several models are alive. */
let instances = 0;

const fmt = (s: number[]) => `[${s.join(", ")}]`;

/**
 * Set the layers from a PyTorch state dict of the same network: an `nn.Sequential` named `net`
 * of Linear layers with SiLU between them, input [x, t] (bench/toy_torch_train.py's ToyMLP; keys
 * net.0.weight [out, in], net.0.bias, net.2.weight, ...; a DataParallel "module." prefix is
 * dropped). The activations are not in a state dict: one with other activations (TorchCFM's
 * SELU MLP) loads only if its sizes match, and then computes another function. Checked whole
 * (names, shapes, value counts) before anything is assigned.
 */
function loadMlpStateDict(
  net: { label: string; sizes: number[]; weights: tf.Variable[]; biases: tf.Variable[] },
  given: Map<string, StateDictTensor>,
): void {
  const { label, sizes } = net;
  let tensors = given;
  const keys = [...given.keys()];
  if (keys.length > 0 && keys.every((k) => k.startsWith("module."))) {
    tensors = new Map(keys.map((k) => [k.slice("module.".length), given.get(k)!]));
  }
  const want = net.weights.flatMap((_, i) => [
    { name: `net.${2 * i}.weight`, shape: [sizes[i + 1], sizes[i]] },
    { name: `net.${2 * i}.bias`, shape: [sizes[i + 1]] },
  ]);
  const names = new Set(want.map((x) => x.name));
  const missing = want.filter((x) => !tensors.has(x.name)).map((x) => x.name);
  const unexpected = [...tensors.keys()].filter((k) => !names.has(k));
  if (missing.length || unexpected.length) {
    const parts = [];
    if (missing.length) parts.push(`missing ${missing.slice(0, 3).join(", ")}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.slice(0, 3).join(", ")}`);
    throw new Error(
      `${label}: state dict does not match (${parts.join("; ")}); expected ` +
        `${want.map((x) => x.name).join(", ")}`,
    );
  }
  for (const x of want) {
    const t = tensors.get(x.name)!;
    const n = x.shape.reduce((a, b) => a * b, 1);
    if (t.shape.length !== x.shape.length || t.shape.some((d, i) => d !== x.shape[i])) {
      throw new Error(
        `${label}: state dict key "${x.name}" has shape ${fmt(t.shape)}, the model expects ` +
          `${fmt(x.shape)} (layer sizes ${fmt(sizes)})`,
      );
    }
    if (t.data.length !== n) {
      throw new Error(
        `${label}: state dict key "${x.name}" holds ${t.data.length} values for shape ${
          fmt(t.shape)
        }`,
      );
    }
  }
  net.weights.forEach((w, i) => {
    const wt = tensors.get(`net.${2 * i}.weight`)!;
    tf.tidy(() => {
      w.assign(tf.transpose(tf.tensor2d(wt.data, [sizes[i + 1], sizes[i]])));
      net.biases[i].assign(tf.tensor1d(tensors.get(`net.${2 * i}.bias`)!.data));
    });
  });
}

function create(spec: ModelSpec): Model {
  const p = presets[spec.preset];
  if (!p) {
    throw new Error(
      `model "mlp": unknown preset "${spec.preset}"; valid: ${Object.keys(presets).join(", ")}`,
    );
  }
  const dim = spec.shape.reduce((a, b) => a * b, 1);
  const sizes = [dim + 1, ...Array(p.layers).fill(p.hidden), dim];
  const id = instances++;
  const weights: tf.Variable[] = [];
  const biases: tf.Variable[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    // Glorot-uniform weights, zero biases; deterministic from the seed.
    const limit = Math.sqrt(6 / (sizes[i] + sizes[i + 1]));
    const w = tf.randomUniform(
      [sizes[i], sizes[i + 1]],
      -limit,
      limit,
      "float32",
      subSeed(spec.seed, i),
    );
    const b = tf.zeros([sizes[i + 1]]);
    weights.push(tf.variable(w, true, `mlp${id}/w${i}`));
    biases.push(tf.variable(b, true, `mlp${id}/b${i}`));
    tf.dispose([w, b]);
  }
  return {
    apply(x: Tensor, t: Tensor1D): Tensor {
      return tf.tidy(() => {
        const b = x.shape[0];
        let h: Tensor = tf.concat([tf.reshape(x, [b, dim]), tf.reshape(t, [b, 1])], 1);
        for (let i = 0; i < weights.length; i++) {
          h = tf.add(tf.matMul(h, weights[i]), biases[i]);
          if (i + 1 < weights.length) h = tf.mul(h, tf.sigmoid(h));
        }
        return tf.reshape(h, x.shape);
      });
    },
    variables: () => weights.flatMap((w, i) => [w, biases[i]]),
    paramCount: () => weights.reduce((n, w, i) => n + w.size + biases[i].size, 0),
    loadStateDict(tensors: Map<string, StateDictTensor>): void {
      loadMlpStateDict({ label: `mlp:${spec.preset}`, sizes, weights, biases }, tensors);
    },
    dispose() {
      for (const v of [...weights, ...biases]) v.dispose();
    },
  };
}

export default defineModel({
  name: "mlp",
  description: "MLP on [x, t]: 3 hidden layers of 256 with SiLU (preset default); loads the " +
    "state dict of the same network in PyTorch (--checkpoint)",
  accepts: ["vector"],
  presets: presets as unknown as Record<string, Record<string, unknown>>,
  defaultPreset: "default",
  usesConvolution: false,
  create,
});
