// Divergence of a velocity field: exact (D one-hot VJPs) or Hutchinson (k random-probe VJPs).
import { normals, rng, subSeed } from "../../core/rng.ts";
import { type Tensor, type Tensor1D, tf } from "../../core/tf.ts";
import type { VelocityField } from "../../core/types.ts";

/** How the divergence is computed: exactly, or by Hutchinson's trace estimator. */
export type DivergenceEstimator = "exact" | "hutchinson";
/** Distribution of Hutchinson probes: +-1 entries (Rademacher) or standard normal ones. */
export type ProbeNoise = "rademacher" | "gaussian";
/**
 * The valid estimators and probe noises, for validation messages.
 * @example
 * DIVERGENCE_ESTIMATORS.includes("hutchinson"); // true
 */
export const DIVERGENCE_ESTIMATORS: DivergenceEstimator[] = ["exact", "hutchinson"];
/**
 * The valid probe noises, for validation messages.
 * @example
 * PROBE_NOISES.join(", "); // "rademacher, gaussian"
 */
export const PROBE_NOISES: ProbeNoise[] = ["rademacher", "gaussian"];

/** The velocity at (x, t) and its per-example divergence. */
export interface VelocityAndDivergence {
  /** v(x, t), shape of x; owned by the caller. */
  v: Tensor;
  /** div_x v(x, t) per example, shape [B]; owned by the caller. */
  div: Tensor1D;
}

/** Options shared by the divergence functions. */
export interface DivergenceOptions {
  /** Most rows (probes x batch) per forward/backward pass (default 4096). */
  maxRows?: number;
}

const DEFAULT_MAX_ROWS = 4096;

