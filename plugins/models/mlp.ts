// MLP velocity network for vector data: input [x, t], SiLU hidden layers, linear output.
import {
  defineModel,
  type Model,
  type ModelSpec,
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
    dispose() {
      for (const v of [...weights, ...biases]) v.dispose();
    },
  };
}

export default defineModel({
  name: "mlp",
  description: "MLP on [x, t]: 3 hidden layers of 256 with SiLU (preset default)",
  accepts: ["vector"],
  presets: presets as unknown as Record<string, Record<string, unknown>>,
  defaultPreset: "default",
  usesConvolution: false,
  create,
});
