// Learning curves: the probe steps, the paired change over the last decade, a tracker that survives its own
// state, and training with probes: on the EMA weights, leaving training bit for bit unchanged, and
// resumed from a checkpoint to the same curve as an uninterrupted run.
import assert from "node:assert/strict";
import type { tf } from "../core/tf.ts";
import { readCheckpointState } from "../harness/checkpoint.ts";
import {
  checkCheckpointState,
  CHECKPOINT_FORMAT,
  trainRecordCheck,
} from "../harness/checkpoint-check.ts";
import { FileCheckError } from "../store/validate.ts";
import {
  decadeBefore,
  LearningCurve,
  learningSteps,
  pairedChange,
  type ProbeResult,
} from "../harness/learning-curve.ts";
import { learningProbe } from "../harness/learning-probe.ts";
import { w2 } from "../harness/metrics/w2.ts";
import { train } from "../harness/train.ts";
import { tinyTraining } from "./helpers/tiny-training.ts";

Deno.test("learningSteps: 1-2-5 per decade from `from`, below the total, then the total", () => {
  assert.deepEqual(learningSteps(1000, 10), [10, 20, 50, 100, 200, 500, 1000]);
  assert.deepEqual(learningSteps(20000, 10), [
    10,
    20,
    50,
    100,
    200,
    500,
    1000,
    2000,
    5000,
    10000,
    20000,
  ]);
  assert.deepEqual(learningSteps(1500, 30), [50, 100, 200, 500, 1000, 1500]);
  assert.deepEqual(learningSteps(5, 10), [5]);
  assert.deepEqual(learningSteps(1, 1), [1]);
  assert.throws(() => learningSteps(0, 10), /total must be a positive integer, got 0/);
  assert.throws(() => learningSteps(10, 0.5), /from must be a positive integer, got 0.5/);
});

Deno.test("decadeBefore: the latest earlier probe at or below a tenth of the step", () => {
  assert.equal(decadeBefore(1000, [10, 20, 50, 100, 200, 500]), 100);
  assert.equal(decadeBefore(1500, [10, 100, 1000]), 100);
  assert.equal(decadeBefore(999, [10, 20, 50, 100]), 50);
  assert.equal(decadeBefore(50, [10, 20]), undefined);
});

Deno.test("pairedChange: mean and standard error of the per-point differences, finite pairs only", () => {
  const r = pairedChange([1, 2, 3, 4], [0.5, 1.5, 2.7, 3.2]);
  // differences -0.5, -0.5, -0.3, -0.8: mean -0.525, sd 0.2062..., se sd / 2
  assert.ok(Math.abs(r.change! + 0.525) < 1e-12);
  const sd = Math.sqrt(((0.025 ** 2) * 2 + 0.225 ** 2 + 0.275 ** 2) / 3);
  assert.ok(Math.abs(r.stderr! - sd / 2) < 1e-12);
  // A point not finite in either is left out of the pairs.
  const s = pairedChange([1, null, 3], [2, 5, NaN]);
  assert.deepEqual(s, { change: 1, stderr: null });
  assert.deepEqual(pairedChange([null], [1]), { change: null, stderr: null });
});

