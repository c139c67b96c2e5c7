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
import { writeFileAtomic } from "../store/atomic.ts";
import { encodeSafetensors } from "../store/safetensors.ts";
import { readChecked } from "../store/read-checked.ts";
import { moveAside } from "../store/move-aside.ts";
import { FileCheckError } from "../store/validate.ts";
import {
  checkPairChunk,
  checkPairs,
  type PairChunk,
  type ReflowPairs,
  type ReflowProvenance,
} from "./reflow-check.ts";

export { checkPairChunk, checkPairs };
export type { PairChunk, ReflowPairs, ReflowProvenance };
import { stoppable, type StopRequest, throwIfStopped } from "./stop.ts";
import { phase } from "../store/trace.ts";
import { threadCpuSeconds } from "./thread-cpu.ts";
import type { SolverSetting, SuiteConfig } from "./suites/types.ts";

/** Where finished chunks of an interrupted generation are kept (see Teachers). */
export interface ChunkStore {
  load(index: number): Promise<PairChunk | null>;
  save(index: number, chunk: PairChunk): Promise<void>;
}

/** What {@link generatePairs} generates. */
export interface PairsInput {
  /** The teacher's velocity field. */
  field: VelocityField;
  path: Path;
  solver: Solver;
  setting: SolverSetting;
  /** Shape of one example. */
  shape: number[];
  /** Number of pairs. */
  count: number;
  seed: number;
  /**
   * Pairs per solve and per saved chunk (--eval-batch); absent: chunks of 2,000, each solved at
   * once (the chunk is also what an interrupted generation keeps).
   */
  evalBatch?: number;
  stop?: StopRequest;
  store?: ChunkStore;
}

/**
 * Generate n pairs in chunks: x0 ~ N(0, std^2 I) from `seed + i`, x1 = teacher flow of x0. With a
 * `store`, each finished chunk is saved at once and a chunk already saved is not generated again.
 * @example
 * const { x0, x1, nfe } = await generatePairs({ field: vf, path, solver: dopri5,
 *   setting: { rtol: 1e-5, atol: 1e-5 }, shape: [2], count: 5000, seed: 7 });
 */
export async function generatePairs(
  opts: PairsInput,
): Promise<
  { x0: Float32Array; x1: Float32Array; nfe: number; cpuSeconds?: number; seconds: number }
> {
  const { field: vf, path, solver, setting, shape, count: n, seed } = opts;
  const chunk = opts.evalBatch ?? 2000;
  const dim = shape.reduce((a, b) => a * b, 1);
  const x0 = new Float32Array(n * dim), x1 = new Float32Array(n * dim);
  let nfe = 0, seconds = 0;
  let cpuSeconds: number | undefined = 0;
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    let part = await opts.store?.load(i);
    if (!part || part.x0.length !== m * dim || part.x1.length !== m * dim) {
      throwIfStopped(opts.stop);
      const cpu0 = threadCpuSeconds(), t0 = performance.now();
      const a = sourceNoise({ path, shape, count: m, seed: seed + i });
      const counted = countNfe(stoppable(vf, opts.stop));
      try {
        const { x } = await solver.integrate(counted.f, a, solveOptions(path, setting));
        const cpu1 = threadCpuSeconds();
        part = {
          x0: await a.data() as Float32Array,
          x1: await x.data() as Float32Array,
          nfe: counted.count(),
          seconds: (performance.now() - t0) / 1000,
          ...(cpu0 !== undefined && cpu1 !== undefined ? { cpuSeconds: cpu1 - cpu0 } : {}),
        };
        x.dispose();
      } finally {
        a.dispose();
      }
      await opts.store?.save(i, part);
    }
    nfe = Math.max(nfe, part.nfe);
    seconds += part.seconds ?? 0;
    cpuSeconds = cpuSeconds !== undefined && part.cpuSeconds !== undefined
      ? cpuSeconds + part.cpuSeconds
      : undefined;
    x0.set(part.x0, i * dim);
    x1.set(part.x1, i * dim);
  }
  return { x0, x1, nfe, seconds, ...(cpuSeconds !== undefined ? { cpuSeconds } : {}) };
}

/**
 * Save pairs durably as <file>.f32 (x0 then x1) and then <file>.json (provenance), so a .json
 * always describes a complete .f32.
 * @example
 * await savePairs("runs/x/reflow/moons__1-rf__mlp-default", pairs);
 */
export async function savePairs(file: string, p: ReflowPairs): Promise<void> {
  const buf = new Float32Array(p.x0.length * 2);
  buf.set(p.x0, 0);
  buf.set(p.x1, p.x0.length);
  await writeFileAtomic(`${file}.f32`, new Uint8Array(buf.buffer));
  await writeFileAtomic(`${file}.json`, JSON.stringify(p.provenance, null, 1));
}

