// Dev-only cross-check against real PyTorch: runs scripts/torch-pth-check.py (torch.save of small
// and Inception-sized state dicts, zip and legacy layouts) and reads every file back with the
// harness's loader, comparing values exactly. Needs /usr/bin/python3 with torch.
//
//   deno run -A scripts/torch-pth-check.ts
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { selectBackend } from "../backend/select.ts";
import { loadFidModel } from "../features/fid.ts";
import { expectedTensors } from "../features/inception/inception-spec.ts";
import { readTorchCheckpointFile } from "../store/torch-checkpoint.ts";
import { seededWeights } from "../features/inception/seeded-weights.ts";

const dir = await Deno.makeTempDir({ prefix: "torch-pth-" });
try {
  const manifest = `${dir}/manifest.json`;
  await Deno.writeTextFile(manifest, JSON.stringify(expectedTensors()));
  const script = new URL("./torch-pth-check.py", import.meta.url).pathname;
  const py = await new Deno.Command("/usr/bin/python3", { args: [script, dir, manifest] }).output();
  console.log(new TextDecoder().decode(py.stdout).trim());
  if (!py.success) throw new Error(new TextDecoder().decode(py.stderr));

  const small = JSON.parse(await Deno.readTextFile(`${dir}/small.json`));
  for (const layout of ["zip", "legacy"]) {
    const ckpt = await readTorchCheckpointFile(`${dir}/small.${layout}.pth`);
    let checked = 0;
    for (
      const [name, want] of Object.entries(small.tensors) as [
        string,
        { shape: number[]; values: number[] },
      ][]
    ) {
      assert.deepEqual(ckpt.entry(name)?.shape, want.shape, name);
      assert.deepEqual([...ckpt.float64(name)], want.values, `${layout} ${name}`);
      checked++;
    }
    const nbt = ckpt.entry("net.1.num_batches_tracked");
    assert.deepEqual(nbt, { dtype: "I64", shape: [] });
    console.log(
      `small.${layout}.pth: ${ckpt.format}, ${checked} float tensors equal torch's values ` +
        `(${ckpt.names().length} entries incl. int64)`,
    );
    const mod = await readTorchCheckpointFile(`${dir}/module.${layout}.pth`);
    assert.deepEqual(
      mod.names(),
      ckpt.names().filter((n) => n.startsWith("net.")).map((n) => n.slice(4)),
    );
    assert.deepEqual([...mod.float64("0.weight")], small.tensors["net.0.weight"].values);
    console.log(
      `module.${layout}.pth: a module's state_dict with _metadata (BUILD) reads the same`,
    );
  }

  await selectBackend("wasm");
  const weights = seededWeights(1234);
  const content = createHash("sha256");
  for (const t of expectedTensors()) content.update(new Uint8Array(weights[t.name].data.buffer));
  const want = content.digest("hex");
  for (const layout of ["zip", "legacy"]) {
    const path = `${dir}/inception.${layout}.pth`;
    const ckpt = await readTorchCheckpointFile(path);
    const strided = ckpt.names().filter((n) => {
      const t = ckpt.tensor(n)!;
      let s = 1;
      for (let i = t.shape.length - 1; i >= 0; i--) {
        if (t.shape[i] > 1 && t.stride[i] !== s) return true;
        s *= t.shape[i];
      }
      return false;
    });
    const offset = ckpt.names().filter((n) => ckpt.tensor(n)!.offset > 0);
    const model = await loadFidModel(path);
    assert.ok(model.available);
    if (!model.available) continue;
    assert.equal(model.contentSha256, want, `${layout}: content hash`);
    console.log(
      `inception.${layout}.pth: format ${model.format}; ${ckpt.names().length} entries, ` +
        `${strided.length} non-contiguous, ${offset.length} at a storage offset; the 470 network ` +
        `tensors equal the code-made seeded weights (content sha256 ${want.slice(0, 16)}...)`,
    );
    model.extractor.dispose();
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
