// Reflow pairs: solve a teacher's ODE from seeded source noise once, cache (x0, x1) with their
// provenance on disk, and serve random batches of them to the reflow coupling.
import { solveOptions } from "./evaluate.ts";
import { countNfe } from "./solve/nfe.ts";
import { rng } from "./rng.ts";
import { tf } from "./tf.ts";
import type { Path, Solver, Teacher, VelocityField } from "./types.ts";
import type { SolverSetting } from "./suites/types.ts";

export interface ReflowProvenance {
  teacher: string;
  dataset: string;
  model: string;
  solver: string;
  setting: SolverSetting;
  seed: number;
  n: number;
  nfe: number;
  shape: number[];
  teacherConfigHash: string;
  file: string;
}

export interface ReflowPairs {
  x0: Float32Array;
  x1: Float32Array;
  provenance: ReflowProvenance;
}

/** Generate n pairs in chunks: x0 ~ N(0, std^2 I) from `seed`, x1 = teacher flow of x0. */
export async function generatePairs(
  vf: VelocityField,
  path: Path,
  solver: Solver,
  setting: SolverSetting,
  shape: number[],
  n: number,
  seed: number,
  chunk = 2000,
): Promise<{ x0: Float32Array; x1: Float32Array; nfe: number }> {
  const dim = shape.reduce((a, b) => a * b, 1);
  const x0 = new Float32Array(n * dim), x1 = new Float32Array(n * dim);
  let nfe = 0;
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    const a = tf.randomNormal([m, ...shape], 0, path.sourceStd, "float32", (seed + i) & 0x7fffffff);
    const counted = countNfe(vf);
    const { x } = await solver.integrate(counted.f, a, solveOptions(path, setting));
    nfe = Math.max(nfe, counted.count());
    x0.set(await a.data() as Float32Array, i * dim);
    x1.set(await x.data() as Float32Array, i * dim);
    tf.dispose([a, x]);
  }
  return { x0, x1, nfe };
}

/** Save pairs as <file>.f32 (x0 then x1) and <file>.json (provenance). */
export async function savePairs(file: string, p: ReflowPairs): Promise<void> {
  const buf = new Float32Array(p.x0.length * 2);
  buf.set(p.x0, 0);
  buf.set(p.x1, p.x0.length);
  await Deno.writeFile(`${file}.f32`, new Uint8Array(buf.buffer));
  await Deno.writeTextFile(`${file}.json`, JSON.stringify(p.provenance, null, 1));
}

/** Load cached pairs if their provenance matches what would be generated now. */
export async function loadPairs(
  file: string,
  expect: Omit<ReflowProvenance, "nfe" | "file">,
): Promise<ReflowPairs | null> {
  try {
    const provenance = JSON.parse(await Deno.readTextFile(`${file}.json`)) as ReflowProvenance;
    const same = (Object.keys(expect) as (keyof typeof expect)[])
      .every((k) => JSON.stringify(provenance[k]) === JSON.stringify(expect[k]));
    if (!same) return null;
    const bytes = await Deno.readFile(`${file}.f32`);
    const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const half = all.length / 2;
    if (half !== expect.n * expect.shape.reduce((a, b) => a * b, 1)) return null;
    return { x0: all.slice(0, half), x1: all.slice(half), provenance };
  } catch {
    return null;
  }
}

/** A Teacher serving random batches of cached pairs (deterministic in the batch seed). */
export function teacherFrom(pairs: ReflowPairs): Teacher & { provenance: ReflowProvenance } {
  const { shape, n, teacher } = pairs.provenance;
  const dim = shape.reduce((a, b) => a * b, 1);
  return {
    method: teacher,
    provenance: pairs.provenance,
    pairs(m, seed) {
      const u = rng(seed);
      const a = new Float32Array(m * dim), b = new Float32Array(m * dim);
      for (let i = 0; i < m; i++) {
        const j = Math.floor(u() * n);
        a.set(pairs.x0.subarray(j * dim, (j + 1) * dim), i * dim);
        b.set(pairs.x1.subarray(j * dim, (j + 1) * dim), i * dim);
      }
      return Promise.resolve([tf.tensor(a, [m, ...shape]), tf.tensor(b, [m, ...shape])]);
    },
  };
}
