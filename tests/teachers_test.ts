// Reflow pairs survive an interruption: each finished chunk is kept, a stop throws Cancelled
// without losing them, and the resumed generation equals an uninterrupted one exactly.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { isCancelled } from "../harness/stop.ts";
import { type ChunkStore, generatePairs, type PairChunk } from "../harness/teachers.ts";

await tf.setBackend("cpu");
const reg = await discoverPlugins();
const path = reg.paths.get("cond-ot")!;
const euler = reg.solvers.get("euler")!;
const field = (x: tf.Tensor, t: number) => tf.tidy(() => tf.add(tf.mul(x, -0.5), t));

function memoryStore(): ChunkStore & { saved: Map<number, PairChunk> } {
  const saved = new Map<number, PairChunk>();
  return {
    saved,
    load: (i) => Promise.resolve(saved.get(i) ?? null),
    save: (i, c) => Promise.resolve(void saved.set(i, c)),
  };
}

Deno.test("reflow pairs: a stop keeps the finished chunks and the resumed set is identical", async () => {
  const setting = { steps: 4 };
  const whole = await generatePairs({
    field,
    path,
    solver: euler,
    setting,
    shape: [2],
    count: 120,
    seed: 7,
    evalBatch: 50,
  });

  const store = memoryStore();
  let evals = 0;
  // Euler with 4 steps: chunk 0 takes evaluations 1-4, chunk 1 5-8; stop inside chunk 1.
  const stop = {
    get aborted() {
      return ++evals > 6;
    },
  };
  await assert.rejects(
    generatePairs({
      field,
      path,
      solver: euler,
      setting,
      shape: [2],
      count: 120,
      seed: 7,
      evalBatch: 50,
      stop,
      store,
    }),
    (e) => isCancelled(e),
  );
  assert.deepEqual([...store.saved.keys()], [0], "the finished chunk is kept");

  const before = tf.memory().numTensors;
  let generated = 0;
  const counting: ChunkStore = {
    load: store.load,
    save: (i, c) => {
      generated++;
      return store.save(i, c);
    },
  };
  const resumed = await generatePairs({
    field,
    path,
    solver: euler,
    setting,
    shape: [2],
    count: 120,
    seed: 7,
    evalBatch: 50,
    store: counting,
  });
  assert.equal(generated, 2, "only the chunks not yet saved are generated");
  assert.deepEqual(resumed.x0, whole.x0);
  assert.deepEqual(resumed.x1, whole.x1);
  assert.equal(resumed.nfe, whole.nfe);
  assert.equal(tf.memory().numTensors, before, "no tensors leak");
});
