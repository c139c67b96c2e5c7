// Compare the figures of two results files: every run's training curve, evaluations, NLL,
// straightness and samples, ignoring what legitimately differs between sessions (timings, how
// often a run was resumed, the folder it was written to).
import type { ResultsFile } from "./schema.ts";

/**
 * Keys whose values are timings or resume bookkeeping, not figures.
 * @example
 * NOT_FIGURES.has("seconds"); // true: timings may differ between sessions
 */
export const NOT_FIGURES = new Set([
  "seconds",
  "probeSeconds",
  "sessions",
  "resumedFrom",
  // CPU time is a measurement of this session's work, not a figure of the model.
  "cpuSeconds",
  "cpuStderr",
]);

function normalise(v: unknown, outDir: string): unknown {
  if (Array.isArray(v)) return v.map((x) => normalise(x, outDir));
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (!NOT_FIGURES.has(k)) out[k] = normalise(x, outDir);
    }
    return out;
  }
  if (typeof v === "string" && outDir && v.startsWith(`${outDir}/`)) {
    return `<out>${v.slice(outDir.length)}`;
  }
  return v;
}

/**
 * The figures of a results file (its runs and reference values), with timings, resume counts and
 * the output folder's name taken out, so two runs of the same command compare equal.
 * @example
 * const f = figuresOf(results, "runs/x");
 */
export function figuresOf(results: ResultsFile, outDir: string): unknown {
  const dir = outDir.replace(/\/+$/, "");
  return normalise(
    { runs: results.runs, references: results.references, heldOut: results.heldOut },
    dir,
  );
}

/**
 * Where two results files' figures differ: a list of JSON paths with both values (empty when they
 * are identical, bit for bit: numbers compare exactly).
 * @example
 * diffFigures(a, "runs/a", b, "runs/b"); // [] or ['runs[0].evals[3].metrics.w2: 0.41 vs 0.42']
 */
export function diffFigures(
  a: { results: ResultsFile; dir: string },
  b: { results: ResultsFile; dir: string },
  limit = 20,
): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, path: string) => {
    if (out.length >= limit) return;
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) out.push(`${path}: length ${x.length} vs ${y.length}`);
      for (let i = 0; i < Math.min(x.length, y.length); i++) walk(x[i], y[i], `${path}[${i}]`);
      return;
    }
    if (x && y && typeof x === "object" && typeof y === "object") {
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const k of [...keys].sort()) {
        walk(
          (x as Record<string, unknown>)[k],
          (y as Record<string, unknown>)[k],
          path ? `${path}.${k}` : k,
        );
      }
      return;
    }
    if (!Object.is(x, y)) out.push(`${path}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
  };
  walk(figuresOf(a.results, a.dir), figuresOf(b.results, b.dir), "");
  return out;
}
