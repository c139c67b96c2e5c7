// Evaluating a released checkpoint without training: a TorchCFM-format file (torch.save of
// {net_model, ema_model, optim, sched, step}) with random adm-unet weights, end to end.
import assert from "node:assert/strict";
import { main } from "../cli/bench.ts";
import { readResults } from "../results/io.ts";
import { encodeCheckpointZip, float32StateDictSpec } from "../store/torch-save.ts";
import { ADM_PRESETS } from "../plugins/models/_adm/config.ts";
import { captureConsole } from "./helpers/console.ts";
import { seededAdmWeights } from "./helpers/adm-weights.ts";
import { writeTinyCifar } from "./helpers/tiny-cifar.ts";
import admUnet from "../plugins/models/adm-unet.ts";
import { loadReleased } from "../harness/released.ts";

const ema = seededAdmWeights(ADM_PRESETS.tiny, [32, 32, 3], 5).tensors;
const net = seededAdmWeights(ADM_PRESETS.tiny, [32, 32, 3], 6).tensors;
const CHECKPOINT = encodeCheckpointZip({
  stateDicts: {
    net_model: float32StateDictSpec(net, "n"),
    ema_model: float32StateDictSpec(ema, "e"),
  },
  emptyDicts: ["optim", "sched"],
  ints: { step: 400000 },
});

const flags = (data: string, file: string, out: string) => [
  "--suite",
  "cifar10",
  "--budget",
  "quick",
  "--data-dir",
  data,
  "--backend",
  "wasm",
  "--models",
  "adm-unet:tiny",
  "--methods",
  "OT-CFM",
  "--checkpoint",
  file,
  "--solvers",
  "euler,dopri5-torchdiffeq",
  "--samples",
  "4",
  "--nll-points",
  "2",
  "--eval-batch",
  "4",
  "--jobs",
  "1",
  "--out",
  out,
];

Deno.test("--checkpoint: a TorchCFM-format checkpoint is evaluated without training, and recorded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fmbench-released-" });
  try {
    await writeTinyCifar(`${dir}/data`, 8);
    const file = `${dir}/otcfm_cifar10_weights_step_400000.pt`;
    await Deno.writeFile(file, CHECKPOINT);
    const run = await captureConsole(() => main(flags(`${dir}/data`, file, `${dir}/out`)));
    assert.equal(run.value, 0, run.err);
    assert.match(
      run.err,
      /evaluating otcfm_cifar10_weights_step_400000\.pt \(key ema_model, step 400000\); no training/,
    );
    const res = await readResults(`${dir}/out`);
    const [r] = res.runs;
    assert.equal(r.status, "ok", r.error);
    assert.equal(r.train, undefined, "nothing was trained");
    const ck = r.provenance?.checkpoint as Record<string, unknown>;
    assert.equal(ck.file, "otcfm_cifar10_weights_step_400000.pt");
    assert.equal(ck.key, "ema_model");
    assert.equal(ck.step, 400000);
    assert.match(String(ck.sha256), /^[0-9a-f]{64}$/);
    assert.ok(r.evals.some((e) => e.status === "ok" && e.solver === "euler"));
    assert.ok(r.nll.length > 0 && Number.isFinite(r.nll[0].bpd!));
    assert.deepEqual(
      res.manifest.config.checkpoint && Object.keys(res.manifest.config.checkpoint).sort(),
      ["file", "key", "sha256"],
    );

    // The key is honoured: net_model's weights, not ema_model's, under --checkpoint-key net_model.
    const model = admUnet.create({ shape: [32, 32, 3], preset: "tiny", seed: 0 });
    try {
      const sha256 = ck.sha256 as string;
      const snapshot = async () => Float32Array.from(await model.variables()[0].data());
      await loadReleased(model, { file, key: "ema_model", sha256 });
      const fromEma = await snapshot();
      const rec = await loadReleased(model, { file, key: "net_model", sha256 });
      assert.equal(rec.key, "net_model");
      assert.notDeepEqual(await snapshot(), fromEma, "net_model's weights differ from ema_model's");
      await loadReleased(model, { file, key: "ema_model", sha256 });
      assert.deepEqual(await snapshot(), fromEma, "loading is deterministic");
      await assert.rejects(
        () => loadReleased(model, { file, key: "net_model", sha256: "0".repeat(64) }),
        /changed since the run started/,
      );
    } finally {
      model.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--checkpoint: bad input is one line naming the file, the key or the flag", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fmbench-released-" });
  try {
    await writeTinyCifar(`${dir}/data`, 4);
    const file = `${dir}/ckpt.pt`;
    await Deno.writeFile(file, CHECKPOINT);
    const missing = await captureConsole(() =>
      main([...flags(`${dir}/data`, file, `${dir}/a`), "--checkpoint-key", "foo"])
    );
    assert.equal(missing.value, 1);
    assert.match(
      missing.err,
      /has no key "foo"; the keys that exist: "net_model", "ema_model", "optim", "sched", "step"/,
    );
    const wrong = await captureConsole(() =>
      main([
        ...flags(`${dir}/data`, file, `${dir}/b`).map((a) =>
          a === "adm-unet:tiny" ? "adm-unet:torchcfm" : a
        ),
      ])
    );
    assert.equal(wrong.value, 1);
    assert.match(
      wrong.err,
      /adm-unet:torchcfm: state dict does not match \(preset "tiny" fits this state dict\): missing key "/,
    );
    assert.match(wrong.err, /preset "tiny" fits/);
    const two = await captureConsole(() =>
      main([
        ...flags(`${dir}/data`, file, `${dir}/c`).map((a) =>
          a === "OT-CFM" ? "OT-CFM,FM w/ OT" : a
        ),
      ])
    );
    assert.equal(two.value, 2);
    assert.match(two.err, /--checkpoint evaluates one trained model, but 2 methods are selected/);
    const none = await captureConsole(() =>
      main(flags(`${dir}/data`, `${dir}/nope.pt`, `${dir}/d`))
    );
    assert.equal(none.value, 2);
    assert.match(none.err, /--checkpoint .*nope\.pt cannot be read/);
    await Deno.writeFile(
      `${dir}/code.pt`,
      new TextEncoder().encode("cos\nsystem\n(S'echo hi'\ntR."),
    );
    const code = await captureConsole(() =>
      main(flags(`${dir}/data`, `${dir}/code.pt`, `${dir}/e`))
    );
    assert.equal(code.value, 1);
    assert.match(code.err, /code\.pt/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the report marks a row evaluated from a checkpoint and names a recipe and its changes", async () => {
  const { buildFixture } = await import("./fixtures.ts");
  const { renderReport } = await import("../reports/render.ts");
  const results = buildFixture();
  results.runs[0].provenance = {
    ...results.runs[0].provenance,
    checkpoint: { file: "otcfm.pt", sha256: "a".repeat(64), key: "ema_model", step: 400000 },
  };
  results.budget = {
    name: "torchcfm",
    description: "TorchCFM's recipe",
    smoke: false,
    recipe: { source: "train_cifar10.py", changed: ["--steps 2000"] },
  };
  results.manifest.config = { ...results.manifest.config, train: { lr: 2e-4, batch: 128 } };
  const html = renderReport(results);
  assert.match(
    html,
    /evaluated from a checkpoint<\/span><div class="recipe">otcfm\.pt · ema_model · step 400000/,
  );
  assert.match(html, /Recipe <code>torchcfm<\/code>, <strong>changed: --steps 2000<\/strong>/);
  assert.match(html, /lr 0\.0002, batch 128/);
});
