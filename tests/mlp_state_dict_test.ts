// The MLP loads the state dict of the same network in PyTorch: layouts against a PyTorch fixture,
// a round trip, and one-line errors that assign nothing.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import type { StateDictTensor } from "../core/types.ts";
import mlp from "../plugins/models/mlp.ts";
import { main } from "../cli/bench.ts";
import { readResults } from "../results/io.ts";
import { captureConsole } from "./helpers/console.ts";
import { TINY_TOY2D } from "./helpers/tiny-toy2d.ts";
import { loadReleased } from "../harness/released.ts";
import { encodeCheckpointZip, float32StateDictSpec } from "../store/torch-save.ts";
import { createHash } from "node:crypto";

interface Fixture {
  state_dict: Record<string, StateDictTensor & { data: number[] }>;
  x: number[];
  t: number[];
  y: number[];
}

const fixture: Fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/mlp-torch-tiny.json", import.meta.url)),
);
const stateDict = () =>
  new Map(
    Object.entries(fixture.state_dict).map((
      [k, v],
    ) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]),
  );

Deno.test("mlp.loadStateDict: PyTorch's outputs on PyTorch's weights (mlp:tiny, 5 inputs)", () => {
  const model = mlp.create({ shape: [2], preset: "tiny", seed: 0 });
  try {
    model.loadStateDict!(stateDict());
    const y = tf.tidy(() =>
      model.apply(tf.tensor2d(fixture.x, [5, 2]), tf.tensor1d(fixture.t)).dataSync()
    );
    const scale = Math.max(...fixture.y.map(Math.abs));
    const err = Math.max(...fixture.y.map((v, i) => Math.abs(v - y[i]))) / scale;
    assert.ok(
      err < 1e-6,
      `relative error ${err} (PyTorch ${fixture.y.slice(0, 2)}, fmbench ${y.slice(0, 2)})`,
    );
  } finally {
    model.dispose();
  }
});

Deno.test("mlp.loadStateDict: a DataParallel prefix is dropped; the weights round-trip", async () => {
  const a = mlp.create({ shape: [2], preset: "tiny", seed: 0 });
  const b = mlp.create({ shape: [2], preset: "tiny", seed: 1 });
  try {
    const prefixed = new Map([...stateDict()].map(([k, v]) => [`module.${k}`, v]));
    a.loadStateDict!(prefixed);
    b.loadStateDict!(stateDict());
    for (const [i, v] of a.variables().entries()) {
      assert.deepEqual(await v.data(), await b.variables()[i].data());
    }
  } finally {
    a.dispose();
    b.dispose();
  }
});

Deno.test("mlp.loadStateDict: a missing key, an extra key or a wrong shape is one line, nothing assigned", async () => {
  const model = mlp.create({ shape: [2], preset: "tiny", seed: 3 });
  try {
    const before = await Promise.all(model.variables().map((v) => v.data()));
    const missing = stateDict();
    missing.delete("net.4.bias");
    assert.throws(
      () => model.loadStateDict!(missing),
      /mlp:tiny: state dict does not match \(missing net\.4\.bias\); expected net\.0\.weight, net\.0\.bias, net\.2\.weight/,
    );
    const extra = stateDict();
    extra.set("net.6.weight", { shape: [2, 2], data: new Float32Array(4) });
    assert.throws(() => model.loadStateDict!(extra), /unexpected net\.6\.weight/);
    // mlp:default's first layer into mlp:tiny: the key, both shapes and the model's sizes.
    const wrong = stateDict();
    wrong.set("net.0.weight", { shape: [256, 3], data: new Float32Array(768) });
    assert.throws(
      () => model.loadStateDict!(wrong),
      /key "net\.0\.weight" has shape \[256, 3\], the model expects \[32, 3\] \(layer sizes \[3, 32, 32, 2\]\)/,
    );
    const short = stateDict();
    short.set("net.2.bias", { shape: [32], data: new Float32Array(31) });
    assert.throws(() => model.loadStateDict!(short), /holds 31 values for shape \[32\]/);
    const after = await Promise.all(model.variables().map((v) => v.data()));
    assert.deepEqual(after, before, "nothing was assigned");
  } finally {
    model.dispose();
  }
});

Deno.test("--checkpoint on toy2d: a torch.save'd MLP is evaluated without training", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fmbench-mlp-ckpt-" });
  try {
    const file = new URL("./fixtures/mlp-torch-tiny.pt", import.meta.url).pathname;
    const run = await captureConsole(() =>
      main([
        ...TINY_TOY2D,
        ...["--methods", "1-RF", "--solvers", "euler", "--jobs", "1", "--out", dir],
        ...["--checkpoint", file, "--checkpoint-key", "net_model"],
      ])
    );
    assert.equal(run.value, 0, run.err);
    assert.match(run.err, /evaluating mlp-torch-tiny\.pt \(key net_model, step 123\); no training/);
    const [r] = (await readResults(dir)).runs;
    assert.equal(r.status, "ok", r.error);
    assert.equal(r.train, undefined, "nothing was trained");
    assert.equal((r.provenance?.checkpoint as { step: number }).step, 123);
    assert.ok(Number.isFinite(r.nll[0].nats), "NLL of the loaded network");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The fixture's state dict as a torch.save'd checkpoint under net_model, written to `file`. */
async function writeCheckpoint(file: string, dict: Map<string, StateDictTensor>): Promise<string> {
  const bytes = encodeCheckpointZip({ stateDicts: { net_model: float32StateDictSpec(dict) } });
  await Deno.writeFile(file, bytes);
  return createHash("sha256").update(bytes).digest("hex");
}

Deno.test("--checkpoint: NaN, or a hostile key name, is refused in one safe line, before any weight is set", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fmbench-mlp-nan-" });
  const model = mlp.create({ shape: [2], preset: "tiny", seed: 4 });
  try {
    const before = await Promise.all(model.variables().map((v) => v.data()));
    const nan = stateDict();
    nan.get("net.2.weight")!.data[5] = NaN;
    const file = `${dir}/diverged.pt`;
    let sha256 = await writeCheckpoint(file, nan);
    await assert.rejects(
      () => loadReleased(model, { file, key: "net_model", sha256 }),
      /diverged\.pt: state dict "net_model" tensor "net\.2\.weight" holds NaN at element 5 of 1024; the checkpoint is damaged/,
    );
    // A key name from the file reaches the message escaped (no terminal control codes).
    const hostile = stateDict();
    hostile.set("net.9\u001b]0;pwned\u0007", { shape: [1], data: new Float32Array(1) });
    sha256 = await writeCheckpoint(file, hostile);
    await assert.rejects(
      () => loadReleased(model, { file, key: "net_model", sha256 }),
      (e: Error) => {
        assert.match(
          e.message,
          /diverged\.pt: mlp:tiny: state dict does not match \(unexpected net\.9\\u001b\]0;pwned\\u0007\)/,
        );
        assert.ok(![...e.message].some((c) => c.charCodeAt(0) < 32), "no control characters");
        return true;
      },
    );
    assert.deepEqual(await Promise.all(model.variables().map((v) => v.data())), before);
  } finally {
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
