// What a training checkpoint and a weights file must hold before a run trusts them: the format
// tag, state and training record of the right types, ranges and consistency, and a finite F32
// tensor of the right shape for every variable (and Adam moment). Pure: bytes in, values out.
import type { SafetensorsFile } from "../store/safetensors.ts";
import {
  arr,
  type Check,
  checkFile,
  literal,
  nullable,
  num,
  obj,
  optional,
  parseJson,
  tuple,
  ValidationError,
} from "../store/validate.ts";
import type { TrainRecord } from "../results/schema.ts";
import { quote } from "../store/quote.ts";
import { learningCurveCheck, learningStateCheck } from "./learning-check.ts";
import type { LearningState } from "./learning-curve.ts";

/**
 * Format tags of the two files (the safetensors `__metadata__.format`).
 * @example
 * encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, key, state, optNames });
 */
export const CHECKPOINT_FORMAT = "fmbench/checkpoint@1";
/**
 * Format tag of a run's trained weights.
 * @example
 * encodeSafetensors(tensors, { format: WEIGHTS_FORMAT, key, info });
 */
export const WEIGHTS_FORMAT = "fmbench/weights@1";

/** The training state a checkpoint carries besides its tensors. */
export interface CheckpointState {
  /** Optimizer steps completed. */
  step: number;
  curve: Array<[number, number]>;
  /** The last curve point's loss (NaN, written null, before the first point). */
  lastLoss: number;
  /** Training seconds spent before this checkpoint, summed over every session. */
  seconds?: number;
  /** CPU seconds of the training thread before this checkpoint, summed over every session. */
  cpuSeconds?: number;
  /** CPU seconds per step of each logging interval so far (for the spread of the cost). */
  cpuPerStep?: number[];
  /** Losses of the steps since the last loss-curve point (so the curve continues exactly). */
  pending?: number[];
  /** Steps at which training resumed from a checkpoint so far. */
  resumedFrom?: number[];
  /** The learning curve so far (points up to `step`), when the run records one. */
  learning?: LearningState;
}

/** What the run that reads a checkpoint or weights file expects of it. */
export interface ModelExpect {
  /** The run's config hash: a file with another key is another config's (not used, not bad). */
  key: string;
  /** The model's variable shapes, in order. */
  shapes: number[][];
  /** The training budget in steps (a file's step counts must lie in [0, totalSteps]). */
  totalSteps?: number;
}

/** A checkpoint's content, checked. */
export interface CheckedCheckpoint {
  state: CheckpointState;
  vars: Float32Array[];
  ema: Float32Array[];
  /** The optimizer's named state: "iter" (= state.step), then every first and second moment. */
  opt: Array<{ name: string; data: Float32Array }>;
  /** tfjs Adam's running products beta1^t and beta2^t, when saved. */
  accBeta?: [number, number];
}

const steps = (total: number) => num({ int: true, min: 0, max: total });
const losses = (total: number) =>
  arr(tuple(num({ int: true, min: 1, max: total }), num()), {
    max: total,
  });

/** The checkpoint state schema for a budget of `total` steps. */
function stateCheck(total: number): Check<CheckpointState> {
  const c = obj({
    step: steps(total),
    curve: losses(total),
    lastLoss: nullable(num()),
    seconds: optional(num({ min: 0 })),
    cpuSeconds: optional(num({ min: 0 })),
    cpuPerStep: optional(arr(num({ min: 0 }), { max: total })),
    pending: optional(arr(nullable(num()), { max: total })),
    resumedFrom: optional(arr(steps(total), { max: total })),
  });
  const learning = learningStateCheck(total);
  return (v, at) => {
    const s = c(v, at);
    const raw = (v as { learning?: unknown }).learning;
    const learned = raw === undefined ? undefined : learning(raw, `${at}.learning`, s.step);
    const lastPoint = curveConsistent(s.curve, s.step, `${at}.curve`);
    if (s.lastLoss !== (s.curve.at(-1)?.[1] ?? null)) {
      throw new ValidationError(
        `${at}.lastLoss`,
        `= ${s.lastLoss}, expected the last curve point's loss ${s.curve.at(-1)?.[1] ?? null}`,
      );
    }
    if (s.pending && lastPoint + s.pending.length !== s.step) {
      throw new ValidationError(
        `${at}.pending`,
        `holds ${s.pending.length} losses, but ${s.step - lastPoint} steps follow the last ` +
          `curve point (step ${lastPoint}) up to step ${s.step}`,
      );
    }
    ascending(s.resumedFrom ?? [], s.step, `${at}.resumedFrom`, false);
    const { pending, ...rest } = s;
    return {
      ...rest,
      lastLoss: s.lastLoss ?? NaN,
      ...(pending ? { pending: pending.map((x) => x ?? NaN) } : {}),
      ...(learned ? { learning: learned } : {}),
    };
  };
}

