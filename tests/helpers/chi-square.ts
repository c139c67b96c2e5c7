// Test helpers: Pearson's chi-square goodness-of-fit test of draws against a density on a range.

/** ln Gamma(a) for a a positive multiple of 1/2 (what chi-square degrees of freedom give), exactly. */
function lnGammaHalf(a: number): number {
  if (!(a > 0) || !Number.isInteger(2 * a)) throw new Error(`lnGammaHalf: a = ${a}`);
  let x = Number.isInteger(a) ? 1 : 0.5;
  let out = Number.isInteger(a) ? 0 : 0.5 * Math.log(Math.PI);
  for (; x < a; x++) out += Math.log(x);
  return out;
}

/**
 * The regularized upper incomplete gamma function Q(a, x) for 2a a positive integer: the series
 * of P below x = a + 1, Lentz's continued fraction above (Numerical Recipes' split).
 * @example
 * gammaQ(10, 15); // chi-square survival of 30 with 20 degrees of freedom: 0.0698...
 */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - lnGammaHalf(a));
  if (x < a + 1) {
    let term = 1 / a, sum = term;
    for (let n = 1; n < 10000 && Math.abs(term) > Math.abs(sum) * 1e-16; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return 1 - front * sum;
  }
  const tiny = 1e-300;
  let b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return front * h;
}

/** A goodness-of-fit result: the statistic, its degrees of freedom and the p-value. */
export interface ChiSquare {
  statistic: number;
  df: number;
  p: number;
  /** Bins after merging neighbours with fewer than 5 expected draws. */
  bins: number;
}

/** Simpson's rule of f on [a, b] with n (even) intervals. */
function simpson(f: (t: number) => number, a: number, b: number, n = 64): number {
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

/**
 * Pearson's chi-square test of `draws` against `density` on `range`: `bins` equal-width bins whose
 * expected counts integrate the density (Simpson's rule, so the density is checked, not the CDF),
 * neighbours merged until each expects at least 5 draws; df = bins - 1.
 * @example
 * const { p } = chiSquareFit(draws, { density, range: [0, 1], bins: 40 });
 */
export function chiSquareFit(
  draws: ArrayLike<number>,
  { density, range: [lo, hi], bins }: {
    density: (t: number) => number;
    range: [number, number];
    bins: number;
  },
): ChiSquare {
  const n = draws.length, w = (hi - lo) / bins;
  const counts = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const k = Math.min(Math.max(Math.floor((draws[i] - lo) / w), 0), bins - 1);
    counts[k]++;
  }
  const expected = Array.from({ length: bins }, (_, k) => {
    // The density may be infinite exactly at an end of the range: integrate just inside it.
    const a = lo + k * w, b = k === bins - 1 ? hi : a + w;
    return n *
      simpson(density, a + (k === 0 ? 1e-12 * w : 0), b - (k === bins - 1 ? 1e-12 * w : 0));
  });
  const merged: Array<[number, number]> = [];
  let acc: [number, number] = [0, 0];
  for (let k = 0; k < bins; k++) {
    acc = [acc[0] + counts[k], acc[1] + expected[k]];
    if (acc[1] >= 5) {
      merged.push(acc);
      acc = [0, 0];
    }
  }
  if (acc[1] > 0 || acc[0] > 0) {
    if (merged.length) {
      const last = merged[merged.length - 1];
      merged[merged.length - 1] = [last[0] + acc[0], last[1] + acc[1]];
    } else merged.push(acc);
  }
  const statistic = merged.reduce((s, [o, e]) => s + (o - e) ** 2 / e, 0);
  const df = merged.length - 1;
  return { statistic, df, p: gammaQ(df / 2, statistic / 2), bins: merged.length };
}
