// A run trusts none of its own files: a training checkpoint or weights file whose state, record
// or tensors fail their schema is moved aside with the reason, and the work is redone (issue 23,
// findings 1-5: a hang, a checkpoint that failed every run, TypeErrors, bad metadata reaching
// results.json, corrupt tensors blamed on --lr).
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import { loadWeights, saveWeights } from "../harness/checkpoint.ts";
import { checkPairChunk, loadPairs, savePairs } from "../harness/teachers.ts";
import { referenceStore } from "../harness/reference-samples.ts";
import { referenceStats } from "../features/reference-stats.ts";
import { NonFiniteLossError, train } from "../harness/train.ts";
import { Cancelled } from "../harness/stop.ts";
import { encodeSafetensors, SafetensorsFile, type TensorToWrite } from "../store/safetensors.ts";
import { main } from "../cli/bench.ts";
import { readResults } from "../results/io.ts";
import { captureConsole } from "./helpers/console.ts";
import { TINY_TOY2D } from "./helpers/tiny-toy2d.ts";
import { tinyTraining } from "./helpers/tiny-training.ts";

const { reg, parts } = await tinyTraining();

/** Rewrite a safetensors file's metadata and tensors (F32 and F64 kept) in place. */
async function edit(
  file: string,
  change: (meta: Record<string, string>, tensors: Record<string, TensorToWrite>) => void,
): Promise<void> {
  const f = new SafetensorsFile(await Deno.readFile(file), file);
  const tensors: Record<string, TensorToWrite> = {};
  for (const n of f.names()) {
    const e = f.entry(n)!;
    tensors[n] = { shape: e.shape, data: e.dtype === "F64" ? f.float64(n) : f.float32(n) };
  }
  const meta = { ...f.metadata };
  change(meta, tensors);
  await Deno.writeFile(file, encodeSafetensors(tensors, meta));
}

/** Edit the JSON of a metadata field. */
function json(
  meta: Record<string, string>,
  field: string,
  fn: (v: Record<string, unknown>) => void,
) {
  const v = JSON.parse(meta[field]);
  fn(v);
  meta[field] = JSON.stringify(v);
}