/** Curve steps rise strictly and end at or before `upTo`; returns the last one (0 if none). */
function curveConsistent(curve: Array<[number, number]>, upTo: number, at: string): number {
  ascending(curve.map((p) => p[0]), upTo, at, true);
  return curve.at(-1)?.[0] ?? 0;
}

function ascending(xs: number[], upTo: number, at: string, strict: boolean): void {
  for (let i = 0; i < xs.length; i++) {
    if (xs[i] > upTo || (i > 0 && (strict ? xs[i] <= xs[i - 1] : xs[i] < xs[i - 1]))) {
      throw new ValidationError(
        `${at}[${i}]`,
        `(step ${xs[i]}) is out of order or past step ${upTo}`,
      );
    }
  }
}

/**
 * The training record a weights file carries (as results.json records it), for a budget of
 * `total` steps.
 * @example
 * trainRecordCheck(40)({ steps: 40, batch: 32, seconds: 1.5, lossCurve: [[40, 0.9]], finalLoss: 0.9 }, "info.train");
 */
export function trainRecordCheck(total = Number.MAX_SAFE_INTEGER): Check<TrainRecord> {
  const c = obj({
    steps: steps(total),
    batch: num({ int: true, min: 1 }),
    seconds: num({ min: 0 }),
    cpuSeconds: optional(num({ min: 0 })),
    cpuStderr: optional(num({ min: 0 })),
    resumedFrom: optional(arr(steps(total), { max: total })),
    lossCurve: losses(total),
    finalLoss: nullable(num()),
  });
  const learning = learningCurveCheck(total);
  return (v, at) => {
    const r = c(v, at);
    curveConsistent(r.lossCurve, r.steps, `${at}.lossCurve`);
    const raw = (v as { learningCurve?: unknown }).learningCurve;
    if (raw !== undefined) learning(raw, `${at}.learningCurve`, r.steps);
    if (r.lossCurve.length && r.finalLoss !== r.lossCurve.at(-1)![1]) {
      throw new ValidationError(
        `${at}.finalLoss`,
        `= ${r.finalLoss}, expected the last curve point's loss ${r.lossCurve.at(-1)![1]}`,
      );
    }
    ascending(r.resumedFrom ?? [], r.steps, `${at}.resumedFrom`, false);
    return r as TrainRecord;
  };
}

/** The metadata field `name` (a string), or a ValidationError naming it. */
function meta(f: SafetensorsFile, name: string): string {
  const v = f.metadata[name];
  if (v === undefined) throw new ValidationError(`__metadata__.${name}`, "is missing");
  return v;
}

/**
 * The finite F32 tensor `name` with `shape` (or, with `flat`, the same element count as one
 * dimension); a ValidationError names the tensor otherwise.
 */
function tensorOf(
  f: SafetensorsFile,
  name: string,
  shape: number[],
  o: { flat?: boolean; nonNegative?: boolean } = {},
): Float32Array {
  const e = f.entry(name);
  const size = shape.reduce((a, b) => a * b, 1);
  const want = JSON.stringify(shape);
  if (!e) throw new ValidationError(`tensor ${quote(name)}`, `is missing (expected F32 ${want})`);
  const got = JSON.stringify(e.shape);
  if (e.dtype !== "F32" || (got !== want && !(o.flat && got === `[${size}]`))) {
    throw new ValidationError(
      `tensor ${quote(name)}`,
      `is ${e.dtype} ${got}, expected F32 ${want}`,
    );
  }
  const data = f.float32(name);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]) || (o.nonNegative && data[i] < 0)) {
      throw new ValidationError(
        `tensor ${quote(name)}`,
        `holds ${data[i]} at element ${i}${o.nonNegative ? " (must be finite and >= 0)" : ""}`,
      );
    }
  }
  return data;
}

/** The tensors under `prefix/` must be exactly `prefix/0` .. `prefix/<count - 1>`. */
function countOf(f: SafetensorsFile, prefix: string, count: number, what: string): void {
  const found = f.names().filter((n) => n.startsWith(`${prefix}/`)).length;
  if (found !== count) {
    throw new ValidationError(`${prefix}/*`, `holds ${found} tensors, the ${what} has ${count}`);
  }
}

/**
 * Check a training checkpoint: format, state (step in [0, total], curve, pending losses and
 * resumes consistent with it), every variable and EMA copy, and Adam's state (iter = step, one
 * first and second moment per variable, second moments >= 0). Returns null for another
 * config's checkpoint (another key); throws a FileCheckError naming the file and field.
 * @example
 * const ck = checkCheckpoint(file, { key, shapes: vars.map((v) => v.shape), ema: true, totalSteps: 400 });
 */
