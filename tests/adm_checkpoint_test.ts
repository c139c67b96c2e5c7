// Loading TorchCFM checkpoints into the ADM U-Net: the checkpoint layout TorchCFM's training loop
// saves, the checkpoint key, the restricted unpickler on it, and every loader error.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import { selectBackend } from "../backend/select.ts";
import { PickleTuple } from "../store/pickle.ts";
import {
  readTorchCheckpoint,
  readTorchSaved,
  TorchCheckpointError,
} from "../store/torch-checkpoint.ts";
import { ZipArchive } from "../store/zip.ts";
import type { StateDictTensor } from "../core/types.ts";
import { createAdmUNet } from "../plugins/models/adm-unet.ts";
import { ADM_PRESETS } from "../plugins/models/_adm/config.ts";
import { stateDictShapes } from "../plugins/models/_adm/state-dict.ts";
import { seededAdmWeights } from "./helpers/adm-weights.ts";
import { storedZip } from "../store/torch-save.ts";

await selectBackend("cpu");

/** torch.save of {net_model, ema_model, sched, optim, step} from TorchCFM's training loop. */
const FORMAT_PATH = "tests/fixtures/torchcfm-format.pt";
const FORMAT = await Deno.readFile(new URL("./fixtures/torchcfm-format.pt", import.meta.url));
const SHAPE = [8, 8, 3];

/** Shapes only (empty data): enough for every check that fails before values are read. */
function shapesOnly(preset: string, shape: number[]): Map<string, StateDictTensor> {
  return new Map(
    stateDictShapes(ADM_PRESETS[preset], shape).map((e) => [
      e.name,
      { shape: e.shape, data: new Float32Array(0) },
    ]),
  );
}

function throwsLine(fn: () => void, re: RegExp): string {
  let message = "";
  assert.throws(fn, (e: Error) => {
    message = e.message;
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
    return true;
  });
  return message;
}

Deno.test("a TorchCFM checkpoint as train_cifar10.py saves it: every part decodes, no code", () => {
  const saved = readTorchSaved(FORMAT, FORMAT_PATH);
  const top = saved.value as Map<string, unknown>;
  assert.deepEqual([...top.keys()], ["net_model", "ema_model", "sched", "optim", "step"]);
  assert.equal(top.get("step"), 1);
  const sched = top.get("sched") as Map<string, unknown>;
  assert.deepEqual(sched.get("lr_lambdas"), [null]); // a plain function is stored as None
  assert.deepEqual(sched.get("base_lrs"), [2e-4]);
  assert.equal(sched.get("verbose"), false);
  const optim = top.get("optim") as Map<string, unknown>;
  const group = (optim.get("param_groups") as Map<string, unknown>[])[0];
  assert.ok(group.get("betas") instanceof PickleTuple);
  assert.deepEqual((group.get("betas") as PickleTuple).items, [0.9, 0.999]);
  assert.equal(group.get("eps"), 1e-8);
  assert.equal(group.get("foreach"), null);
  assert.deepEqual(group.get("params"), [0, 1, 2, 3, 4, 5, 6, 7]);
  const state = optim.get("state") as Map<number, Map<string, { shape: number[] }>>;
  assert.deepEqual([...state.keys()], [0, 1, 2, 3, 4, 5, 6, 7]); // int keys
  assert.deepEqual(state.get(0)!.get("step")!.shape, []); // Adam's step is a 0-d tensor
  assert.deepEqual(state.get(0)!.get("exp_avg")!.shape, [8, 3]);

  const ema = readTorchCheckpoint(FORMAT, FORMAT_PATH, { key: "ema_model" });
  const net = readTorchCheckpoint(FORMAT, FORMAT_PATH, { key: "net_model" });
  assert.deepEqual(ema.names(), net.names());
  assert.deepEqual(ema.entry("net.0.weight"), { dtype: "F32", shape: [8, 3] });
  const [e, n] = [ema.float32("net.0.weight"), net.float32("net.0.weight")];
  assert.ok(e.every(Number.isFinite) && e.some((v, i) => v !== n[i]), "EMA differs from net");
});

