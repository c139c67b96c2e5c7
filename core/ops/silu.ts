// SiLU, x * sigmoid(x), as one op: a backend's fused kernels where registered, else tfjs ops.
import { tf } from "../tf.ts";

/**
 * Kernel name of the fused SiLU forward: inputs `{ x }` (float32), output y = x * sigmoid(x).
 * A backend that registers it must register {@link SILU_GRAD_KERNEL} too.
 * @example
 * tf.getKernel(SILU_KERNEL, tf.getBackend()); // undefined where silu() uses tfjs ops
 */
export const SILU_KERNEL = "FmbSilu";

/**
 * Kernel name of the fused SiLU gradient: inputs `{ dy, x }`, output
 * dx = dy * s * (1 + x * (1 - s)) with s = sigmoid(x).
 * @example
 * tf.getKernel(SILU_GRAD_KERNEL, "wasm"); // registered by fmbench's engine on wasm and cpu
 */
export const SILU_GRAD_KERNEL = "FmbSiluGrad";

/**
 * SiLU / swish, x * sigmoid(x), from tfjs ops (Sigmoid and Multiply, forward and backward): what
 * {@link silu} computes on a backend without the fused kernels.
 * @example
 * siluComposite(tf.tensor([0, 1])); // [0, 0.7311]
 */
export function siluComposite(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * True when the active backend has both fused SiLU kernels, so {@link silu} runs one kernel
 * forward and one backward.
 * @example
 * if (!hasFusedSilu()) console.log("silu: tfjs ops");
 */
export function hasFusedSilu(): boolean {
  const b = tf.getBackend();
  return !!tf.getKernel(SILU_KERNEL, b) && !!tf.getKernel(SILU_GRAD_KERNEL, b);
}

function ensureGradient(): void {
  if (tf.getGradient(SILU_KERNEL)) return;
  tf.registerGradient({
    kernelName: SILU_KERNEL,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => {
      const g = Array.isArray(dy) ? dy[0] : dy;
      return {
        x: () => tf.engine().runKernel(SILU_GRAD_KERNEL, { dy: g, x: saved[0] }) as tf.Tensor,
      };
    },
  });
}

/**
 * SiLU / swish: x * sigmoid(x). One fused kernel forward and one backward (saving only x) where
 * the active backend registers {@link SILU_KERNEL} (fmbench's engine does on wasm and cpu),
 * else {@link siluComposite}. The same values either way, up to float32 rounding.
 * @example
 * const y = silu(tf.tensor([-1, 0, 2])); // [-0.2689, 0, 1.7616]
 */
export function silu(x: tf.Tensor): tf.Tensor {
  if (x.dtype !== "float32" || !hasFusedSilu()) return siluComposite(x);
  ensureGradient();
  return tf.engine().runKernel(SILU_KERNEL, { x }) as tf.Tensor;
}