export function checkCheckpoint(
  f: SafetensorsFile,
  expect: ModelExpect & { ema: boolean },
): CheckedCheckpoint | null {
  return checkFile(f.source, () => {
    literal(CHECKPOINT_FORMAT)(f.metadata.format, "__metadata__.format");
    if (meta(f, "key") !== expect.key) return null;
    const total = expect.totalSteps ?? Number.MAX_SAFE_INTEGER;
    const state = parseJson(meta(f, "state"), stateCheck(total), "state");
    const names = parseJson(meta(f, "optNames"), optNamesCheck(expect.shapes.length), "optNames");
    const { shapes } = expect;
    countOf(f, "var", shapes.length, "model");
    countOf(f, "ema", expect.ema ? shapes.length : 0, "model's EMA");
    countOf(f, "opt", names.length, "optNames list");
    const vars = shapes.map((s, i) => tensorOf(f, `var/${i}`, s));
    const ema = expect.ema ? shapes.map((s, i) => tensorOf(f, `ema/${i}`, s)) : [];
    const iter = tensorOf(f, "opt/0", []);
    if (iter[0] !== state.step) {
      throw new ValidationError(
        `tensor "opt/0" (Adam's iteration count)`,
        `= ${iter[0]}, but state.step = ${state.step}`,
      );
    }
    const k = shapes.length;
    const opt = names.map((name, i) => ({
      name,
      data: i === 0 ? iter : tensorOf(f, `opt/${i}`, shapes[(i - 1) % k], {
        flat: true,
        nonNegative: i > k,
      }),
    }));
    const b1 = f.entry("adam/accBeta1"), b2 = f.entry("adam/accBeta2");
    if (!b1 !== !b2) throw new ValidationError("adam/accBeta1, adam/accBeta2", "need each other");
    const unit = (name: string) => {
      const v = tensorOf(f, name, [])[0];
      if (!(v > 0 && v <= 1)) {
        throw new ValidationError(`tensor ${quote(name)}`, `= ${v}, not in (0, 1]`);
      }
      return v;
    };
    const accBeta: [number, number] | undefined = b1
      ? [unit("adam/accBeta1"), unit("adam/accBeta2")]
      : undefined;
    return { state, vars, ema, opt, ...(accBeta ? { accBeta } : {}) };
  });
}

/** optNames: "iter", then `<name>/m` for each of `k` variables, then `<name>/v` for each. */
function optNamesCheck(k: number): Check<string[]> {
  const names = arr((v, at) => {
    if (typeof v !== "string" || v.length > 1000) {
      throw new ValidationError(at, `= ${JSON.stringify(v)?.slice(0, 40)}, expected a name`);
    }
    return v;
  }, { min: 1 + 2 * k, max: 1 + 2 * k });
  return (v, at) => {
    const n = names(v, at);
    n.forEach((name, i) => {
      const want = i === 0 ? /^iter$/ : i <= k ? /\/m$/ : /\/v$/;
      if (!want.test(name)) {
        throw new ValidationError(`${at}[${i}]`, `= ${quote(name, 40)}, expected ${want.source}`);
      }
    });
    return n;
  };
}

/**
 * Check only a checkpoint's state (its header): for a status line or a test, without a model.
 * @example
 * checkCheckpointState(await readSafetensorsMetadata(path), path).step; // 120
 */
export function checkCheckpointState(
  metadata: Record<string, string>,
  source: string,
): CheckpointState {
  return checkFile(source, () => {
    literal(CHECKPOINT_FORMAT)(metadata.format, "__metadata__.format");
    if (metadata.state === undefined) {
      throw new ValidationError("__metadata__.state", "is missing");
    }
    return parseJson(metadata.state, stateCheck(Number.MAX_SAFE_INTEGER), "state");
  });
}

/** A weights file's content, checked. */
export interface CheckedWeights {
  vars: Float32Array[];
  /** What saveWeights stored with the weights: the training record. */
  info: { train: TrainRecord };
}

/**
 * Check a weights file: format, its training record (as results.json's schema, with steps in
 * [0, total] and a consistent loss curve) and a finite F32 tensor of the right shape per
 * variable. Returns null for another config's file; throws a FileCheckError otherwise.
 * @example
 * const w = checkWeights(file, { key, shapes: vars.map((v) => v.shape), totalSteps: 400 });
 */
export function checkWeights(f: SafetensorsFile, expect: ModelExpect): CheckedWeights | null {
  return checkFile(f.source, () => {
    literal(WEIGHTS_FORMAT)(f.metadata.format, "__metadata__.format");
    if (meta(f, "key") !== expect.key) return null;
    const info = parseJson(
      meta(f, "info"),
      obj({ train: trainRecordCheck(expect.totalSteps) }),
      "info",
    );
    countOf(f, "var", expect.shapes.length, "model");
    const vars = expect.shapes.map((s, i) => tensorOf(f, `var/${i}`, s));
    return { vars, info: { train: info.train } };
  });
}