Deno.test("LearningCurve: points, the paired change, a failed probe, state and restore", async () => {
  // Per-point NLL at step s: base_i + 1 / s (every point improves by the same amount), plus a
  // point-specific offset, so the paired change is exact with standard error 0.
  const base = [1, 2, 3, 4, 5];
  const probe = (s: number): Promise<ProbeResult> => {
    if (s === 20) return Promise.reject(new Error("solver blew up"));
    return Promise.resolve({
      nll: Float64Array.from(base, (b) => b + 1 / s),
      metrics: { w2: 1 / s, bad: NaN },
      errors: [],
    });
  };
  const steps = learningSteps(1000, 1);
  const a = new LearningCurve({ steps, probe });
  for (const s of [1, 2, 5, 10, 20, 50, 100]) {
    assert.ok(a.due(s));
    await a.measure(s, s / 100);
  }
  assert.equal(a.due(100), false, "measured already");
  assert.equal(a.due(150), false, "not a probe step");
  const p10 = a.points[3];
  assert.equal(p10.step, 10);
  assert.ok(Math.abs(p10.nll! - (3 + 0.1)) < 1e-12);
  assert.ok(p10.stderr! > 0);
  assert.deepEqual(p10.metrics, { w2: 0.1, bad: null });
  // Step 10 compares with step 1 (the latest at or below 10 / 10).
  assert.equal(p10.change?.from, 1);
  assert.ok(Math.abs(p10.change!.nll! - (0.1 - 1)) < 1e-12);
  assert.ok(p10.change!.stderr! < 1e-12);
  const p20 = a.points[4];
  assert.equal(p20.nll, null);
  assert.equal(p20.stderr, null);
  assert.deepEqual(p20.metrics, {});
  assert.equal(p20.change, undefined);
  assert.match(p20.error!, /solver blew up/);
  assert.equal(a.points[5].change?.from, 5);
  assert.equal(a.points[6].change?.from, 10);

  // A tracker restored from the state continues exactly as the original.
  const b = new LearningCurve({ steps, probe });
  b.restore(JSON.parse(JSON.stringify(a.state())));
  for (const c of [a, b]) {
    await c.measure(200, 2);
    await c.measure(500, 5);
    await c.measure(1000, 10);
  }
  const strip = (c: LearningCurve) => c.points.map(({ probeSeconds: _, ...p }) => p);
  assert.deepEqual(strip(b), strip(a));
  assert.equal(a.points.at(-1)!.change?.from, 100);
  assert.equal(a.points.at(-2)!.change?.from, 50);
  assert.equal(a.points.at(-3)!.change?.from, 10, "step 20 failed: its decade falls back to 10");
  // Only the per-point NLL a later probe can compare with is kept: from a tenth of the last step.
  assert.deepEqual(a.state().perPoint.map(([s]) => s), [100, 200, 500, 1000]);
});

const { reg, data, parts } = await tinyTraining({ nTest: 100 });
type Parts = ReturnType<typeof parts>;

function weights(m: { variables(): tf.Variable[] }): Promise<number[][]> {
  return Promise.all(m.variables().map(async (v) => Array.from(await v.data())));
}

/** The real probe (exact NLL of 30 held-out points, W2 of 30 samples) for a run's parts. */
async function realProbe(p: Parts) {
  const ref = await data.testSet(30).data() as Float32Array;
  const probe = learningProbe({
    field: p.loss.velocity(p.model, p.path),
    path: p.path,
    data,
    solver: reg.solvers.get("dopri5")!,
    config: { from: 1, n: 30, rtol: 1e-3, atol: 1e-3 },
    quality: {
      fn: async (x) => ({ metrics: { w2: w2(await x.data() as Float32Array, ref, 30, 2) } }),
      dispose() {},
    },
    seed: 5,
  });
  return probe;
}

Deno.test("train with a learning curve: probes the EMA weights, and training is bit for bit unchanged", async () => {
  const a = parts();
  const plain = await train(a);
  assert.deepEqual(plain.learningCurve, []);
  plain.useEma();
  const want = await weights(a.model);

  const b = parts();
  const seen: number[][][] = [];
  const real = await realProbe(b);
  const out = await train({
    ...b,
    curve: {
      steps: [1, 2, 5, 10, 20, 40],
      probe: async (s) => {
        if (s === 40) seen.push(await weights(b.model));
        return real.probe(s);
      },
    },
  });
  real.dispose();
  assert.deepEqual(out.lossCurve, plain.lossCurve, "the probes changed training");
  assert.deepEqual(out.learningCurve.map((p) => p.step), [1, 2, 5, 10, 20, 40]);
  // The probe at the last step saw the EMA weights, the ones evaluation uses.
  assert.deepEqual(seen[0], want);
  out.useEma();
  assert.deepEqual(await weights(b.model), want);
  for (const p of out.learningCurve) {
    assert.ok(Number.isFinite(p.nll) && p.stderr! > 0, `step ${p.step}: NLL ${p.nll}`);
    assert.ok(p.metrics.w2! > 0, `step ${p.step}: W2 ${p.metrics.w2}`);
    assert.ok(p.probeSeconds > 0 && p.seconds >= 0);
  }
  // Training improves the held-out NLL of this model from step 1 to 40 (3.3 -> about 2.3 nats
  // here): the change at step 10 (from step 1) is negative beyond its noise.
  const p10 = out.learningCurve[3];
  assert.equal(p10.change?.from, 1);
  assert.ok(p10.change!.nll! < -2 * p10.change!.stderr!, JSON.stringify(p10.change));
  assert.ok(out.learningCurve.at(-1)!.nll! < out.learningCurve[0].nll! - 0.3);
  // Training seconds exclude the probes': they rise, and by less than the wall time.
  const secs = out.learningCurve.map((p) => p.seconds);
  assert.deepEqual([...secs].sort((x, y) => x - y), secs);
  for (const x of [a, b]) x.model.dispose();
  for (const o of [plain, out]) o.dispose();
});