/**
 * Load cached pairs if their provenance matches what would be generated now; null when they are
 * absent or stale. Pairs that fail their check (checkPairs) are moved aside, both files, told to
 * `log`, and null returned (they are generated again).
 * @example
 * const pairs = await loadPairs("runs/x/reflow/moons__2-rf__mlp-default", expect);
 */
export async function loadPairs(
  file: string,
  expect: Omit<ReflowProvenance, "nfe" | "file">,
  log?: (line: string) => void,
): Promise<ReflowPairs | null> {
  let json: string, f32: Uint8Array;
  try {
    json = await Deno.readTextFile(`${file}.json`);
    f32 = await Deno.readFile(`${file}.f32`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    return checkPairs({ json, f32, file, expect });
  } catch (e) {
    if (!(e instanceof FileCheckError)) throw e;
    // The two files are one cache: both are set aside, so neither is trusted without the other.
    const moved = [await moveAside(`${file}.json`), await moveAside(`${file}.f32`)];
    log?.(
      `${e.message}; moved the pair to ${
        moved.filter(Boolean).join(" and ")
      }; they are generated again`,
    );
    return null;
  }
}

/**
 * A Teacher serving random batches of cached pairs (deterministic in the batch seed).
 * @example
 * const [x0, x1] = await teacherFrom(pairs).pairs(256, 7); // a batch of 256 cached pairs
 */
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
    /** Told when cached pairs fail their check and are moved aside. */
    private readonly log?: (line: string) => void,
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

  /**
   * Resume: reload a teacher's cached pairs and publish them; returns their provenance, or null
   * when they are missing or stale.
   */
  async restore(run: Run, hash: string, shape: number[]): Promise<ReflowProvenance | null> {
    const pairs = await loadPairs(this.#file(run), this.#expectation(run, hash, shape), this.log);
    if (pairs) this.#published.set(this.#key(run, run.method.label), teacherFrom(pairs));
    return pairs?.provenance ?? null;
  }

  /**
   * Generate a teacher run's pairs with the adaptive solver, save them, and publish them. Each
   * finished chunk is kept under `reflow/<run id>.parts/` until the whole set is saved, so an
   * interrupted generation resumes with the chunks it has.
   */
  async publish(
    run: Run,
    hash: string,
    vf: VelocityField,
    path: Path,
    shape: number[],
    stop?: StopRequest,
  ): Promise<ReflowProvenance> {
    const expect = this.#expectation(run, hash, shape);
    await phase("pairs", run.id);
    const parts = `${this.#file(run)}.parts`;
    const chunkFile = (i: number) => `${parts}/${hash}-${i}.safetensors`;
    const log = this.log;
    const store: ChunkStore = {
      load: (i) =>
        readChecked({
          file: chunkFile(i),
          check: checkPairChunk,
          then: "the chunk is generated again",
          log,
        }),
      save: (i, c) =>
        writeFileAtomic(
          chunkFile(i),
          encodeSafetensors({
            x0: { shape: [c.x0.length], data: c.x0 },
            x1: { shape: [c.x1.length], data: c.x1 },
          }, {
            nfe: String(c.nfe),
            ...(c.cpuSeconds !== undefined ? { cpuSeconds: String(c.cpuSeconds) } : {}),
            ...(c.seconds !== undefined ? { seconds: String(c.seconds) } : {}),
          }),
        ),
    };
    const gen = await generatePairs({
      field: vf,
      path,
      solver: this.solver,
      setting: expect.setting,
      shape,
      count: expect.n,
      seed: expect.seed,
      stop,
      store,
      evalBatch: this.cfg.eval.batch,
    });
    const bad = gen.x1.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      // Cached, such pairs would end every student's training in a NaN loss at step 1.
      throw new Error(
        `teacher ${run.method.label}'s flow gave a non-finite sample (${gen.x1[bad]} at value ` +
          `${bad} of its reflow pairs); no pairs were saved`,
      );
    }
    const pairs: ReflowPairs = {
      x0: gen.x0,
      x1: gen.x1,
      provenance: {
        ...expect,
        nfe: gen.nfe,
        file: `${this.#file(run)}.f32`,
        seconds: gen.seconds,
        ...(gen.cpuSeconds !== undefined ? { cpuSeconds: gen.cpuSeconds } : {}),
      },
    };
    await savePairs(this.#file(run), pairs);
    await Deno.remove(parts, { recursive: true }).catch(() => {}); // the chunks are in the .f32
    this.#published.set(this.#key(run, run.method.label), teacherFrom(pairs));
    return pairs.provenance;
  }

  /** A teacher's pairs are keyed by seed, data set, model and the teacher method's label. */
  #key(run: Run, method: string): string {
    return `${run.seed}|${run.dataset}|${run.model.name}|${method}`;
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
      seed: subSeed(run.seed, `reflow-${run.id}`),
      n: this.cfg.eval.reflowPairs,
      shape,
      teacherConfigHash: hash,
    };
  }
}
