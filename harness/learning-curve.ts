// Learning curves: at log-spaced training steps (1-2-5 per decade, and the last step) a cheap,
// fixed probe of the model (held-out NLL, a sample metric); each point also records how much the
// NLL of the same held-out points changed since the probe a decade earlier, and all of it (the
// per-point NLL later points compare with included) survives a resume through the checkpoint.
import type { LearningPoint } from "../results/schema.ts";

export type { LearningPoint };

/** What one probe of the model measured. */
export interface ProbeResult {
  /** NLL of each probe point (nats); absent when the likelihood failed. */
  nll?: Float64Array;
  /** Sample metrics of the probe's fixed noise batch, e.g. { w2: 0.41 } (null: not finite). */
  metrics: Record<string, number | null>;
  /** Why a part of the probe failed (its figures are absent). */
  errors: string[];
}

/** Measures the model as it is now (the trainer has put the weights to evaluate in place). */
export type CurveProbe = (step: number) => Promise<ProbeResult>;

/** What a checkpoint carries of a learning curve. */
export interface LearningState {
  points: LearningPoint[];
  /** The per-point NLL (null: not finite) of the probes later points still compare with. */
  perPoint: Array<[number, Array<number | null>]>;
}

/**
 * The probe steps of a run of `total` steps: 1, 2 and 5 times a power of ten from `from` on, below
 * `total`, and `total` itself.
 * @example
 * learningSteps(1000, 10); // [10, 20, 50, 100, 200, 500, 1000]
 * learningSteps(1500, 10); // [10, 20, 50, 100, 200, 500, 1000, 1500]
 */
export function learningSteps(total: number, from: number): number[] {
  if (!(Number.isInteger(total) && total >= 1)) {
    throw new RangeError(`learningSteps: total must be a positive integer, got ${total}`);
  }
  if (!(Number.isInteger(from) && from >= 1)) {
    throw new RangeError(`learningSteps: from must be a positive integer, got ${from}`);
  }
  const out: number[] = [];
  for (let p = 1; p < total; p *= 10) {
    for (const m of [1, 2, 5]) {
      const s = m * p;
      if (s >= from && s < total) out.push(s);
    }
  }
  out.push(total);
  return out;
}

/**
 * The probe step a point at `step` is compared with: the latest of `earlier` at or below step / 10
 * (undefined when there is none): the change over the last decade of training. A decade, not the
 * last doubling: constant-lr training has plateaus (toy2d FM w/ OT on moons: -0.07 nats from step
 * 500 to 1000, then -0.8 from 1000 to 5000) that a shorter window takes for convergence.
 * @example
 * decadeBefore(1000, [10, 20, 50, 100, 200, 500]); // 100
 * decadeBefore(1500, [10, 20, 50, 100, 200, 500, 1000]); // 100
 */
export function decadeBefore(step: number, earlier: number[]): number | undefined {
  let best: number | undefined;
  for (const s of earlier) if (s <= step / 10 && (best === undefined || s > best)) best = s;
  return best;
}

/**
 * Mean and standard error of the paired differences b_i - a_i over the points finite in both
 * (stderr null with fewer than 2 pairs; both null with none).
 * @example
 * pairedChange([1, 2, 3], [0.5, 1.5, 2.7]); // { change: -0.4333..., stderr: 0.0666... }
 */
export function pairedChange(
  a: ArrayLike<number | null>,
  b: ArrayLike<number | null>,
): { change: number | null; stderr: number | null } {
  const d: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i], y = b[i];
    if (
      typeof x === "number" && typeof y === "number" && Number.isFinite(x) && Number.isFinite(y)
    ) {
      d.push(y - x);
    }
  }
  if (d.length === 0) return { change: null, stderr: null };
  const mean = d.reduce((s, x) => s + x, 0) / d.length;
  if (d.length < 2) return { change: mean, stderr: null };
  const ss = d.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { change: mean, stderr: Math.sqrt(ss / (d.length - 1) / d.length) };
}

