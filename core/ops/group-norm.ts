// GroupNorm (+ optional SiLU) as one op: a backend's fused kernels where registered, else tfjs ops.
import { tf } from "../tf.ts";
import { siluComposite } from "./silu.ts";

/**
 * Kernel name of the fused GroupNorm forward. Inputs `{ x [B, H, W, C], gamma [C], beta [C] }`
 * (float32), attributes {@link GroupNormAttrs}; outputs `[y, stats]`: y = z, or silu(z) when
 * `silu` is set, with z = (x - mean) * rstd * gamma + beta per example and group, and stats
 * [B, groups, 2] holding (mean, rstd = 1 / sqrt(variance + eps)) of each example and group.
 * A backend that registers it must register {@link GROUP_NORM_GRAD_KERNEL} too.
 * @example
 * tf.getKernel(GROUP_NORM_KERNEL, tf.getBackend()); // undefined where groupNorm() uses tfjs ops
 */
export const GROUP_NORM_KERNEL = "FmbGroupNorm";

/**
 * Kernel name of the fused GroupNorm gradient. Inputs `{ dy, x, gamma, beta, stats }` (stats as
 * the forward kernel returned them), the forward's attributes; outputs `[dx, dgamma, dbeta]`.
 * @example
 * tf.getKernel(GROUP_NORM_GRAD_KERNEL, "wasm"); // registered by fmbench's engine on wasm and cpu
 */
export const GROUP_NORM_GRAD_KERNEL = "FmbGroupNormGrad";

/**
 * Attributes of the GroupNorm kernels: channel groups (dividing C), the variance epsilon, and
 * whether SiLU follows the affine.
 * @example
 * const attrs: GroupNormAttrs = { groups: 8, eps: 1e-6, silu: true };
 */
export interface GroupNormAttrs {
  groups: number;
  eps: number;
  silu: boolean;
}

/**
 * Options of {@link groupNorm}: the groups, epsilon (default 1e-6), the per-channel affine
 * (gamma, beta [C]; none when both are omitted) and an optional SiLU after it.
 * @example
 * const opts: GroupNormOptions = { groups: 8, gamma, beta, silu: true };
 */
export interface GroupNormOptions {
  groups: number;
  eps?: number;
  gamma?: tf.Tensor;
  beta?: tf.Tensor;
  silu?: boolean;
}

/**
 * GroupNorm from tfjs ops (what {@link groupNorm} computes on a backend without the fused
 * kernels): y = x * scale + shift with per-example, per-channel scale and shift [B, 1, 1, C]
 * that normalise each group of C / groups channels over (H, W, group channels) and then apply
 * gamma and beta; SiLU after it when `silu` is set. The statistics are two-pass (mean, then mean
 * squared deviation), as tf.moments computes them; applying them as one rank-4 multiply-add is
 * cheaper than normalising the rank-5 view.
 * @example
 * const y = groupNormComposite(tf.randomNormal([2, 4, 4, 8]), { groups: 4 });
 */
export function groupNormComposite(x: tf.Tensor, opts: GroupNormOptions): tf.Tensor {
  const { groups, gamma, beta } = opts;
  const eps = opts.eps ?? 1e-6;
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const per = c / groups;
    const g = x.reshape([b, h, w, groups, per]);
    const mean = tf.mean(g, [1, 2, 4], true); // [B, 1, 1, G, 1]
    const variance = tf.mean(tf.square(tf.sub(g, mean)), [1, 2, 4], true);
    // [B, 1, 1, G, 1] -> [B, 1, 1, C] by repeating each group value over its channels
    // (a multiply by ones: Tile has no gradient at rank 5).
    const ones = tf.ones([1, 1, per]);
    const toChannels = (v: tf.Tensor) =>
      tf.mul(v.reshape([b, groups, 1]), ones).reshape([b, 1, 1, c]);
    let scale = toChannels(tf.rsqrt(tf.add(variance, eps)));
    if (gamma) scale = tf.mul(scale, gamma);
    let shift = tf.neg(tf.mul(toChannels(mean), scale));
    if (beta) shift = tf.add(shift, beta);
    const y = tf.add(tf.mul(x, scale), shift);
    return opts.silu ? siluComposite(y) : y;
  });
}

/**
 * True when the active backend has both fused GroupNorm kernels.
 * @example
 * if (!hasFusedGroupNorm()) console.log("groupNorm: tfjs ops");
 */
export function hasFusedGroupNorm(): boolean {
  const b = tf.getBackend();
  return !!tf.getKernel(GROUP_NORM_KERNEL, b) && !!tf.getKernel(GROUP_NORM_GRAD_KERNEL, b);
}

function ensureGradient(): void {
  if (tf.getGradient(GROUP_NORM_KERNEL)) return;
  tf.registerGradient({
    kernelName: GROUP_NORM_KERNEL,
    inputsToSave: ["x", "gamma", "beta"],
    outputsToSave: [false, true],
    gradFunc: (dy, saved, attrs) => {
      const g = Array.isArray(dy) ? dy[0] : dy;
      const [x, gamma, beta, stats] = saved;
      const [dx, dgamma, dbeta] = tf.engine().runKernel(
        GROUP_NORM_GRAD_KERNEL,
        { dy: g, x, gamma, beta, stats },
        attrs,
      ) as tf.Tensor[];
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });
}

/**
 * GroupNorm of x [B, H, W, C]: per example, each group of C / groups channels normalised to mean 0
 * and variance 1 over (H, W, channels of the group), then gamma * . + beta per channel, then SiLU
 * when `silu` is set. Where the active backend registers {@link GROUP_NORM_KERNEL} (fmbench's
 * engine does on wasm and cpu) and both gamma and beta are given, this is one kernel forward and
 * one backward (saving x, gamma, beta and the statistics); otherwise {@link groupNormComposite}.
 * The same values either way, up to float32 rounding.
 * @example
 * const gamma = tf.ones([8]), beta = tf.zeros([8]);
 * const y = groupNorm(tf.randomNormal([2, 4, 4, 8]), { groups: 4, gamma, beta, silu: true });
 */
export function groupNorm(x: tf.Tensor, opts: GroupNormOptions): tf.Tensor {
  const { groups, gamma, beta } = opts;
  if (x.rank !== 4) throw new Error(`groupNorm: x must be [B, H, W, C], got [${x.shape}]`);
  const c = x.shape[3]!;
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new Error(`groupNorm: ${c} channels do not split into ${groups} groups`);
  }
  for (const [name, v] of [["gamma", gamma], ["beta", beta]] as const) {
    if (v && (v.rank !== 1 || v.shape[0] !== c)) {
      throw new Error(`groupNorm: ${name} must be [${c}], got [${v.shape}]`);
    }
  }
  const fused = gamma && beta && x.dtype === "float32" && gamma.dtype === "float32" &&
    beta.dtype === "float32" && hasFusedGroupNorm();
  if (!fused) return groupNormComposite(x, opts);
  ensureGradient();
  const attrs: GroupNormAttrs = { groups, eps: opts.eps ?? 1e-6, silu: !!opts.silu };
  const [y, stats] = tf.engine().runKernel(
    GROUP_NORM_KERNEL,
    { x, gamma, beta },
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor[];
  stats.dispose();
  return y;
}
