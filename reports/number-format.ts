// One number format per table column: integers, fixed decimals or exponent notation, chosen from
// every value (and uncertainty) of the column, so a column never mixes "0.0412" with "1.23e-4"
// and its values line up with the same number of decimals.

/** How a column writes its numbers. */
export interface ColumnFormat {
  notation: "integer" | "fixed" | "exponent";
  /** Decimals of a "fixed" column. */
  decimals: number;
  /** Durations: the unit the column is written in. */
  unit?: "s" | "min";
}

/** Decimals that show `v` to `digits` significant digits. */
function decimalsFor(v: number, digits: number): number {
  return Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(v))));
}

/**
 * The format of a column from all its values and their uncertainties: "integer" when every value
 * is one; "exponent" (three significant digits) when a magnitude is below 0.001 or from 100,000
 * on, or the values span 1,000x or more; else "fixed", with the decimals that give the smallest
 * value three significant digits, or the smallest uncertainty two (at most two more). Durations
 * (`seconds: true`) are fixed, in seconds, or in minutes when one reaches 10 minutes.
 * @example
 * columnFormat([0.0412, 0.071], [0.0016, 0.0028]); // { notation: "fixed", decimals: 4 }
 * columnFormat([3.412, 3.63], [0.012, 0.012]); // { notation: "fixed", decimals: 3 }
 * columnFormat([0.012, 512]); // { notation: "exponent", decimals: 0 }: a 40,000x span
 * columnFormat([26, 44], [0.9, 1.2]); // { notation: "integer", decimals: 0 }
 */
export function columnFormat(
  values: number[],
  uncertainties: Array<number | undefined> = [],
  opts: { seconds?: boolean } = {},
): ColumnFormat {
  const finite = values.filter(Number.isFinite);
  const unit = opts.seconds ? (finite.some((v) => v >= 600) ? "min" : "s") : undefined;
  const scale = unit === "min" ? 60 : 1;
  const vs = finite.map((v) => v / scale);
  const us = uncertainties.filter((u): u is number =>
    u !== undefined && u > 0 && Number.isFinite(u)
  )
    .map((u) => u / scale);
  if (!unit && vs.every((v) => Number.isInteger(v) && Math.abs(v) < 1e7)) {
    return { notation: "integer", decimals: 0 };
  }
  const mags = vs.map(Math.abs).filter((a) => a > 0);
  const lo = Math.min(...mags), hi = Math.max(...mags);
  if (!unit && mags.length && (lo < 1e-3 || hi >= 1e5 || hi / lo >= 1e3)) {
    return { notation: "exponent", decimals: 0 };
  }
  const dv = mags.length ? decimalsFor(lo, 3) : 0;
  const du = us.length ? decimalsFor(Math.min(...us), 2) : 0;
  return {
    notation: "fixed",
    decimals: Math.min(Math.max(dv, du), dv + 2, 10),
    ...(unit ? { unit } : {}),
  };
}

/** `v` in exponent notation with `digits` significant digits, e.g. "1.23e-4", "5.1e2". */
function exponent(v: number, digits: number): string {
  return v.toExponential(digits - 1).replace("e+", "e");
}

/** A value in the format, without unit. */
function bare(f: ColumnFormat, v: number): string {
  const x = f.unit === "min" ? v / 60 : v;
  if (f.notation === "integer") {
    return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(3)));
  }
  if (f.notation === "exponent") return exponent(x, 3);
  return x.toFixed(f.decimals);
}

/**
 * A value in its column's format, with the unit of a duration column.
 * @example
 * formatIn({ notation: "fixed", decimals: 4 }, 0.041234); // "0.0412"
 * formatIn({ notation: "exponent", decimals: 0 }, 0.041234); // "4.12e-2"
 * formatIn({ notation: "fixed", decimals: 1, unit: "s" }, 5.857); // "5.9 s"
 */
export function formatIn(f: ColumnFormat, v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return f.unit ? `${bare(f, v)} ${f.unit}` : bare(f, v);
}

/**
 * A value ± its uncertainty in the column's format: a fixed column writes both with its decimals
 * (an uncertainty that would round to 0 gets one significant digit), an integer column the
 * uncertainty to two significant digits, an exponent column both in exponent notation.
 * @example
 * formatWithUncertainty({ notation: "fixed", decimals: 4 }, 0.041234, 0.00161); // "0.0412 ± 0.0016"
 * formatWithUncertainty({ notation: "integer", decimals: 0 }, 62, 0.913); // "62 ± 0.91"
 * formatWithUncertainty({ notation: "fixed", decimals: 1, unit: "s" }, 19.04, 0.41); // "19.0 s ± 0.4 s"
 * formatWithUncertainty({ notation: "exponent", decimals: 0 }, 512, 31); // "5.12e2 ± 3.1e1"
 */
export function formatWithUncertainty(
  f: ColumnFormat,
  v: number,
  u: number | undefined,
): string {
  const value = formatIn(f, v);
  if (u === undefined || !Number.isFinite(u)) return value;
  const x = f.unit === "min" ? u / 60 : u;
  let err: string;
  if (f.notation === "exponent") err = exponent(x, 2);
  else if (f.notation === "integer") err = String(Number(x.toPrecision(2)));
  else {
    err = x.toFixed(f.decimals);
    if (x > 0 && Number(err) === 0) err = String(Number(x.toPrecision(1)));
  }
  return `${value} ± ${f.unit ? `${err} ${f.unit}` : err}`;
}