/** Mean and standard error of the finite values (null when none / fewer than 2). */
function meanStderr(xs: ArrayLike<number | null>): { mean: number | null; stderr: number | null } {
  const v: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (typeof x === "number" && Number.isFinite(x)) v.push(x);
  }
  // A point whose NLL is not finite makes the mean infinite: report the mean as not computable.
  if (v.length === 0 || v.length < xs.length) return { mean: null, stderr: null };
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  if (v.length < 2) return { mean, stderr: null };
  const ss = v.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { mean, stderr: Math.sqrt(ss / (v.length - 1) / v.length) };
}

const finiteOrNull = (x: number | null) => (typeof x === "number" && Number.isFinite(x) ? x : null);

/**
 * A run's learning curve while it trains: which steps are due, the probe at each, and the state a
 * checkpoint keeps.
 * @example
 * const curve = new LearningCurve({ steps: learningSteps(1000, 10), probe });
 * if (curve.due(step)) await curve.measure(step, trainingSeconds);
 */
export class LearningCurve {
  readonly steps: number[];
  readonly points: LearningPoint[] = [];
  private readonly probe: CurveProbe;
  private perPoint = new Map<number, Array<number | null>>();

  constructor(o: { steps: number[]; probe: CurveProbe }) {
    this.steps = o.steps;
    this.probe = o.probe;
  }

  /** The last step measured (0 before the first probe). */
  get last(): number {
    return this.points.at(-1)?.step ?? 0;
  }

  /**
   * Whether `step` (completed steps) is a probe step not yet measured.
   * @example
   * curve.due(10); // true before the probe at step 10
   */
  due(step: number): boolean {
    return step > this.last && this.steps.includes(step);
  }

  /**
   * Probe the model after `step` completed steps and `seconds` of training; a probe that throws
   * is recorded as a point without figures and its error (training goes on).
   * @example
   * const p = await curve.measure(100, 2.5); // p.nll, p.metrics.w2, p.change?.nll
   */
  async measure(step: number, seconds: number): Promise<LearningPoint> {
    const start = performance.now();
    let r: ProbeResult;
    try {
      r = await this.probe(step);
    } catch (e) {
      r = { metrics: {}, errors: [e instanceof Error ? e.message : String(e)] };
    }
    const per = r.nll ? Array.from(r.nll, (x) => finiteOrNull(x)) : undefined;
    const { mean, stderr } = per ? meanStderr(per) : { mean: null, stderr: null };
    const from = decadeBefore(step, [...this.perPoint.keys()]);
    const paired = per && from !== undefined ? pairedChange(this.perPoint.get(from)!, per) : null;
    const change = paired ? { from: from!, nll: paired.change, stderr: paired.stderr } : undefined;
    const metrics = Object.fromEntries(
      Object.entries(r.metrics).map(([k, v]) => [k, finiteOrNull(v)]),
    );
    const point: LearningPoint = {
      step,
      seconds,
      nll: mean,
      stderr,
      metrics,
      ...(change ? { change } : {}),
      probeSeconds: (performance.now() - start) / 1000,
      ...(r.errors.length ? { error: r.errors.join("; ").slice(0, 2000) } : {}),
    };
    this.points.push(point);
    if (per) this.perPoint.set(step, per);
    this.forget(step);
    return point;
  }

  /** Drop the per-point NLL no later probe compares with (all of them are after `step`). */
  private forget(step: number): void {
    const keepFrom = decadeBefore(step, [...this.perPoint.keys()]) ?? 0;
    for (const s of [...this.perPoint.keys()]) if (s < keepFrom) this.perPoint.delete(s);
  }

  /**
   * The curve so far, for a checkpoint.
   * @example
   * await saveCheckpoint(file, key, vars, ema, opt, { ...state, learning: curve.state() });
   */
  state(): LearningState {
    return { points: [...this.points], perPoint: [...this.perPoint] };
  }

  /**
   * Continue a curve a checkpoint carried (its points must end at or before the resumed step).
   * @example
   * if (ck.learning) curve.restore(ck.learning);
   */
  restore(s: LearningState): void {
    this.points.length = 0;
    this.points.push(...s.points);
    this.perPoint = new Map(s.perPoint);
  }
}
