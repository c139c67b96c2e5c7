// The columns of a comparison table: their keys and how each is titled and explained.

/**
 * The table's columns: the fixed ones (lower is better for each), and a metric plugin's figure
 * as `metric:<figure>` (e.g. "metric:precision"), whose direction its column carries.
 */
export type ColumnKey =
  | "nll"
  | "quality"
  | "kid"
  | "nfe"
  | "straightness"
  | "trainTime"
  | `metric:${string}`;
/**
 * Every fixed column; "kid" is shown only when KID was computed (tableColumns), and the metric
 * columns stand after it.
 * @example
 * COLUMN_KEYS.indexOf("quality"); // 1: the quality column comes right after NLL
 */
export const COLUMN_KEYS: ColumnKey[] = [
  "nll",
  "quality",
  "kid",
  "nfe",
  "straightness",
  "trainTime",
];

/** A column header: a title, a unit line, and a longer explanation for the tooltip. */
export interface TableColumn {
  key: ColumnKey;
  title: string;
  sub: string;
  help: string;
  /** Which way is better (absent: lower, as for every fixed column). */
  direction?: "lower" | "higher";
}

/**
 * The arrow a column header shows: ↓ lower is better, ↑ higher is better.
 * @example
 * directionArrow({ direction: "higher" }); // "↑"
 */
export function directionArrow(c: Pick<TableColumn, "direction">): "↓" | "↑" {
  return c.direction === "higher" ? "↑" : "↓";
}
