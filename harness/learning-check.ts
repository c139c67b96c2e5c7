// What a learning curve read back from a checkpoint or weights file must be: points of the right
// types in step order within the budget, and the per-point NLL a checkpoint keeps belonging to them.
import {
  arr,
  type Check,
  nullable,
  num,
  obj,
  optional,
  record,
  show,
  str,
  tuple,
  ValidationError,
} from "../store/validate.ts";
import type { LearningPoint } from "../results/schema.ts";
import type { LearningState } from "./learning-curve.ts";

/** Most probe points a curve may hold (1-2-5 per decade: 3 a decade). */
const MAX_POINTS = 10_000;
/** Most held-out points a probe may have measured. */
const MAX_PROBE = 1_000_000;

const stderr = nullable(num({ min: 0 }));

/** One point, with its step in [1, total]. */
function pointCheck(total: number): Check<LearningPoint> {
  return obj({
    step: num({ int: true, min: 1, max: total }),
    seconds: num({ min: 0 }),
    nll: nullable(num()),
    stderr,
    metrics: record(nullable(num())),
    change: optional(obj({
      from: num({ int: true, min: 1, max: total }),
      nll: nullable(num()),
      stderr,
    })),
    probeSeconds: num({ min: 0 }),
    error: optional(str({ max: 100_000 })),
  }) as Check<LearningPoint>;
}

/**
 * A learning curve of a run of `total` steps whose completed steps are `upTo` (read from its
 * record): points in strictly rising step order, none past `upTo`, each compared with an earlier
 * step. Throws a ValidationError naming the point.
 * @example
 * learningCurveCheck(1000)([{ step: 10, seconds: 0.2, nll: 3.1, stderr: 0.07, metrics: { w2: 1 },
 *   probeSeconds: 0.1 }], "info.train.learningCurve", 1000);
 */
export function learningCurveCheck(total: number) {
  const points = arr(pointCheck(total), { max: MAX_POINTS });
  return (v: unknown, at: string, upTo: number): LearningPoint[] => {
    const ps = points(v, at);
    ps.forEach((p, i) => {
      if (p.step > upTo || (i > 0 && p.step <= ps[i - 1].step)) {
        throw new ValidationError(
          `${at}[${i}].step`,
          `= ${p.step} is out of order or past step ${upTo}`,
        );
      }
      if (p.change && p.change.from >= p.step) {
        throw new ValidationError(
          `${at}[${i}].change.from`,
          `= ${p.change.from}, expected an earlier step than ${p.step}`,
        );
      }
    });
    return ps;
  };
}

/**
 * A checkpoint's learning state for a budget of `total` steps with `upTo` steps completed: its
 * curve, and per-point NLL vectors of equal length, each of a step the curve has.
 * @example
 * learningStateCheck(1000)({ points: [], perPoint: [] }, "state.learning", 0);
 */
export function learningStateCheck(total: number) {
  const curve = learningCurveCheck(total);
  const per = arr(
    tuple(num({ int: true, min: 1, max: total }), arr(nullable(num()), { max: MAX_PROBE })),
    { max: MAX_POINTS },
  );
  return (v: unknown, at: string, upTo: number): LearningState => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      throw new ValidationError(at, `= ${show(v)}, expected an object`);
    }
    const s = v as { points?: unknown; perPoint?: unknown };
    const points = curve(s.points, `${at}.points`, upTo);
    const perPoint = per(s.perPoint, `${at}.perPoint`) as Array<[number, Array<number | null>]>;
    const steps = new Set(points.map((p) => p.step));
    perPoint.forEach(([step, xs], i) => {
      if (!steps.has(step)) {
        throw new ValidationError(`${at}.perPoint[${i}][0]`, `= ${step}, a step with no point`);
      }
      if (xs.length !== perPoint[0][1].length) {
        throw new ValidationError(
          `${at}.perPoint[${i}][1]`,
          `holds ${xs.length} values, the first holds ${perPoint[0][1].length}`,
        );
      }
    });
    return { points, perPoint };
  };
}