Deno.test("train with a learning curve: a run resumed from its checkpoint records the same curve", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/ck.safetensors`;
  const steps = [1, 2, 5, 10, 20, 40];
  const a = parts();
  const pa = await realProbe(a);
  const full = await train({ ...a, curve: { steps, probe: pa.probe } });
  pa.dispose();

  const b = parts();
  const pb = await realProbe(b);
  await assert.rejects(
    train({
      ...b,
      curve: { steps, probe: pb.probe },
      checkpoint: { file, key: "k", every: 20 },
      onProgress: (p) => {
        if (p.step === 20) throw new Error("simulated interruption");
      },
    }),
    /simulated interruption/,
  );
  pb.dispose();
  b.model.dispose();
  const saved = await readCheckpointState(file);
  assert.deepEqual(saved.learning?.points.map((p) => p.step), [1, 2, 5, 10, 20]);
  assert.deepEqual(saved.learning?.perPoint.map(([s]) => s), [2, 5, 10, 20]);

  const c = parts();
  const pc = await realProbe(c);
  const rest = await train({
    ...c,
    curve: { steps, probe: pc.probe },
    checkpoint: { file, key: "k", every: 20 },
  });
  pc.dispose();
  assert.deepEqual(rest.resumedFrom, [20]);
  const strip = (ps: typeof full.learningCurve) =>
    ps.map(({ probeSeconds: _p, seconds: _s, ...p }) => p);
  assert.deepEqual(strip(rest.learningCurve), strip(full.learningCurve));
  for (const x of [a, c]) x.model.dispose();
  for (const o of [full, rest]) o.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("learning curve read back: a checkpoint's or weights file's curve out of order or past its step is refused", () => {
  const point = (step: number, extra = {}) => ({
    step,
    seconds: 1,
    nll: 2.5,
    stderr: 0.05,
    metrics: { w2: 0.4 },
    probeSeconds: 0.1,
    ...extra,
  });
  const state = (learning: unknown, step = 100) =>
    ({
      format: CHECKPOINT_FORMAT,
      state: JSON.stringify({ step, curve: [], lastLoss: null, learning }),
    }) as Record<string, string>;
  const good = { points: [point(20), point(50)], perPoint: [[20, [1, 2]], [50, [1, null]]] };
  assert.equal(checkCheckpointState(state(good), "ck").learning?.points.length, 2);
  const bad: Array<[unknown, RegExp]> = [
    [
      { ...good, points: [point(50), point(20)] },
      /state\.learning\.points\[1\]\.step.*out of order/,
    ],
    [good, /state\.learning\.points\[1\]\.step.*past step 40/],
    [{ ...good, perPoint: [[30, [1, 2]]] }, /perPoint\[0\]\[0\].* a step with no point/],
    [{ ...good, perPoint: [[20, [1, 2]], [50, [1]]] }, /perPoint\[1\]\[1\] holds 1 values/],
    [{ ...good, points: [point(20, { change: { from: 20, nll: 0, stderr: 0 } })] }, /change\.from/],
    [{ ...good, points: [point(20, { stderr: -1 })] }, /stderr/],
    [{ points: "x", perPoint: [] }, /state\.learning\.points/],
  ];
  for (const [learning, re] of bad) {
    const step = learning === good ? 40 : 100;
    assert.throws(() => checkCheckpointState(state(learning, step), "ck"), (e: Error) => {
      assert.ok(e instanceof FileCheckError, String(e));
      assert.match(e.message, re);
      return true;
    });
  }
  const record = (learningCurve: unknown) => ({
    steps: 100,
    batch: 8,
    seconds: 1,
    lossCurve: [[100, 0.5]],
    finalLoss: 0.5,
    learningCurve,
  });
  assert.ok(trainRecordCheck(100)(record([point(20), point(100)]), "info.train"));
  assert.throws(
    () => trainRecordCheck(100)(record([point(20), point(200)]), "info.train"),
    /info\.train\.learningCurve\[1\]\.step = 200, .*past step 100|in \[1, 100\]/,
  );
});
