// Guides for the quality-vs-NFE charts: where to cap the y axis so one method's off-scale
// values do not flatten every other curve, and the metric's noise level (what a perfect model
// would score, an estimate).
import * as Plot from "@observablehq/plot";

/**
 * Values above this many times the upper quartile are drawn at the cap, with a marker.
 * @example
 * const cap = OFF_SCALE_FACTOR * 0.7; // 7: the cap when the upper quartile is 0.7
 */
export const OFF_SCALE_FACTOR = 10;

/**
 * The y-axis cap for a set of values: OFF_SCALE_FACTOR times their upper quartile when some
 * values lie above it (so a diverging method cannot squeeze the others into a line), else null.
 * @example
 * offScaleCap([0.4, 0.5, 0.6, 0.7, 300]); // 7 (0.7 x 10): the 300 is drawn at 7 with a marker
 * offScaleCap([0.4, 0.5, 0.6, 0.7, 2]); // null
 */
export function offScaleCap(values: number[]): number | null {
  const v = values.filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b);
  if (v.length < 4) return null;
  const q3 = v[Math.min(v.length - 1, Math.floor(0.75 * (v.length - 1)))];
  const cap = OFF_SCALE_FACTOR * q3;
  return v[v.length - 1] > cap ? cap : null;
}

/** A plotted point: its value `q`, the `y` it is drawn at and whether it was clipped. */
export interface Clipped {
  q: number;
  y: number;
  clipped: boolean;
}

/**
 * Points drawn at min(q, cap), each marked when clipped.
 * @example
 * clipTo([{ q: 300 }, { q: 0.5 }], 7); // [{ q: 300, y: 7, clipped: true }, { q: 0.5, y: 0.5, clipped: false }]
 */
export function clipTo<T extends { q: number }>(
  points: T[],
  cap: number | null,
): Array<T & Clipped> {
  return points.map((p) => ({
    ...p,
    y: cap !== null && p.q > cap ? cap : p.q,
    clipped: cap !== null && p.q > cap,
  }));
}

/**
 * The note under a chart with clipped points: how many, where, and each series' largest value.
 * @example
 * clipNote(points, 7, "W2"); // "▲ 4 values above 7 are drawn at the top edge (FM w/ ve-diffusion up to 304); hover for the value."
 */
export function clipNote(
  points: Array<{ series: string; q: number; clipped: boolean }>,
  cap: number | null,
  name: string,
  fmt: (v: number) => string,
): string {
  const clipped = points.filter((p) => p.clipped);
  if (cap === null || !clipped.length) return "";
  const worst = new Map<string, number>();
  for (const p of clipped) worst.set(p.series, Math.max(worst.get(p.series) ?? 0, p.q));
  const who = [...worst].map(([s, v]) => `${s} up to ${fmt(v)}`).join(", ");
  return `▲ ${clipped.length} ${name} value${clipped.length === 1 ? "" : "s"} above ${
    fmt(cap)
  } (${OFF_SCALE_FACTOR}x the upper quartile) ${
    clipped.length === 1 ? "is" : "are"
  } drawn at the top edge (${who}); hover for the value.`;
}

/**
 * The note for the noise-level line (and band): what it is, its value and spread. It is the
 * metric between two held-out samples of the evaluation size: an estimate, with noise of its own,
 * of what a perfect model would score; not a floor (a model can land below it by chance).
 * @example
 * floorNote("W2", "0.279", "0.021");
 * // "Grey band: the W2 noise level 0.279 ± 0.021 (dashed), ..."
 */
export function floorNote(name: string, value: string, spread?: string): string {
  const what = `${name} between two held-out samples of the evaluation size: about what a ` +
    `perfect model would score`;
  return spread !== undefined
    ? `Grey band: the ${name} noise level ${value} ± ${spread} (dashed line ± its spread over ` +
      `held-out draws), ${what}. Points inside the band are as good as the data's own sampling ` +
      `noise can tell; points below it are within that noise too, not better than perfect.`
    : `Dashed line: the ${name} noise level ${value}, ${what}; an estimate with noise of its ` +
      `own (no spread recorded), so points near or below it are within that noise, not better ` +
      `than perfect.`;
}

/** The quality metric's noise level on a data set: its value and, where recorded, its spread. */
export interface NoiseLevel {
  value: number;
  /** Standard deviation over held-out draws (`references[dataset][<metric>_std]`). */
  std?: number;
}

/**
 * The noise level of `metric` on `dataset` from results.references (the metric between two
 * held-out samples, and `<metric>_std` its spread), or null when none is recorded.
 * @example
 * noiseLevel({ moons: { w2: 0.279, w2_std: 0.021 } }, "moons", "w2"); // { value: 0.279, std: 0.021 }
 */
export function noiseLevel(
  references: Record<string, Record<string, number | null>> | undefined,
  dataset: string,
  metric: string,
): NoiseLevel | null {
  const r = references?.[dataset];
  const value = r?.[metric], std = r?.[`${metric}_std`];
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) return null;
  return typeof std === "number" && Number.isFinite(std) && std > 0 ? { value, std } : { value };
}

/**
 * The y values a noise level's line and band need on the axis (the band's positive edges).
 * @example
 * noiseLevelExtent({ value: 0.28, std: 0.02 }); // [0.26, 0.28, 0.3]
 */
export function noiseLevelExtent(level: NoiseLevel | null): number[] {
  if (!level) return [];
  const s = level.std ?? 0;
  return [level.value - s, level.value, level.value + s].filter((y) => y > 0);
}

/**
 * The marks of a noise level: a grey band of ± its spread across [x1, x2] (where recorded; its
 * lower edge kept above a tenth of the level on a log axis) under a dashed line at the level.
 * @example
 * Plot.plot({ marks: [...noiseLevelMarks({ value: 0.28, std: 0.02 }, [1, 128], false), ...] });
 */
export function noiseLevelMarks(
  level: NoiseLevel | null,
  [x1, x2]: [number, number],
  logY: boolean,
): Plot.Markish[] {
  if (!level) return [];
  const band = level.std !== undefined
    ? [Plot.rect([{
      x1,
      x2,
      lo: logY ? Math.max(level.value - level.std, level.value / 10) : level.value - level.std,
      hi: level.value + level.std,
    }], { x1: "x1", x2: "x2", y1: "lo", y2: "hi", fill: "#8a8f98", fillOpacity: 0.22 })]
    : [];
  return [...band, Plot.ruleY([level.value], { stroke: "#555", strokeDasharray: "2,3" })];
}

/**
 * The notes a quality chart ends with, in order, empty ones left out: the log scale, the noise
 * floor's band and the points drawn at the cap.
 * @example
 * scaleNotes({ name: "W2", logY: false, level, points, cap, fmt: formatNumber }); // ["Grey band: ..."]
 */
export function scaleNotes(o: {
  name: string;
  logY: boolean;
  level: NoiseLevel | null;
  points: Array<{ series: string; q: number; clipped: boolean }>;
  cap: number | null;
  fmt: (v: number) => string;
}): string[] {
  return [
    o.logY ? `${o.name} on a log scale (values span ≥ 10x).` : "",
    o.level
      ? floorNote(
        o.name,
        o.fmt(o.level.value),
        o.level.std !== undefined ? o.fmt(o.level.std) : undefined,
      )
      : "",
    clipNote(o.points, o.cap, o.name, o.fmt),
  ].filter((n) => n);
}