Deno.test("checkpoint key: missing lists the keys; none given names the state dicts", () => {
  throwsLine(
    () => readTorchCheckpoint(FORMAT, FORMAT_PATH, { key: "foo" }),
    /torchcfm-format\.pt: has no key "foo"; the keys that exist: "net_model", "ema_model", "sched", "optim", "step"$/,
  );
  throwsLine(
    () => readTorchCheckpoint(FORMAT, FORMAT_PATH),
    /is a checkpoint dict .*; choose the state dict with a checkpoint key: "net_model", "ema_model"$/,
  );
  throwsLine(
    () => readTorchCheckpoint(FORMAT, FORMAT_PATH, { key: "optim" }),
    /key "optim" is not a state dict: its entry "state" holds a dict/,
  );
  throwsLine(
    () => readTorchCheckpoint(FORMAT, FORMAT_PATH, { key: "step" }),
    /key "step" is not a state dict: it holds a number/,
  );
});

/** The fixture with its data.pkl rewritten by `patch`. */
function patched(patch: (pkl: Uint8Array) => Uint8Array): Uint8Array {
  const zip = new ZipArchive(FORMAT, FORMAT_PATH);
  return storedZip(
    zip.names().map((n) => [n, n.endsWith("/data.pkl") ? patch(zip.read(n)) : zip.read(n)]),
  );
}

/** Replace the first NONE after `marker` with `code` (opcodes that build a callable). */
function replaceNoneAfter(pkl: Uint8Array, marker: string, code: Uint8Array): Uint8Array {
  const m = new TextEncoder().encode(marker);
  const at = pkl.findIndex((_, i) => m.every((b, j) => pkl[i + j] === b));
  assert.ok(at > 0, `${marker} is in the pickle`);
  const none = pkl.indexOf(0x4e, at + m.length);
  return Uint8Array.from([...pkl.subarray(0, none), ...code, ...pkl.subarray(none + 1)]);
}

Deno.test("code anywhere in a checkpoint is refused, whatever key is asked for; nothing runs", () => {
  const enc = (s: string) => [...new TextEncoder().encode(s)];
  // A LambdaLR holding a callable object (pickled by reference and called on load).
  const callable = Uint8Array.from([...enc("c__main__\nWarmupLR\n"), 0x29, 0x52]);
  const evil = patched((pkl) => replaceNoneAfter(pkl, "lr_lambdas", callable));
  const msg = throwsLine(
    () => readTorchCheckpoint(evil, "evil.pt", { key: "ema_model" }),
    /^PyTorch checkpoint evil\.pt: .*refused global __main__\.WarmupLR/,
  );
  assert.match(msg, /nothing was executed/);
  // os.system("id") in place of `foreach: None`.
  const system = Uint8Array.from([
    ...enc("cos\nsystem\n"),
    0x58,
    2,
    0,
    0,
    0,
    ...enc("id"),
    0x85,
    0x52,
  ]);
  const evil2 = patched((pkl) => replaceNoneAfter(pkl, "foreach", system));
  assert.throws(() => readTorchSaved(evil2, "evil2.pt"), (e: Error) => {
    assert.ok(e instanceof TorchCheckpointError);
    assert.match(e.message, /refused global os\.system/);
    return true;
  });
  // Not a checkpoint at all.
  throwsLine(
    () => readTorchCheckpoint(new TextEncoder().encode("hello"), "notes.txt"),
    /notes\.txt: not a torch\.save file/,
  );
});

Deno.test("loader: a state dict of another network lists missing and unexpected keys", () => {
  const m = createAdmUNet({ shape: SHAPE, preset: "tiny", seed: 0 });
  const mlp = readTorchCheckpoint(FORMAT, FORMAT_PATH, { key: "ema_model" }).float32Tensors();
  throwsLine(
    () => m.loadStateDict(mlp),
    /^adm-unet:tiny: state dict does not match \(no preset fits this state dict\): missing key "time_embed\.0\.weight" and \d+ more; unexpected key "net\.0\.weight" \[[\d, ]+\] and 7 more$/,
  );
  // One key missing: named; the rest of the state dict is fine.
  const { tensors } = seededAdmWeights(ADM_PRESETS.tiny, SHAPE, 1);
  tensors.delete("middle_block.1.qkv.bias");
  throwsLine(
    () => m.loadStateDict(tensors),
    /state dict does not match \(no preset fits this state dict\): missing key "middle_block\.1\.qkv\.bias"$/,
  );
  m.dispose();
});

