// Values that look broken but are not, each explained in one line under its table: a straightness
// hundreds of times the others', from a diffusion path or an ε/score model whose velocity is huge
// near one end of the time range while its trajectories still reach the data.

/** The part of a table row (reports/table.ts TableRow) the notes read. */
export interface StraightnessRow {
  series: string;
  method?: { loss: string; family: string };
  cells: { straightness: { value?: number } };
}

/** A value this many times the column's median is explained (when its cause is known). */
export const OUTLIER_FACTOR = 10;

/** Losses whose network predicts noise or a score: the velocity divides by σ_t. */
const NOISE_LOSSES = new Set(["eps", "dsm", "scoreflow"]);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function num(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5)
    ? v.toExponential(1).replace("e+", "e")
    : String(Number(v.toPrecision(3)));
}

/**
 * One line per kind of straightness outlier with a known, harmless cause: rows of a diffusion
 * path, or of an ε/score loss, whose straightness is OUTLIER_FACTOR times the column median or
 * more. Other outliers are left unexplained (they may be real problems).
 * @example
 * straightnessNotes(table.rows);
 * // ["Straightness of FM w/ ve-diffusion (512) is over 10x the median (1.1): not a failure. ..."]
 */
export function straightnessNotes(rows: StraightnessRow[]): string[] {
  const withValue = rows.filter((r) => r.cells.straightness.value !== undefined);
  if (withValue.length < 3) return [];
  const med = median(withValue.map((r) => r.cells.straightness.value!));
  const high = withValue.filter((r) => r.cells.straightness.value! > OUTLIER_FACTOR * med);
  const noise = high.filter((r) => NOISE_LOSSES.has(r.method?.loss ?? ""));
  const diffusion = high.filter((r) => !noise.includes(r) && r.method?.family === "diffusion");
  const who = (rs: StraightnessRow[]) =>
    rs.map((r) => `${r.series} (${num(r.cells.straightness.value!)})`).join(", ");
  const out: string[] = [];
  const head = (rs: StraightnessRow[]) =>
    `Straightness of ${who(rs)} ${rs.length === 1 ? "is" : "are"} over ${OUTLIER_FACTOR}x the ` +
    `column's median (${num(med)}): not a failure.`;
  if (diffusion.length) {
    out.push(
      `${head(diffusion)} Straightness integrates the squared deviation of the velocity from ` +
        `its mean along each path; on a diffusion path the velocity is very large near one end ` +
        `of the time range (a variance-exploding schedule's noise scale changes fastest there), ` +
        `so the integral is large although the trajectories still reach the data (see their ` +
        `samples and quality).`,
    );
  }
  if (noise.length) {
    out.push(
      `${head(noise)} These models predict noise or a score, and their velocity divides by ` +
        `the noise scale σ_t, which goes to 0 at the data end: a few steps near it carry huge ` +
        `velocities, so the integral is large although the trajectories still reach the data ` +
        `(see their samples and quality).`,
    );
  }
  return out;
}
