// Training checkpoints and stops: a run interrupted mid-way (by a crash or a stop request)
// resumes to exactly the uninterrupted result; the NaN guard says what it can tell.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import { readCheckpointState } from "../harness/checkpoint.ts";
import { Cancelled, isCancelled } from "../harness/stop.ts";
import { NonFiniteLossError, train } from "../harness/train.ts";
import { tinyTraining } from "./helpers/tiny-training.ts";

const { reg, config, parts } = await tinyTraining();

function weights(m: { variables(): tf.Variable[] }): Promise<number[][]> {
  return Promise.all(m.variables().map(async (v) => Array.from(await v.data())));
}

Deno.test("checkpoint: an interrupted run resumes to exactly the same weights, EMA and loss curve", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/ck.safetensors`;
  const a = parts();
  const full = await train(a);
  full.useEma();
  const want = await weights(a.model);

  const b = parts();
  const before = tf.memory().numTensors;
  await assert.rejects(
    train({
      ...b,
      checkpoint: { file, key: "k1", every: 20 },
      onProgress: (p) => {
        if (p.step === 20) throw new Error("simulated interruption");
      },
    }),
    /simulated interruption/,
  );
  b.model.dispose();
  // Saving leaves nothing behind (the model's own variables are gone with dispose()).
  assert.ok(tf.memory().numTensors <= before - b.model.variables().length, "checkpoint leaked");

  const c = parts();
  let resumedAt = -1;
  const rest = await train({
    ...c,
    checkpoint: { file, key: "k1", every: 20 },
    onResume: (s) => (resumedAt = s),
  });
  rest.useEma();
  assert.equal(resumedAt, 20);
  assert.deepEqual(rest.resumedFrom, [20]);
  // Adam's running beta powers are restored as saved (not recomputed as beta^t), so the resumed
  // run is bit-identical to the uninterrupted one on a deterministic backend.
  assert.deepEqual(rest.lossCurve, full.lossCurve);
  assert.deepEqual(await weights(c.model), want);

  // A checkpoint of another config is ignored: training starts over.
  const d = parts();
  let resumed = false;
  await train({
    ...d,
    checkpoint: { file, key: "other", every: 100 },
    onResume: () => (resumed = true),
  });
  assert.equal(resumed, false);
  for (const x of [a, c, d]) x.model.dispose();
  for (const o of [full, rest]) o.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: a stop between steps saves the completed steps (mid loss-interval) and time adds up", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/ck.safetensors`;
  const a = parts();
  const full = await train(a);
  full.useEma();
  const want = await weights(a.model);

  // Stop after 27 steps: not a checkpoint step (every 20) and inside a loss interval (every 10).
  const b = parts();
  const stop = new AbortController();
  const before = tf.memory().numTensors;
  await assert.rejects(
    train({
      ...b,
      config: { ...config, logEvery: 1 },
      checkpoint: { file, key: "k", every: 20 },
      onProgress: (p) => p.step === 27 && stop.abort(new Cancelled("test")),
      stop: stop.signal,
    }).then(() => {}),
    (e) => isCancelled(e),
  );
  b.model.dispose();
  assert.ok(tf.memory().numTensors <= before - b.model.variables().length, "stop leaked");
  const saved = await readCheckpointState(file);
  assert.equal(saved?.step, 27, "the checkpoint holds every completed step");
  assert.ok((saved?.seconds ?? 0) > 0, "elapsed training time is saved");

  // With the real config, stop before step 24 (the 24th check of the request): steps 21..23 are
  // past the last curve point (20), so their losses travel in the checkpoint.
  await Deno.remove(file);
  const c = parts();
  let reads = 0;
  await assert.rejects(
    train({
      ...c,
      checkpoint: { file, key: "k", every: 20 },
      stop: {
        get aborted() {
          return ++reads >= 24;
        },
      },
    }),
    (e) => isCancelled(e),
  );
  c.model.dispose();
  const mid = await readCheckpointState(file);
  assert.equal(mid?.step, 23);
  assert.equal(mid?.pending?.length, 3, "the losses of steps 21-23 wait for the next curve point");

  const d = parts();
  const rest = await train({ ...d, checkpoint: { file, key: "k", every: 20 } });
  rest.useEma();
  assert.deepEqual(rest.lossCurve, full.lossCurve);
  assert.deepEqual(await weights(d.model), want);
  assert.deepEqual(rest.resumedFrom, [23]);
  assert.ok(rest.seconds >= mid!.seconds!, "training time is cumulative across sessions");
  // CPU seconds of the training thread too, and the per-step CPU of each logging interval (for
  // the spread: 2 intervals before the stop, 2 after).
  assert.ok(mid!.cpuSeconds! > 0 && rest.cpuSeconds! > mid!.cpuSeconds!, "CPU time adds up");
  assert.equal(mid!.cpuPerStep!.length, 2);
  assert.ok(rest.cpuStderr! >= 0);
  assert.ok(full.cpuSeconds! > 0 && full.cpuStderr !== undefined, "4 logging intervals");
  for (const x of [a, d]) x.model.dispose();
  for (const o of [full, rest]) o.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train: the NaN guard names the plugin for NaN from the start, the flags for NaN later", async () => {
  const nanPath = {
    ...reg.paths.get("cond-ot")!,
    name: "broken",
    sample: (x0: tf.Tensor) => {
      const nan = tf.fill(x0.shape, NaN);
      return { xt: nan, ut: nan.clone() };
    },
  };
  const a = parts();
  await assert.rejects(
    train({ ...a, path: nanPath }),
    (e: Error) =>
      e instanceof NonFiniteLossError &&
      /by step 1 \(path broken, loss cfm\), before any weight update/.test(e.message) &&
      /points at the path or loss plugin/.test(e.message) && !/--lr/.test(e.message),
  );
  const b = parts();
  await assert.rejects(
    train({ ...b, config: { ...config, lr: 1e12, clip: 0, steps: 40, logEvery: 10 } }),
    (e: Error) =>
      e instanceof NonFiniteLossError && /try a lower --lr \(now 1000000000000\)/.test(e.message) &&
      /--clip 1/.test(e.message),
  );
  for (const x of [a, b]) x.model.dispose();
});

Deno.test("checkpoint: a time-based interval saves even when the step interval is never reached", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/ck.safetensors`;
  const a = parts();
  await assert.rejects(
    train({
      ...a,
      config: { ...config, logEvery: 1 },
      // every 1000 steps would never save; every 0 seconds saves after each step
      checkpoint: { file, key: "k", every: 1000, everySeconds: 0 },
      onProgress: (p) => {
        if (p.step === 5) throw new Error("crash");
      },
    }),
    /crash/,
  );
  a.model.dispose();
  assert.equal((await readCheckpointState(file))?.step, 5);
  await Deno.remove(dir, { recursive: true });
});
