// The GPU proof's pieces that run anywhere: the CIFAR-10 subset (padding the loader refuses to
// read), the bundle entry (every built-in plugin linked in), preloaded plugin modules, and the
// PyTorch reference's parameter counts against fmbench's U-Net.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CIFAR10_FOLDER,
  CIFAR10_RECORD_BYTES,
  CIFAR10_RECORDS_PER_FILE,
  Cifar10Error,
  loadCifar10,
} from "../harness/data/cifar10.ts";
import { BUILTIN_PLUGINS, discoverPlugins, preloadBuiltinPlugins } from "../harness/registry.ts";
import { defineSolver } from "../core/define.ts";
import unet from "../plugins/models/unet.ts";
import { bundleEntry } from "../scripts/bundle-entry.ts";
import { PADDING_LABEL, subsetFile } from "../scripts/cifar-subset.ts";

const R = CIFAR10_RECORD_BYTES, N = CIFAR10_RECORDS_PER_FILE;

Deno.test("CIFAR-10 subset: the kept records load; reading into the padding is an error", async () => {
  const full = new Uint8Array(R * N);
  for (let r = 0; r < N; r++) {
    full[r * R] = r % 10;
    full.fill(r % 251, r * R + 1, (r + 1) * R);
  }
  const sub = subsetFile(full, 3);
  assert.equal(sub.length, full.length);
  assert.deepEqual(sub.subarray(0, 3 * R), full.subarray(0, 3 * R));
  assert.equal(sub[3 * R], PADDING_LABEL);
  assert.equal(sub[3 * R + 1], 0);
  assert.throws(() => subsetFile(full, 0), /1\.\.10000/);
  assert.throws(() => subsetFile(full.subarray(1), 3), /30730000-byte/);

  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, CIFAR10_FOLDER));
    await Deno.writeFile(join(dir, CIFAR10_FOLDER, "test_batch.bin"), sub);
    const ok = await loadCifar10({ dataDir: dir, split: "test", limit: 3, download: false });
    assert.deepEqual([...ok.labels], [0, 1, 2]);
    await assert.rejects(
      () => loadCifar10({ dataDir: dir, split: "test", limit: 4, download: false }),
      (e: unknown) => e instanceof Cifar10Error && /record 3 has label 255/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bundle entry: links in exactly the plugins discovery finds", async () => {
  const text = await bundleEntry("/tmp/x/.gpu/entry.ts");
  const reg = await discoverPlugins([BUILTIN_PLUGINS]);
  const files = reg.entries.map((e) => e.file.replace(/^.*plugins\//, ""));
  const linked = [...text.matchAll(/^ {2}"([^"]+)": p\d+,$/gm)].map((m) => m[1]);
  assert.deepEqual(linked.sort(), files.sort());
  assert.match(text, /preloadBuiltinPlugins\(\{/);
  assert.match(text, /Deno\.exit\(await main\(Deno\.args\)\)/);
});

Deno.test("preloaded built-in plugin modules are used instead of importing the files", async () => {
  const fake = defineSolver({
    name: "euler",
    description: "preloaded stand-in",
    order: 1,
    adaptive: false,
    evalsPerStep: 1,
    integrate: () => Promise.reject(new Error("not for use")),
  });
  preloadBuiltinPlugins({ "solvers/euler.ts": { default: fake } });
  try {
    const reg = await discoverPlugins([BUILTIN_PLUGINS]);
    assert.equal(reg.solvers.get("euler")!.description, "preloaded stand-in");
    assert.notEqual(reg.solvers.get("rk4")!.description, "preloaded stand-in");
  } finally {
    preloadBuiltinPlugins({});
  }
  const again = await discoverPlugins([BUILTIN_PLUGINS]);
  assert.notEqual(again.solvers.get("euler")!.description, "preloaded stand-in");
});

Deno.test("bench/torch_unet.py builds the presets of fmbench's U-Net", async () => {
  // The counts torch_unet.py's --expect-params is checked against at run time (python3 and torch
  // are not test dependencies): every preset there matches UNET_PRESETS here.
  const py = await Deno.readTextFile(new URL("../bench/torch_unet.py", import.meta.url));
  for (const preset of ["tiny", "small", "paper"]) {
    const cfg = unet.presets[preset] as Record<string, unknown>;
    const line = new RegExp(`"${preset}": dict\\(([^)]*)\\)`, "s").exec(py);
    assert.ok(line, `${preset} missing from torch_unet.py`);
    const body = line[1].replace(/\s+/g, "");
    assert.ok(body.includes(`ch=${cfg.ch},`), `${preset} ch`);
    assert.ok(body.includes(`mult=[${(cfg.mult as number[]).join(",")}]`), `${preset} mult`);
    assert.ok(body.includes(`num_res=${cfg.numRes},`), `${preset} numRes`);
    assert.ok(body.includes(`attn_res=[${(cfg.attnRes as number[]).join(",")}]`), preset);
    assert.ok(body.includes(`groups=${cfg.groups},`), `${preset} groups`);
    assert.ok(body.includes(`dropout=${(cfg.dropout as number).toFixed(1)},`), preset);
  }
});