function exampleSize(shape: number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/**
 * Seeded probe noise of shape [k, B, ...], where `shape` = [B, ...] is the batch shape.
 * Example b's probes come from its own stream rng(subSeed(seed, offset + b)), so an example's
 * noise does not depend on how the data set is split into batches.
 * @example
 * const probes = drawProbes([64, 2], 4, "rademacher", 0); // shape [4, 64, 2], entries +-1
 */
export function drawProbes(
  shape: number[],
  k: number,
  noise: ProbeNoise,
  seed: number,
  offset = 0,
): Tensor {
  if (!PROBE_NOISES.includes(noise)) {
    throw new Error(`unknown probe noise "${noise}"; valid: ${PROBE_NOISES.join(", ")}`);
  }
  if (!Number.isInteger(k) || k < 1) throw new Error(`probes must be an integer >= 1, got ${k}`);
  const [B] = shape, D = exampleSize(shape);
  const out = new Float32Array(k * B * D);
  for (let b = 0; b < B; b++) {
    const u = rng(subSeed(seed, offset + b));
    const z = noise === "gaussian" ? normals(u, k * D) : null;
    for (let p = 0; p < k; p++) {
      for (let i = 0; i < D; i++) {
        out[(p * B + b) * D + i] = z ? z[p * D + i] : (u() < 0.5 ? -1 : 1);
      }
    }
  }
  return tf.tensor(out, [k, ...shape]);
}

/**
 * v(x, t) and sum_p probe_p^T (dv/dx) probe_p per example, using vector-Jacobian products.
 * The batch is tiled once per probe so each chunk costs one forward and one backward pass.
 * Assumes examples do not interact inside v (no batch statistics).
 * @example
 * const { v, trace } = velocityAndVjpTrace(f, x, 0.5, drawProbes(x.shape, 2, "gaussian", 0));
 * // trace: shape [B], the sum over both probes of eps^T (dv/dx) eps
 */
export function velocityAndVjpTrace(
  v: VelocityField,
  x: Tensor,
  t: number,
  probes: Tensor,
): { v: Tensor; trace: Tensor1D } {
  const [B, ...s] = x.shape;
  const k = probes.shape[0];
  if (
    probes.shape.length !== x.rank + 1 || probes.shape.slice(1).some((d, i) => d !== x.shape[i])
  ) {
    throw new Error(`probes must have shape [k, ${x.shape}], got [${probes.shape}]`);
  }
  return tf.tidy(() => {
    const xr = k === 1 ? x : tf.tile(x, [k, ...s.map(() => 1)]);
    const pr = tf.reshape(probes, [k * B, ...s]);
    // + 0 * x keeps a field that ignores x (e.g. v = 0) differentiable for tfjs, which
    // otherwise refuses gradients of outputs not connected to the input.
    const field = (xx: Tensor) => tf.add(v(xx, t), tf.mul(xx, 0));
    const { value, grad } = tf.valueAndGrad(field)(xr, pr);
    const trace = tf.sum(tf.reshape(tf.mul(grad, pr), [k, B, -1]), [0, 2]) as Tensor1D;
    const vel = k === 1 ? value : tf.slice(value, 0, B);
    return { v: vel, trace };
  });
}

/**
 * Exact divergence: the trace of dv/dx from D one-hot VJPs (D = size of one example), in
 * chunks of at most `maxRows` rows. Costs about D forward+backward passes of the batch.
 * @example
 * const { v: vel, div } = exactDivergence(v, x, 0.5);
 */
export function exactDivergence(
  v: VelocityField,
  x: Tensor,
  t: number,
  opts: DivergenceOptions = {},
): VelocityAndDivergence {
  const [B, ...s] = x.shape;
  const D = exampleSize(x.shape);
  const chunk = Math.max(1, Math.min(D, Math.floor((opts.maxRows ?? DEFAULT_MAX_ROWS) / B)));
  let vel: Tensor | null = null;
  let div: Tensor1D | null = null;
  try {
    for (let j = 0; j < D; j += chunk) {
      const c = Math.min(chunk, D - j);
      const probes = tf.tidy(() => {
        // int32 oneHot then cast: the wasm backend returns zeros for oneHot(..., "float32").
        const eye = tf.cast(tf.oneHot(tf.range(j, j + c, 1, "int32") as Tensor1D, D), "float32");
        return tf.reshape(tf.tile(tf.reshape(eye, [c, 1, D]), [1, B, 1]), [c, B, ...s]);
      });
      const r = velocityAndVjpTrace(v, x, t, probes);
      probes.dispose();
      if (vel === null) vel = r.v;
      else r.v.dispose();
      if (div === null) div = r.trace;
      else {
        const sum = tf.add(div, r.trace) as Tensor1D;
        div.dispose();
        r.trace.dispose();
        div = sum;
      }
    }
  } catch (e) {
    vel?.dispose();
    div?.dispose();
    throw e;
  }
  return { v: vel!, div: div! };
}

/**
 * Hutchinson's estimate (1/k) sum_p eps_p^T (dv/dx) eps_p with the given probes [k, B, ...]
 * (draw them once per trajectory with drawProbes so the noise stays fixed along it).
 * Unbiased when the probes have zero mean and identity covariance.
 * @example
 * const probes = drawProbes(x.shape, 2, "rademacher", seed);
 * const { v, div } = hutchinsonDivergence(f, x, 0.5, probes); // div: shape [B]
 */
export function hutchinsonDivergence(
  v: VelocityField,
  x: Tensor,
  t: number,
  probes: Tensor,
  opts: DivergenceOptions = {},
): VelocityAndDivergence {
  const B = x.shape[0], k = probes.shape[0];
  const chunk = Math.max(1, Math.min(k, Math.floor((opts.maxRows ?? DEFAULT_MAX_ROWS) / B)));
  let vel: Tensor | null = null;
  const traces: Tensor[] = [];
  try {
    for (let p = 0; p < k; p += chunk) {
      const c = Math.min(chunk, k - p);
      const part = c === k ? probes : tf.slice(probes, p, c);
      const r = velocityAndVjpTrace(v, x, t, part);
      if (part !== probes) part.dispose();
      if (vel === null) vel = r.v;
      else r.v.dispose();
      traces.push(r.trace);
    }
    const div = tf.tidy(() => tf.div(traces.length === 1 ? traces[0] : tf.addN(traces), k));
    return { v: vel!, div: div as Tensor1D };
  } catch (e) {
    vel?.dispose();
    throw e;
  } finally {
    for (const tr of traces) tr.dispose();
  }
}
