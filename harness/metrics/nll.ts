// Log-likelihood of data under a flow by integrating the augmented ODE [x, logp] from t=1 to t=0.
import { countNfe } from "../../core/solve/nfe.ts";
import { type Tensor, tf } from "../../core/tf.ts";
import type { SolveOptions, Solver, VelocityField } from "../../core/types.ts";
import { type StopRequest, throwIfStopped } from "../stop.ts";
import { bitsPerDim } from "./bits-per-dim.ts";
import {
  DIVERGENCE_ESTIMATORS,
  type DivergenceEstimator,
  drawProbes,
  exactDivergence,
  hutchinsonDivergence,
  type ProbeNoise,
} from "./divergence.ts";

/** Solve options for the NLL integration; t0 (data end) defaults to 1 and t1 (source) to 0. */
export type NllSolveOptions = Omit<SolveOptions, "t0" | "t1"> & {
  t0?: number;
  t1?: number;
};

/** Options of logLikelihood. */
export interface NllOptions {
  solver: Solver;
  solveOpts?: NllSolveOptions;
  /** Standard deviation of the source N(0, std^2 I) (the path's sourceStd). */
  sourceStd: number;
  divergence: DivergenceEstimator;
  /** Hutchinson probes per example (default 1). */
  probes?: number;
  /** Hutchinson probe distribution (default "rademacher"). */
  noise?: ProbeNoise;
  /** Seed of the probe noise; example i always gets the stream subSeed(seed, i). */
  seed: number;
  /** Examples per integration (default: all at once). */
  evalBatch?: number;
  /** Most rows per forward/backward pass in the divergence (default 4096). */
  maxRows?: number;
  /** Checked before every evaluation of the augmented field; a stop throws Cancelled. */
  stop?: StopRequest;
}

/** Per-example log-densities and the velocity evaluations per trajectory. */
export interface NllResult {
  /** log p_1(x1) in nats, one per example. */
  logp: Float64Array;
  /** Augmented-field evaluations per batch trajectory (mean over batches); VJPs not counted. */
  nfe: number;
}

/**
 * log p_1(x1) for each example by solving, from t=1 (data) back to t=0 (source),
 *
 *   d/dt [x, l] = [v(x, t), -div v(x, t)],   x(1) = x1, l(1) = 0,
 *
 * as ONE state tensor [B, D + 1] (x flattened per example), so any solver applies unchanged.
 * Then log p_1(x1) = log N(x(0); 0, std^2 I) - l(0). With "hutchinson" the probes are drawn
 * once per example and held fixed along its trajectory. When solveOpts.t1 is not 0 the source
 * density is still taken to be N(0, std^2 I).
 * @example
 * const { logp, nfe } = await logLikelihood(v, x, {
 *   solver: dopri5, sourceStd: 1, divergence: "exact", seed: 0,
 * });
 */
export async function logLikelihood(
  v: VelocityField,
  x1: Tensor,
  opts: NllOptions,
): Promise<NllResult> {
  const std = opts.sourceStd;
  if (!(std > 0 && Number.isFinite(std))) {
    throw new Error(`logLikelihood: sourceStd must be a positive number, got ${std}`);
  }
  if (!DIVERGENCE_ESTIMATORS.includes(opts.divergence)) {
    throw new Error(
      `logLikelihood: unknown divergence "${opts.divergence}"; valid: ` +
        DIVERGENCE_ESTIMATORS.join(", "),
    );
  }
  if (x1.rank < 2) throw new Error(`logLikelihood: x1 needs a batch axis, got [${x1.shape}]`);
  const [N, ...s] = x1.shape;
  const D = s.reduce((a, b) => a * b, 1);
  const bs = opts.evalBatch ?? N;
  if (!(Number.isInteger(bs) && bs >= 1)) {
    throw new Error(`logLikelihood: evalBatch must be a positive integer, got ${bs}`);
  }
  const k = opts.probes ?? 1, noise = opts.noise ?? "rademacher";
  const { t0 = 1, t1 = 0, ...rest } = opts.solveOpts ?? {};
  const solveOpts = { ...rest, t0, t1 } as SolveOptions;
  const logp = new Float64Array(N);
  const logNorm = -0.5 * D * Math.log(2 * Math.PI * std * std);
  let nfeSum = 0, batches = 0;

  for (let start = 0; start < N; start += bs) {
    const B = Math.min(bs, N - start);
    const probes = opts.divergence === "hutchinson"
      ? drawProbes([B, ...s], k, noise, opts.seed, start)
      : null;
    const aug: VelocityField = (z, t) => {
      throwIfStopped(opts.stop);
      return tf.tidy(() => {
        const x = tf.reshape(tf.slice(z, [0, 0], [B, D]), [B, ...s]);
        const r = probes
          ? hutchinsonDivergence(v, x, t, probes, { maxRows: opts.maxRows })
          : exactDivergence(v, x, t, { maxRows: opts.maxRows });
        return tf.concat([tf.reshape(r.v, [B, D]), tf.reshape(tf.neg(r.div), [B, 1])], 1);
      });
    };
    const counted = countNfe(aug);
    const z0 = tf.tidy(() =>
      tf.concat([tf.reshape(tf.slice(x1, start, B), [B, D]), tf.zeros([B, 1])], 1)
    );
    let zEnd: Tensor;
    try {
      zEnd = (await opts.solver.integrate(counted.f, z0, solveOpts)).x;
    } finally {
      z0.dispose();
      probes?.dispose();
    }
    const a = (await zEnd.data()) as Float32Array;
    zEnd.dispose();
    for (let b = 0; b < B; b++) {
      let sq = 0;
      for (let i = 0; i < D; i++) sq += a[b * (D + 1) + i] ** 2;
      logp[start + b] = logNorm - sq / (2 * std * std) - a[b * (D + 1) + D];
    }
    nfeSum += counted.count();
    batches++;
  }
  return { logp, nfe: batches ? nfeSum / batches : 0 };
}

/** Mean NLL with its standard error, in nats (and bits/dim for 8-bit image data). */
export interface NllSummary {
  /** Mean NLL in nats per example; for bitsPerDim, per image on the 8-bit scale (bpd D ln 2). */
  nats: number;
  bpd?: number;
  /** Standard error of the mean of the reported unit (bpd if bitsPerDim, else nats). */
  stderr: number;
  n: number;
}

/**
 * Summarise per-example log-densities. With `bitsPerDim`, logp must be of dequantised data
 * y = (x + u)/128 - 1 (see bits-per-dim.ts); then bpd = -logp/(D ln 2) + 7 and
 * nats = -logp + D ln 128. The standard error is sd/sqrt(n) (NaN when n = 1).
 * @example
 * summarizeNll([-1.2, -1.4, -1.0], { dims: 2 }); // { nats: 1.2, stderr: 0.1154..., n: 3 }
 */
export function summarizeNll(
  logp: ArrayLike<number>,
  opts: { dims: number; bitsPerDim?: boolean },
): NllSummary {
  const n = logp.length;
  if (n === 0) throw new Error("summarizeNll: no log-densities to summarise");
  const unit = (lp: number) => opts.bitsPerDim ? bitsPerDim(lp, opts.dims) : -lp;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += unit(logp[i]);
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (unit(logp[i]) - mean) ** 2;
  const stderr = n > 1 ? Math.sqrt(ss / (n - 1) / n) : NaN;
  if (!opts.bitsPerDim) return { nats: mean, stderr, n };
  return { nats: mean * opts.dims * Math.LN2, bpd: mean, stderr, n };
}
