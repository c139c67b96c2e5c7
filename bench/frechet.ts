// The Frechet distance at d = 2048 for `deno task bench:micro --fid`: the new route (pivoted
// Cholesky + tridiagonal eigenvalues) next to the previous one (ml-matrix eigendecompositions)
// and SciPy's sqrtm (bench/frechet_scipy.py, when /usr/bin/python3 has scipy), same inputs.
import { frechetCases } from "./frechet-cases.ts";
import { frechetParts, type GaussianStats, prepareGaussian } from "../features/frechet.ts";
import { frechetPartsEigen, symmetricSqrt } from "./frechet-eigen.ts";

/** One case's timings (seconds) and values. */
export interface FrechetBenchRow {
  case: string;
  /** New route: factor the reference once, then one distance. */
  newPrepare: number;
  newDistance: number;
  /** Previous route: sqrt of the reference once, then one distance. */
  oldPrepare?: number;
  oldDistance?: number;
  scipy?: number;
  fid: { new: number; old?: number; scipy?: number };
}

const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const out = f();
  return [out, (performance.now() - t0) / 1000];
};

/** pytorch-fid's computation in SciPy (bench/frechet_scipy.py), the inputs sent on stdin. */
async function scipyFrechet(
  a: GaussianStats,
  b: GaussianStats,
): Promise<{ fid: number; seconds: number } | string> {
  try {
    const script = new URL("./frechet_scipy.py", import.meta.url).pathname;
    const child = new Deno.Command("/usr/bin/python3", {
      args: [script, String(a.dim)],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    for (const x of [a.mu, b.mu, a.sigma, b.sigma]) await w.write(new Uint8Array(x.buffer));
    await w.close();
    const out = await child.output();
    if (!out.success) {
      return `SciPy run failed: ${new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)}`;
    }
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } catch (e) {
    return `SciPy not run: ${e instanceof Error ? e.message : e}`;
  }
}

/**
 * Time the routes on the cases of bench/frechet-cases.ts at dimension d. `old` runs the previous
 * route too (minutes at d = 2048); `scipy` runs bench/frechet_scipy.py.
 * @example
 * const rows = await frechetBench(2048, { old: true, scipy: true, cases: [0, 1] });
 */
export async function frechetBench(
  d: number,
  opts: {
    old?: boolean;
    scipy?: boolean;
    /** Which of frechetCases(d) to run: [start, end) (default all). */
    cases?: [number, number];
    log?: (line: string) => void;
  } = {},
): Promise<FrechetBenchRow[]> {
  const rows: FrechetBenchRow[] = [];
  for (const c of frechetCases(d).slice(...(opts.cases ?? [0, Infinity]))) {
    const [prepared, newPrepare] = time(() => prepareGaussian(c.a));
    const [parts, newDistance] = time(() => frechetParts(prepared, c.b));
    const row: FrechetBenchRow = { case: c.name, newPrepare, newDistance, fid: { new: parts.fid } };
    if (opts.old) {
      const [root, oldPrepare] = time(() => symmetricSqrt(c.a.sigma, d));
      const [old, oldDistance] = time(() => frechetPartsEigen(c.a, c.b, root));
      Object.assign(row, { oldPrepare, oldDistance });
      row.fid.old = old.fid;
    }
    if (opts.scipy) {
      const s = await scipyFrechet(c.a, c.b);
      if (typeof s === "string") opts.log?.(s);
      else {
        row.scipy = s.seconds;
        row.fid.scipy = s.fid;
      }
    }
    opts.log?.(formatRow(row));
    rows.push(row);
  }
  return rows;
}

/**
 * One line per case: seconds per route and the relative differences of the FID values.
 * @example
 * (await frechetBench(512, { cases: [0, 1] })).map(formatRow);
 */
export function formatRow(r: FrechetBenchRow): string {
  const s = (x: number | undefined) => (x === undefined ? "-" : `${x.toFixed(1)} s`);
  const rel = (x: number | undefined) =>
    x === undefined ? "-" : ((r.fid.new - x) / Math.abs(x)).toExponential(1);
  const old = r.oldPrepare === undefined
    ? ""
    : `; previous ${s(r.oldPrepare)} + ${s(r.oldDistance)} (FID rel. diff. ${rel(r.fid.old)})`;
  const scipy = r.scipy === undefined
    ? ""
    : `; SciPy sqrtm ${s(r.scipy)} (FID rel. diff. ${rel(r.fid.scipy)})`;
  return `${r.case}: new ${s(r.newPrepare)} prepare + ${
    s(r.newDistance)
  } distance${old}${scipy}; ` +
    `FID ${r.fid.new.toPrecision(10)}`;
}

if (import.meta.main) {
  const d = Number(Deno.args[0] ?? 2048);
  await frechetBench(d, { old: true, scipy: true, log: console.log });
}