Deno.test("loader: a state dict of another preset names the first mismatched key and the preset that fits", () => {
  // Same keys, other widths: torchcfm's model given lipman's state dict (shapes only).
  const m = createAdmUNet({ shape: [32, 32, 3], preset: "torchcfm", seed: 0 });
  throwsLine(
    () => m.loadStateDict(shapesOnly("lipman", [32, 32, 3])),
    /^adm-unet:torchcfm: state dict key "time_embed\.0\.weight" has shape \[1024, 256\], the model expects \[512, 128\]; preset "lipman" fits this state dict$/,
  );
  m.dispose();
  // Other keys: the tiny model given torchcfm's state dict on the same data shape.
  const tiny = createAdmUNet({ shape: SHAPE, preset: "tiny", seed: 0 });
  throwsLine(
    () => tiny.loadStateDict(shapesOnly("torchcfm", SHAPE)),
    /^adm-unet:tiny: state dict does not match \(preset "torchcfm" fits this state dict\): missing key .*; unexpected key /,
  );
  // A shape no preset has.
  const { tensors } = seededAdmWeights(ADM_PRESETS.tiny, SHAPE, 1);
  tensors.set("out.2.weight", { shape: [1, 32, 3, 3], data: new Float32Array(288) });
  throwsLine(
    () => tiny.loadStateDict(tensors),
    /state dict key "out\.2\.weight" has shape \[1, 32, 3, 3\], the model expects \[3, 32, 3, 3\]; no preset fits this state dict$/,
  );
  // Values that do not fill the shape.
  const short = seededAdmWeights(ADM_PRESETS.tiny, SHAPE, 1).tensors;
  short.set("out.2.bias", { shape: [3], data: new Float32Array(2) });
  throwsLine(() => tiny.loadStateDict(short), /"out\.2\.bias" holds 2 values for shape \[3\]/);
  tiny.dispose();
});

Deno.test("loader: nothing is assigned on error; DataParallel's module. prefix is accepted", () => {
  const m = createAdmUNet({ shape: SHAPE, preset: "tiny", seed: 0 });
  const before = m.variables().map((v) => v.dataSync().slice());
  const { tensors } = seededAdmWeights(ADM_PRESETS.tiny, SHAPE, 1);
  const bad = new Map(tensors);
  bad.set("out.2.bias", { shape: [3], data: new Float32Array(2) });
  assert.throws(() => m.loadStateDict(bad));
  m.variables().forEach((v, i) => assert.deepEqual(v.dataSync(), before[i], m.names()[i]));
  // "module.<name>" everywhere (a checkpoint saved from nn.DataParallel) loads the same values.
  const prefixed = new Map([...tensors].map(([k, v]) => [`module.${k}`, v]));
  const other = createAdmUNet({ shape: SHAPE, preset: "tiny", seed: 5 });
  m.loadStateDict(tensors);
  other.loadStateDict(prefixed);
  const x = tf.randomNormal([2, ...SHAPE], 0, 1, "float32", 3);
  const t = tf.tensor1d([0.2, 0.7]);
  const [a, b] = [m.apply(x, t), other.apply(x, t)];
  assert.deepEqual(a.dataSync(), b.dataSync());
  // The bias of the output conv lands where PyTorch has it (a [3] vector, no transpose).
  const i = m.names().indexOf("out.2.bias");
  assert.deepEqual(m.variables()[i].dataSync(), tensors.get("out.2.bias")!.data);
  tf.dispose([x, t, a, b]);
  m.dispose();
  other.dispose();
});
