// UniPC (Zhao et al. 2023), variant bh2: a multistep predictor with a corrector that reuses the
// next step's evaluation, on the data prediction, for any affine path.
import {
  affineSampler,
  type GridPoint,
  linearCombination,
  type SamplerContext,
  type Tensor,
} from "../../core/mod.ts";

/** A past grid point and the data prediction there. */
interface Past {
  p: GridPoint;
  d: Tensor;
}

/**
 * Solve the small dense system a x = b (Gaussian elimination with partial pivoting).
 * @example
 * solveSmall([[2, 0], [0, 4]], [2, 2]); // [1, 0.5]
 */
export function solveSmall(a: number[][], b: number[]): number[] {
  const n = b.length, m = a.map((row, i) => [...row.slice(0, n), b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[piv][c])) piv = r;
    [m[c], m[piv]] = [m[piv], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let v = m[r][n];
    for (let k = r + 1; k < n; k++) v -= m[r][k] * x[k];
    x[r] = v / m[r][r];
  }
  return x;
}

/**
 * The bh2 coefficients of one UniPC step of order k from the base point (log-SNR step h) with
 * the earlier points at relative log-SNR offsets rks (k - 1 of them): UniPC's R rho = b with
 * B(h) = expm1(-h), for the predictor (rhosP, k - 1 values) and the corrector (rhosC, k values).
 * @example
 * unipcCoefficients(0.5, []); // { hPhi1: expm1(-0.5), bh: expm1(-0.5), rhosP: [], rhosC: [0.5] }
 */
export function unipcCoefficients(h: number, rks: number[]) {
  const k = rks.length + 1, r = [...rks, 1];
  const hh = -h, hPhi1 = Math.expm1(hh), bh = Math.expm1(hh);
  let hPhiK = hPhi1 / hh - 1, fact = 1;
  const rows: number[][] = [], b: number[] = [];
  for (let i = 1; i <= k; i++) {
    rows.push(r.map((x) => Math.pow(x, i - 1)));
    b.push((hPhiK * fact) / bh);
    fact *= i + 1;
    hPhiK = hPhiK / hh - 1 / fact;
  }
  const rhosP = k === 1 ? [] : k === 2 ? [0.5] : solveSmall(
    rows.slice(0, k - 1).map((row) => row.slice(0, k - 1)),
    b.slice(0, k - 1),
  );
  const rhosC = k === 1 ? [0.5] : solveSmall(rows, b);
  return { hPhi1, bh, rhosP, rhosC };
}

/**
 * One UniPC-bh2 step to q from the state x at the last past point; with the corrector, also the
 * data prediction at the predicted state (which the next step reuses: no extra evaluation).
 */
function step(
  ctx: SamplerContext,
  x: Tensor,
  past: Past[],
  q: GridPoint,
  order: number,
  corrector: boolean,
): { x: Tensor; d?: Tensor } {
  const base = past[past.length - 1];
  const h = q.lambda - base.p.lambda;
  // Earlier points at infinite log-SNR (alpha = 0 at t0) drop out: their divided differences
  // vanish in the limit. A step onto sigma = 0 (infinite h) is first order.
  let k = Number.isFinite(h) ? order : 1;
  for (let i = 1; i < k; i++) {
    if (!Number.isFinite(past[past.length - 1 - i].p.lambda)) k = i;
  }
  const older = Array.from({ length: k - 1 }, (_, i) => past[past.length - 2 - i]);
  const rks = older.map((o) => (o.p.lambda - base.p.lambda) / h);
  const { hPhi1, bh, rhosP, rhosC } = unipcCoefficients(h, rks);
  const ratio = q.sigma / base.p.sigma, a = q.alpha;
  // x_t_ = ratio x - a hPhi1 D_0 - a B(h) sum_j rho_j (D_j - D_0) / r_j, all as one combination.
  const terms = (rhos: number[]): Array<[number, Tensor]> => {
    const out: Array<[number, Tensor]> = [[ratio, x], [-a * hPhi1, base.d]];
    older.forEach((o, j) => {
      const c = (-a * bh * rhos[j]) / rks[j];
      out.push([c, o.d]);
      out[1][0] -= c;
    });
    return out;
  };
  const predicted = linearCombination(terms(rhosP));
  if (!corrector) return { x: predicted };
  let d: Tensor;
  try {
    d = ctx.denoise(predicted, q);
  } finally {
    predicted.dispose();
  }
  const t = terms(rhosC);
  const c = -a * bh * rhosC[k - 1];
  t.push([c, d]);
  t[1][0] -= c;
  return { x: linearCombination(t), d };
}

/**
 * One UniPC solve (bh2, data prediction, order `params.order`); the state at t1 (a new tensor).
 *
 * Conventions as in dpm-solver++ (fmbench t = 1 - t_d on the VP path; alpha_t, sigma_t = alpha(t),
 * sigma(t) * sourceStd; UniPC's data prediction x0 is fmbench's x1_hat). As wl-zhao/UniPC's
 * multistep sample(): the first steps warm up at orders 1, 2, ...; lower_order_final always (the
 * last steps at order min(order, steps + 1 - step)); no corrector on the last step; NFE = steps.
 * @example
 * const x = unipc(ctx, x0); // ctx from samplerContext
 */
export function unipc(ctx: SamplerContext, x0: Tensor): Tensor {
  const g = ctx.grid, n = g.length - 1;
  const order = Math.min(ctx.params.order, n);
  let x = ctx.start(x0);
  const past: Past[] = [];
  try {
    past.push({ p: g[0], d: ctx.denoise(x, g[0]) });
    for (let s = 1; s <= n; s++) {
      const k = s < order ? s : Math.min(order, n + 1 - s);
      const r = step(ctx, x, past, g[s], k, s < n);
      x.dispose();
      x = r.x;
      if (r.d) past.push({ p: g[s], d: r.d });
      while (past.length > order) past.shift()!.d.dispose();
    }
  } catch (e) {
    x.dispose();
    throw e;
  } finally {
    for (const p of past) p.d.dispose();
  }
  return x;
}

export default affineSampler({
  name: "unipc",
  description: "UniPC-bh2 (Zhao et al. 2023): multistep predictor-corrector on the data " +
    "prediction, any affine path; order 1-3 (default 2, order 3 with the corrector); 1 NFE per step",
  order: 3,
  defaultGrid: "uniform",
  params: { order: { default: 2, min: 1, max: 3, int: true } },
  sample: unipc,
});
