// One number format per table column: integers, plain decimals or exponent notation, chosen from
// every value of the column, so a column never mixes "0.0412" with "1.23e-4".

/** How a column writes its numbers. */
export type ColumnNotation = "integer" | "plain" | "exponent" | "seconds" | "minutes";

/**
 * The notation of a column from all its values: "integer" when every value is one, "plain" (three
 * significant digits) when every magnitude is in [0.001, 100,000), else "exponent" (three
 * significant digits, e.g. 1.23e-4) for the whole column. Durations (`seconds: true`) are written
 * in seconds, or in minutes when one reaches 10 minutes.
 * @example
 * columnNotation([0.0412, 0.071]); // "plain"
 * columnNotation([0.0412, 0.00001]); // "exponent": one value is below 0.001
 * columnNotation([26, 44]); // "integer"
 * columnNotation([5.9, 700], { seconds: true }); // "minutes"
 */
export function columnNotation(
  values: number[],
  opts: { seconds?: boolean } = {},
): ColumnNotation {
  const finite = values.filter(Number.isFinite);
  if (opts.seconds) return finite.some((v) => v >= 600) ? "minutes" : "seconds";
  if (finite.every((v) => Number.isInteger(v) && Math.abs(v) < 1e7)) return "integer";
  const plain = finite.every((v) => v === 0 || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5));
  return plain ? "plain" : "exponent";
}

/** `v` to `digits` significant digits, written plainly ("0.0412", "512", "1.40"). */
function significant(v: number, digits: number): string {
  if (v === 0) return "0";
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(v))));
  return v.toFixed(Math.min(decimals, 20));
}

/** `v` in exponent notation with `digits` significant digits, e.g. "1.23e-4", "5.1e2". */
function exponent(v: number, digits: number): string {
  return v.toExponential(digits - 1).replace("e+", "e");
}

/**
 * A value in its column's notation: three significant digits (integers as they are); durations
 * with their unit.
 * @example
 * formatIn("plain", 0.041234); // "0.0412"
 * formatIn("exponent", 0.041234); // "4.12e-2"
 * formatIn("seconds", 5.857); // "5.86 s"
 * formatIn("minutes", 754); // "12.6 min"
 */
export function formatIn(notation: ColumnNotation, v: number): string {
  if (!Number.isFinite(v)) return String(v);
  switch (notation) {
    case "integer":
      return Number.isInteger(v) ? String(v) : significant(v, 3);
    case "plain":
      return significant(v, 3);
    case "exponent":
      return exponent(v, 3);
    case "seconds":
      return `${significant(v, 3)} s`;
    case "minutes":
      return `${significant(v / 60, 3)} min`;
  }
}

/**
 * A value ± its uncertainty in the column's notation: the value as formatIn writes it, the
 * uncertainty to two significant digits in the same notation and unit (none when it is absent).
 * @example
 * formatWithUncertainty("plain", 0.041234, 0.00131); // "0.0412 ± 0.0013"
 * formatWithUncertainty("integer", 62, 1.53); // "62 ± 1.5"
 * formatWithUncertainty("seconds", 19.04, 0.41); // "19.0 s ± 0.41 s"
 * formatWithUncertainty("exponent", 0.0093, 0.00041); // "9.30e-3 ± 4.1e-4"
 */
export function formatWithUncertainty(
  notation: ColumnNotation,
  v: number,
  u: number | undefined,
): string {
  const value = formatIn(notation, v);
  if (u === undefined || !Number.isFinite(u)) return value;
  let err: string;
  if (notation === "exponent") err = exponent(u, 2);
  else if (notation === "seconds") err = `${significant(u, 2)} s`;
  else if (notation === "minutes") err = `${significant(u / 60, 2)} min`;
  else err = significant(u, 2);
  return `${value} ± ${err}`;
}