/** A checkpoint at step 20 of a 40-step run, made once and copied per case. */
const CHECKPOINT = await (async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/ck.safetensors`;
  const p = parts();
  await assert.rejects(
    train({
      ...p,
      checkpoint: { file, key: "k", every: 20 },
      onProgress: (s) => {
        if (s.step === 20) throw new Error("interrupted");
      },
    }),
    /interrupted/,
  );
  p.model.dispose();
  const bytes = await Deno.readFile(file);
  await Deno.remove(dir, { recursive: true });
  return bytes;
})();

/** Moved-aside copies of `file`. */
function asides(file: string): string[] {
  const dir = file.slice(0, file.lastIndexOf("/"));
  const base = file.slice(file.lastIndexOf("/") + 1);
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    n.startsWith(`${base}.unreadable-`)
  );
}

/**
 * Resume training from the step-20 checkpoint after `change`; a guard stops a run that cannot
 * advance (the hang of finding 1) after 400 checks. Returns the outcome and the log.
 */
async function resumeAfter(
  change: (meta: Record<string, string>, tensors: Record<string, TensorToWrite>) => void,
) {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/ck.safetensors`;
  await Deno.writeFile(file, CHECKPOINT);
  await edit(file, change);
  const p = parts();
  const lines: string[] = [];
  let checks = 0;
  let resumedAt: number | undefined;
  try {
    const out = await train({
      ...p,
      checkpoint: { file, key: "k", every: 1000 },
      onResume: (s) => (resumedAt = s),
      log: (l) => lines.push(l),
      stop: {
        get aborted() {
          return ++checks > 400;
        },
        reason: new Cancelled("guard: training could not advance"),
      },
    });
    out.dispose();
    return { out, lines, resumedAt, asides: asides(file), file };
  } finally {
    p.model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The case's run trained all 40 steps from step 0, and the file was set aside with a reason. */
function startedOver(r: Awaited<ReturnType<typeof resumeAfter>>, reason: RegExp): void {
  assert.equal(r.out.steps, 40);
  assert.equal(r.resumedAt, undefined, "nothing was resumed from the bad checkpoint");
  assert.deepEqual(r.out.resumedFrom, []);
  assert.equal(r.asides.length, 1, "the checkpoint is moved aside, not retried");
  assert.equal(r.lines.length, 1, r.lines.join("\n"));
  assert.ok(r.lines[0].startsWith(`${r.file}: `), `names the file: ${r.lines[0]}`);
  assert.match(r.lines[0], reason);
  assert.match(r.lines[0], /moved it to .*\.unreadable-.*; training starts over$/);
  assert.doesNotMatch(r.lines[0], /--lr/);
}

Deno.test("finding 1: a checkpoint at step -1e308 (or -1000000) cannot hang training", async () => {
  for (const step of [-1e308, -1000000, 41, 2.5]) {
    const r = await resumeAfter((m) => json(m, "state", (s) => (s.step = step)));
    startedOver(r, /state\.step = .*, expected an integer in \[0, 40\]/);
  }
});

Deno.test("finding 2: unparseable state or optimizer names are moved aside, not failed on every run", async () => {
  for (const field of ["state", "optNames"]) {
    const r = await resumeAfter((m) => (m[field] = "{"));
    startedOver(r, new RegExp(`${field} is not JSON`));
  }
  const r = await resumeAfter((m) => delete m.state);
  startedOver(r, /__metadata__\.state is missing/);
});

Deno.test("finding 3: mistyped state is refused before use (no 'curve.push is not a function')", async () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ["curve", 0.178, /state\.curve = 0\.178, expected an array/],
    ["pending", 1e29, /state\.pending = 1e\+29, expected an array/],
    ["resumedFrom", 20, /state\.resumedFrom = 20, expected an array/],
    ["curve", [[10, "0.5"]], /state\.curve\[0\]\[1\] = "0\.5", expected a finite number/],
    ["pending", [1, 2], /state\.pending holds 2 losses, but 0 steps follow/],
    ["lastLoss", 3, /state\.lastLoss = 3, expected the last curve point's loss/],
    ["seconds", -5, /state\.seconds = -5, expected a finite number >= 0/],
  ];
  for (const [field, value, re] of cases) {
    const r = await resumeAfter((m) => json(m, "state", (s) => (s[field] = value)));
    startedOver(r, re);
  }
});

Deno.test("finding 5: corrupt checkpoint tensors are set aside, never blamed on --lr", async () => {
  const cases: Array<
    [string, (m: Record<string, string>, t: Record<string, TensorToWrite>) => void, RegExp]
  > = [
    [
      "NaN bytes in a weight",
      (_, t) => (t["var/0"].data[3] = NaN),
      /"var\/0" holds NaN at element 3/,
    ],
    [
      "Infinity in an EMA copy",
      (_, t) => (t["ema/1"].data[0] = Infinity),
      /"ema\/1" holds Infinity/,
    ],
    [
      "a negative second moment",
      (m, t) => (t[`opt/${JSON.parse(m.optNames).length - 1}`].data[0] = -1),
      /holds -1 at element 0 \(must be finite and >= 0\)/,
    ],
    [
      "a missing optimizer-state entry",
      (m, t) => {
        const names = JSON.parse(m.optNames) as string[];
        delete t[`opt/${names.length - 1}`];
        m.optNames = JSON.stringify(names.slice(0, -1));
      },
      /optNames = an array of \d+, expected an array of \d+ to \d+ items/,
    ],
    [
      "a weight of another shape",
      (_, t) => (t["var/0"] = { shape: [1], data: new Float32Array(1) }),
      /"var\/0" is F32 \[1\], expected F32/,
    ],
    ["a variable too many", (_, t) => (t["var/99"] = t["var/0"]), /var\/\* holds \d+ tensors/],
    [
      "an iteration count that is not the step",
      (_, t) => (t["opt/0"].data[0] = 7),
      /= 7, but state\.step = 20/,
    ],
  ];
  for (const [what, change, re] of cases) {
    let r;
    try {
      r = await resumeAfter(change);
    } catch (e) {
      assert.ok(!(e instanceof NonFiniteLossError), `${what}: ${e}`);
      throw e;
    }
    startedOver(r, re);
  }
});

Deno.test('finding 4: a weights file\'s training record is checked (no "NaN" into results.json)', async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/w.safetensors`;
  const model = reg.models.get("mlp")!.create({ shape: [2], preset: "tiny", seed: 1 });
  const train = { steps: 40, batch: 32, seconds: 1.5, lossCurve: [[40, 0.9]], finalLoss: 0.9 };
  const cases: Array<[(i: Record<string, unknown>) => void, RegExp]> = [
    [(i) => (i.train = "NaN"), /info\.train = "NaN", expected an object/],
    [(i) => delete i.train, /info\.train is missing/],
    [(i) => ((i.train as Record<string, unknown>).steps = 41), /info\.train\.steps = 41/],
    [(i) => ((i.train as Record<string, unknown>).lossCurve = [[50, 1]]), /lossCurve\[0\]\[0\]/],
    [(i) => ((i.train as Record<string, unknown>).finalLoss = 2), /info\.train\.finalLoss = 2/],
  ];
  await saveWeights(file, "k", model.variables(), { train });
  const good = await Deno.readFile(file);
  const lines: string[] = [];
  assert.deepEqual(await loadWeights(file, "k", model.variables(), { totalSteps: 40 }), { train });
  for (const [change, re] of [...cases, [() => {}, /is not JSON/] as const]) {
    await Deno.writeFile(file, good);
    await edit(file, (m) => {
      if (change.length === 0) m.info = "{";
      else json(m, "info", change);
    });
    lines.length = 0;
    const got = await loadWeights(file, "k", model.variables(), {
      totalSteps: 40,
      log: (l) => lines.push(l),
    });
    assert.equal(got, null);
    assert.equal(lines.length, 1);
    assert.ok(lines[0].startsWith(`${file}: `), lines[0]);
    assert.match(lines[0], re);
    assert.match(lines[0], /the run trains again$/);
    assert.equal(asides(file).length, 1);
    for (const n of asides(file)) await Deno.remove(`${dir}/${n}`);
  }
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});

/** Run the tiny toy2d bench in `out` with a stop that fires once `when` says so. */
function bench(out: string, when: () => boolean = () => false) {
  const args = [...TINY_TOY2D, "--methods", "FM w/ OT", "--solvers", "euler", "--no-report"];
  return captureConsole(() =>
    main([...args, "--steps", "40", "--out", out], {
      stop: {
        get aborted() {
          return when();
        },
      },
    })
  );
}

const hasFile = (dir: string) => () => {
  try {
    return [...Deno.readDirSync(dir)].some((e) => e.name.endsWith(".safetensors"));
  } catch {
    return false;
  }
};

Deno.test("findings 1 and 2 end to end: a resumed bench survives a bad checkpoint and weights file", async () => {
  // A checkpoint at step -1e308: the resumed run trains from step 0 and finishes.
  const out = await Deno.makeTempDir({ prefix: "fmbench-bad-ck-" });
  const first = await bench(out, hasFile(`${out}/checkpoints`));
  assert.equal(first.value, 130, first.err);
  const [ck] = [...Deno.readDirSync(`${out}/checkpoints`)].map((e) =>
    `${out}/checkpoints/${e.name}`
  );
  await edit(ck, (m) => json(m, "state", (s) => (s.step = -1e308)));
  let checks = 0;
  const second = await bench(out, () => ++checks > 5000);
  assert.equal(second.value, 0, second.err);
  assert.match(
    second.err,
    /state\.step = -1e\+308.*moved it to .*unreadable.*training starts over/,
  );
  assert.doesNotMatch(second.err, /resuming training from its checkpoint at step -1e\+308/);
  assert.equal((await readResults(out)).runs[0].status, "ok");

  // Weights whose info is not JSON: moved aside, trained again; the next run is not failed.
  const out2 = await Deno.makeTempDir({ prefix: "fmbench-bad-w-" });
  const a = await bench(out2, hasFile(`${out2}/weights`));
  assert.equal(a.value, 130, a.err);
  const [w] = [...Deno.readDirSync(`${out2}/weights`)].map((e) => `${out2}/weights/${e.name}`);
  await edit(w, (m) => (m.info = "{"));
  const b = await bench(out2);
  assert.equal(b.value, 0, b.err);
  assert.doesNotMatch(b.err, /FAILED/);
  assert.match(b.err, new RegExp(`${w}: info is not JSON .*moved it to`));
  const res = await readResults(out2);
  assert.equal(res.runs[0].status, "ok");
  assert.equal(res.runs[0].train?.steps, 40);
  await Deno.remove(out, { recursive: true });
  await Deno.remove(out2, { recursive: true });
});

Deno.test("reflow pairs: a bad .f32 or provenance is moved aside (both files) and generated again", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pairs`;
  const expect = {
    teacher: "1-RF",
    dataset: "moons",
    model: "mlp/tiny",
    solver: "dopri5",
    setting: { rtol: 1e-5, atol: 1e-5 } as const,
    seed: 9,
    n: 5,
    shape: [2],
    teacherConfigHash: "h",
  };
  const x = Float32Array.from({ length: 10 }, (_, i) => i / 10);
  const good = {
    x0: x,
    x1: x.map((v) => -v),
    provenance: { ...expect, nfe: 30, file: `${file}.f32` },
  };
  await savePairs(file, good);
  assert.deepEqual((await loadPairs(file, expect))?.x1, good.x1);
  assert.equal(await loadPairs(file, { ...expect, seed: 10 }), null, "stale: not used");
  assert.equal(asides(`${file}.json`).length, 0, "a stale cache is not moved aside");
  const cases: Array<[() => Promise<void>, RegExp]> = [
    [
      async () =>
        await Deno.writeFile(`${file}.f32`, (await Deno.readFile(`${file}.f32`)).subarray(2)),
      /pairs\.f32: pairs hold 78 bytes, expected 80/,
    ],
    [async () => {
      const b = new Float32Array((await Deno.readFile(`${file}.f32`)).buffer);
      b[13] = NaN;
      await Deno.writeFile(`${file}.f32`, new Uint8Array(b.buffer));
    }, /pairs\.f32: pairs hold NaN at value 13/],
    [
      () => Deno.writeTextFile(`${file}.json`, JSON.stringify({ ...good.provenance, n: "5" })),
      /pairs\.json: provenance\.n = "5", expected an integer/,
    ],
    [() => Deno.writeTextFile(`${file}.json`, "{\x1b[2J"), /pairs\.json: provenance is not JSON/],
  ];
  for (const [change, re] of cases) {
    for (const n of [...asides(`${file}.json`), ...asides(`${file}.f32`)]) {
      await Deno.remove(`${dir}/${n}`);
    }
    await savePairs(file, good);
    await change();
    const lines: string[] = [];
    assert.equal(await loadPairs(file, expect, (l) => lines.push(l)), null);
    assert.equal(lines.length, 1);
    assert.match(lines[0], re);
    assert.match(
      lines[0],
      /moved the pair to .*\.json\.unreadable-.* and .*\.f32\.unreadable-.*; they are generated again$/,
    );
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(lines[0], /[\u0000-\u001f]/);
  }
  // A saved chunk of an interrupted generation is checked too.
  const chunk = (x0: Float32Array, nfe: string) =>
    new SafetensorsFile(
      encodeSafetensors({
        x0: { shape: [x0.length], data: x0 },
        x1: { shape: [2], data: new Float32Array(2) },
      }, { nfe }),
      "c.safetensors",
    );
  assert.equal(checkPairChunk(chunk(new Float32Array(2), "12")).nfe, 12);
  assert.throws(
    () => checkPairChunk(chunk(new Float32Array(2), "-1")),
    /c\.safetensors: __metadata__\.nfe = -1/,
  );
  assert.throws(
    () => checkPairChunk(chunk(new Float32Array([1, Infinity]), "3")),
    /"x0" holds Infinity at element 1/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("reference samples: a bad file is moved aside and the reference solved again", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/r.reference.safetensors`;
  const lines: string[] = [];
  const store = referenceStore(file, "h|dopri5", (l) => lines.push(l));
  const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  await store.save(x);
  const back = await store.load([3, 2]);
  assert.deepEqual(await back!.array(), await x.array());
  assert.equal(await referenceStore(file, "other").load([3, 2]), null, "stale: not used");
  assert.equal(await store.load([4, 2]), null, "another shape for this key: a bad file");
  assert.match(
    lines[0],
    /r\.reference\.safetensors: tensor "x" is F32 \[3,2\], expected F32 \[4,2\].*moved it to .*the reference is solved again$/,
  );
  await Deno.writeFile(file, new Uint8Array(12));
  assert.equal(await store.load([3, 2]), null);
  assert.match(lines[1], /safetensors .*r\.reference\.safetensors: .*moved it to/);
  assert.equal(asides(file).length >= 1, true);
  tf.dispose([x, back!]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("reference statistics: a bad cache is moved aside and computed again", async () => {
  const dir = await Deno.makeTempDir();
  const extractor = {
    dim: 3,
    features: (images: tf.Tensor) => tf.tidy(() => tf.mean(images, [1, 2]) as tf.Tensor2D),
  };
  const u = Float32Array.from({ length: 8 * 2 * 2 * 3 }, (_, i) => ((i * 37) % 101) / 101);
  const lines: string[] = [];
  const opts = {
    dataDir: dir,
    dataset: "toy",
    n: 8,
    extractor,
    weightsSha256: "w",
    images: (offset: number, count: number) =>
      Promise.resolve(tf.tensor4d(u.slice(offset * 12, (offset + count) * 12), [count, 2, 2, 3])),
    log: (l: string) => lines.push(l),
  };
  const first = await referenceStats(opts);
  const good = await Deno.readFile(first.path);
  assert.equal((await referenceStats(opts)).reused, true);
  const cases: Array<
    [(m: Record<string, string>, t: Record<string, TensorToWrite>) => void, RegExp]
  > = [
    [(_, t) => (t.sigma.data[4] = NaN), /tensor "sigma" holds NaN at element 4/],
    [
      (_, t) => (t.factor_perm.data[0] = t.factor_perm.data[1]),
      /"factor_perm" is not a permutation of 0\.\.2/,
    ],
    [(m) => (m.kidFeatures = "9"), /__metadata__\.kidFeatures = 9, more than n = 8/],
    [(m) => (m.n = "eight"), /__metadata__\.n = NaN, expected an integer >= 1/],
    [
      (_, t) => (t.mu = { shape: [2], data: new Float64Array(2) }),
      /inconsistent shapes \(mu \[2\]/,
    ],
  ];
  for (const [change, re] of cases) {
    await Deno.writeFile(first.path, good);
    await edit(first.path, change);
    lines.length = 0;
    const again = await referenceStats(opts);
    assert.equal(again.reused, false, String(re));
    assert.deepEqual(again.stats.mu, first.stats.mu, "recomputed, the same");
    assert.equal(lines.length, 1);
    assert.ok(lines[0].startsWith(`${first.path}: `), lines[0]);
    assert.match(lines[0], re);
    assert.match(lines[0], /the reference statistics are computed again$/);
  }
  assert.equal(asides(first.path).length, cases.length);
  await Deno.remove(dir, { recursive: true });
});
