// A run trusts none of its own files: a training checkpoint or weights file whose state, record
// or tensors fail their schema is moved aside with the reason, and the work is redone (issue 23,
// findings 1-5: a hang, a checkpoint that failed every run, TypeErrors, bad metadata reaching
// results.json, corrupt tensors blamed on --lr).
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import { vectorSource } from "../harness/data/source.ts";
import { loadToy2d } from "../harness/data/toy2d.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { loadWeights, saveWeights } from "../harness/checkpoint.ts";
import { NonFiniteLossError, train, type TrainConfig } from "../harness/train.ts";
import { Cancelled } from "../harness/stop.ts";
import { encodeSafetensors, SafetensorsFile, type TensorToWrite } from "../store/safetensors.ts";
import { main } from "../cli/bench.ts";
import { readResults } from "../results/io.ts";
import { captureConsole } from "./helpers/console.ts";
import { TINY_TOY2D } from "./helpers/tiny-toy2d.ts";

await tf.setBackend("cpu");
const reg = await discoverPlugins();
const split = loadToy2d("moons", 500, 50, 0);
const data = vectorSource("moons", split.train, split.test, 2);
const config: TrainConfig = {
  steps: 40,
  batch: 32,
  lr: 1e-2,
  warmup: 5,
  clip: 1,
  ema: 0.9,
  minutes: 0,
  seed: 3,
  logEvery: 10,
};
const parts = () => ({
  model: reg.models.get("mlp")!.create({ shape: [2], preset: "tiny", seed: 1 }),
  path: reg.paths.get("cond-ot")!,
  loss: reg.losses.get("cfm")!,
  coupling: reg.couplings.get("independent")!,
  data,
  config,
});

/** Rewrite a safetensors file's metadata and tensors in place. */
async function edit(
  file: string,
  change: (meta: Record<string, string>, tensors: Record<string, TensorToWrite>) => void,
): Promise<void> {
  const f = new SafetensorsFile(await Deno.readFile(file), file);
  const tensors: Record<string, TensorToWrite> = {};
  for (const n of f.names()) tensors[n] = { shape: f.entry(n)!.shape, data: f.float32(n) };
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
