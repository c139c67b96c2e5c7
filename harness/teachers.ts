// Reflow teachers, all in one place: a teacher run solves its ODE from seeded source noise once,
// caches (x0, x1) with their provenance on disk, and serves random batches to its students.
import {
  countNfe,
  type Path,
  rng,
  type Solver,
  subSeed,
  type Teacher,
  tf,
  type VelocityField,
} from "../core/mod.ts";
import { solveOptions } from "./evaluate.ts";
import type { Run } from "./plan.ts";
import { sourceNoise } from "./source-noise.ts";
import type { SolverSetting, SuiteConfig } from "./suites/types.ts";

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
    const a = sourceNoise(path, shape, m, seed + i);
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
export function teacherFrom(pairs: ReflowPairs): TeacherWithProvenance {
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

/** A teacher with the provenance of its pairs (recorded in its students' results). */
export type TeacherWithProvenance = Teacher & { provenance: ReflowProvenance };

/**
 * The reflow bookkeeping of one suite run: which runs are teachers, where their pairs live
 * (`<outDir>/reflow/<run id>.f32` and `.json`), and the teachers published so far.
 * @example
 * const teachers = new Teachers(outDir, config, dopri5);
 * if (teachers.isTeacher(run)) await teachers.publish(run, hash, vf, path, data.shape);
 * const teacher = teachers.forStudent(studentRun);
 */
export class Teachers {
  #published = new Map<string, TeacherWithProvenance>();

  constructor(
    private readonly outDir: string,
    private readonly cfg: SuiteConfig,
    private readonly solver: Solver,
  ) {}

  /** Whether another method of the suite reflows this run's model (so it must publish pairs). */
  isTeacher(run: Run): boolean {
    return this.cfg.methods.some((m) => m.teacher === run.method.label);
  }

  /** The published teacher of a reflow student; throws when the teacher made no pairs. */
  forStudent(run: Run): TeacherWithProvenance {
    const teacher = this.#published.get(this.#key(run, run.method.teacher!));
    if (!teacher) throw new Error(`teacher "${run.method.teacher}" did not produce reflow pairs`);
    return teacher;
  }

  /** Resume: reload a finished teacher's cached pairs; false when they are missing or stale. */
  async restore(run: Run, hash: string, shape: number[]): Promise<boolean> {
    const pairs = await loadPairs(this.#file(run), this.#expectation(run, hash, shape));
    if (pairs) this.#published.set(this.#key(run, run.method.label), teacherFrom(pairs));
    return pairs !== null;
  }

  /** Generate a teacher run's pairs with the adaptive solver, save them, and publish them. */
  async publish(
    run: Run,
    hash: string,
    vf: VelocityField,
    path: Path,
    shape: number[],
  ): Promise<ReflowProvenance> {
    const expect = this.#expectation(run, hash, shape);
    const gen = await generatePairs(
      vf,
      path,
      this.solver,
      expect.setting,
      shape,
      expect.n,
      expect.seed,
      this.cfg.eval.batch,
    );
    const pairs: ReflowPairs = {
      x0: gen.x0,
      x1: gen.x1,
      provenance: { ...expect, nfe: gen.nfe, file: `${this.#file(run)}.f32` },
    };
    await Deno.mkdir(`${this.outDir}/reflow`, { recursive: true });
    await savePairs(this.#file(run), pairs);
    this.#published.set(this.#key(run, run.method.label), teacherFrom(pairs));
    return pairs.provenance;
  }

  /** A teacher's pairs are keyed by data set, model and the teacher method's label. */
  #key(run: Run, method: string): string {
    return `${run.dataset}|${run.model.name}|${method}`;
  }

  #file(run: Run): string {
    return `${this.outDir}/reflow/${run.id}`;
  }

  #expectation(run: Run, hash: string, shape: number[]): Omit<ReflowProvenance, "nfe" | "file"> {
    return {
      teacher: run.method.label,
      dataset: run.dataset,
      model: `${run.model.name}/${run.model.preset}`,
      solver: this.cfg.adaptiveSolver,
      setting: { rtol: this.cfg.eval.nll.rtol, atol: this.cfg.eval.nll.atol },
      seed: subSeed(this.cfg.seed, `reflow-${run.id}`),
      n: this.cfg.eval.reflowPairs,
      shape,
      teacherConfigHash: hash,
    };
  }
}
