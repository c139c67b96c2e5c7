// Anderson acceleration (type II) of a fixed-point iteration x <- T(x) on Float64Array vectors:
// the Sinkhorn divergence's cross potentials converge in hundreds of steps instead of thousands.

/** An accelerator: feed it each x and T(x); it overwrites x with the next iterate. */
export interface Anderson {
  step(x: Float64Array, tx: Float64Array): void;
  /** Forget the history (after the iteration's map changed). */
  reset(): void;
}

/**
 * Anderson mixing with `memory` past steps: the next iterate is the combination of the last
 * T(x)'s whose residuals T(x) - x have the least squares combination (a small ridge keeps the
 * least-squares system solvable).
 * @example
 * const acc = anderson(n, 5);
 * for (;;) { map(tx, x); acc.step(x, tx); }
 */
export function anderson(n: number, memory: number): Anderson {
  let dX: Float64Array[] = [], dR: Float64Array[] = [];
  let xPrev: Float64Array | undefined, rPrev: Float64Array | undefined;
  return {
    reset() {
      dX = [];
      dR = [];
      xPrev = rPrev = undefined;
    },
    step(x, tx) {
      const r = new Float64Array(n);
      for (let i = 0; i < n; i++) r[i] = tx[i] - x[i];
      if (xPrev && rPrev) {
        const dx = new Float64Array(n), dr = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          dx[i] = x[i] - xPrev[i];
          dr[i] = r[i] - rPrev[i];
        }
        dX.push(dx);
        dR.push(dr);
        if (dX.length > memory) {
          dX.shift();
          dR.shift();
        }
      }
      xPrev = Float64Array.from(x);
      rPrev = r;
      const k = dR.length;
      if (k === 0) {
        x.set(tx);
        return;
      }
      const G = new Float64Array(k * k), b = new Float64Array(k);
      let trace = 0;
      for (let a = 0; a < k; a++) {
        for (let c = 0; c <= a; c++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += dR[a][i] * dR[c][i];
          G[a * k + c] = G[c * k + a] = s;
        }
        trace += G[a * k + a];
        let s = 0;
        for (let i = 0; i < n; i++) s += dR[a][i] * r[i];
        b[a] = s;
      }
      for (let a = 0; a < k; a++) G[a * k + a] += 1e-10 * trace + 1e-300;
      const gamma = solve(G, b, k);
      for (let i = 0; i < n; i++) {
        let v = tx[i];
        for (let a = 0; a < k; a++) v -= gamma[a] * (dX[a][i] + dR[a][i]);
        x[i] = v;
      }
    },
  };
}

/** Solve the k x k system A y = b by Gaussian elimination with partial pivoting. */
function solve(G: Float64Array, b: Float64Array, k: number): Float64Array {
  const A = Float64Array.from(G), y = Float64Array.from(b);
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(A[r * k + c]) > Math.abs(A[piv * k + c])) piv = r;
    if (piv !== c) {
      for (let j = 0; j < k; j++) [A[c * k + j], A[piv * k + j]] = [A[piv * k + j], A[c * k + j]];
      [y[c], y[piv]] = [y[piv], y[c]];
    }
    for (let r = c + 1; r < k; r++) {
      const t = A[r * k + c] / A[c * k + c];
      for (let j = c; j < k; j++) A[r * k + j] -= t * A[c * k + j];
      y[r] -= t * y[c];
    }
  }
  for (let c = k - 1; c >= 0; c--) {
    let v = y[c];
    for (let j = c + 1; j < k; j++) v -= A[c * k + j] * y[j];
    y[c] = v / A[c * k + c];
  }
  return y;
}
