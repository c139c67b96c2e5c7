// The columns of a comparison table: their keys and how each is titled and explained.

/** The table's columns, in display order. Lower is better for every one of them. */
export type ColumnKey = "nll" | "quality" | "kid" | "nfe" | "straightness" | "trainTime";
/**
 * Every column; "kid" is shown only when the quality metric is FID (tableColumns).
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
}
