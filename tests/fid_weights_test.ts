// Tests for getting the FID weights: pytorch-fid's .pth read directly (code-made, real names and
// shapes) equals the safetensors route bit for bit; the download (fake fetch) is atomic, checked
// and reported; without network the message names the URL and the exact path.
import { MODES } from "../cli/launch.ts";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { selectBackend } from "../backend/select.ts";
import { ensureFidModel, loadFidModel, parseWeights } from "../features/fid.ts";
import { expectedTensors } from "../features/inception/inception-spec.ts";
import {
  downloadInceptionWeights,
  findInceptionWeights,
  INCEPTION_HOSTS,
  INCEPTION_PTH,
  INCEPTION_SAFETENSORS,
  INCEPTION_SHA256,
  INCEPTION_SHA256_PREFIX,
  INCEPTION_URL,
  WeightsDownloadError,
} from "../features/weights-file.ts";
import { encodeSafetensors } from "../store/safetensors.ts";
import { CIFAR10_URL } from "../harness/data/cifar10.ts";
import {
  inceptionPthSpec,
  seededWeights,
  STRIDED_CONVS,
} from "../features/inception/seeded-weights.ts";
import { encodePthLegacy, encodePthZip } from "../store/torch-save.ts";

await selectBackend("wasm");

const weights = seededWeights(1234);
const spec = inceptionPthSpec(weights);

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Bitwise equality of two float arrays (distinguishes -0 and NaN payloads). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

Deno.test("a code-made pytorch-fid .pth (zip and legacy) equals the safetensors route bit for bit", async () => {
  await withTempDir(async (dir) => {
    const st = encodeSafetensors(weights);
    const files = {
      safetensors: st,
      "torch-zip": encodePthZip(spec, "pt_inception-2015-12-05-6726825d"),
      "torch-legacy": encodePthLegacy(spec),
    };
    const ref = parseWeights(st, "ref").file;
    // The content hash of the safetensors route: the tensors' float32 bytes in manifest order.
    const content = createHash("sha256");
    for (const t of expectedTensors()) content.update(new Uint8Array(weights[t.name].data.buffer));
    const contentSha256 = content.digest("hex");
    for (const [format, bytes] of Object.entries(files)) {
      const path = join(dir, `w.${format}`);
      await Deno.writeFile(path, bytes);
      const { file } = parseWeights(bytes, path);
      // Every network tensor, including the shared-storage BN tensors and the strided views.
      for (const t of expectedTensors()) {
        assert.deepEqual(file.entry(t.name)?.shape, t.shape, `${format} ${t.name} shape`);
        assert.ok(sameBits(file.float32(t.name), ref.float32(t.name)), `${format} ${t.name}`);
      }
      if (format === "safetensors") continue; // loadFidModel on safetensors: inception_test.ts
      const model = await loadFidModel(path);
      assert.ok(model.available, format);
      if (!model.available) continue;
      assert.equal(model.format, format);
      assert.equal(model.sha256, sha256(bytes));
      assert.equal(model.publishedFile, false);
      assert.equal(model.paramCount, 21_785_568);
      assert.equal(model.contentSha256, contentSha256, `${format}: same content hash`);
      model.extractor.dispose();
    }
  });
  // The spec really exercises offsets, sharing and strides.
  const conv = spec.tensors.find(([n]) => n === `${STRIDED_CONVS[0]}.conv.weight`)![1];
  assert.deepEqual(conv.stride, [1, 32, 288, 96]);
  const bias = spec.tensors.find(([n]) => n === "Mixed_5b.branch1x1.bn.bias")![1];
  const gamma = spec.tensors.find(([n]) => n === "Mixed_5b.branch1x1.bn.weight")![1];
  assert.equal(bias.storage, gamma.storage);
  assert.equal(bias.offset, 64);
});

Deno.test("a .pth missing a tensor or with a wrong shape is an error naming the tensor", async () => {
  await withTempDir(async (dir) => {
    const cut = {
      ...spec,
      tensors: spec.tensors.filter(([n]) => n !== "Mixed_6c.branch7x7dbl_4.bn.running_var"),
    };
    await Deno.writeFile(join(dir, "cut.pth"), encodePthLegacy(cut));
    await assert.rejects(
      loadFidModel(join(dir, "cut.pth")),
      /cut\.pth: missing tensor "Mixed_6c\.branch7x7dbl_4\.bn\.running_var"/,
    );
    await Deno.writeFile(
      join(dir, "junk.pth"),
      new TextEncoder().encode("<html>rate limited</html>"),
    );
    await assert.rejects(
      loadFidModel(join(dir, "junk.pth")),
      /junk\.pth: neither a PyTorch checkpoint/,
    );
  });
});

/** A fetch serving `body` once per call, announcing `announce` bytes; records calls. */
function fakeFetch(body: Uint8Array, announce = body.length) {
  const state = { calls: [] as string[], fetch: undefined as unknown as typeof fetch };
  state.fetch = ((url: string) => {
    state.calls.push(String(url));
    // Two chunks, so progress is reported more than once.
    const half = Math.floor(body.length / 2);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(body.slice(0, half));
        c.enqueue(body.slice(half));
        c.close();
      },
    });
    return Promise.resolve(
      new Response(stream, { headers: { "content-length": String(announce) } }),
    );
  }) as typeof fetch;
  return state;
}

Deno.test("download: streamed, hashed, renamed into place; progress reported; nothing else left", async () => {
  await withTempDir(async (dir) => {
    const body = encodePthLegacy(spec);
    const hash = sha256(body);
    const fake = fakeFetch(body);
    const progress: Array<[number, number | undefined]> = [];
    const got = await downloadInceptionWeights({
      target: join(dir, "sub", INCEPTION_PTH),
      fetch: fake.fetch,
      sha256: hash,
      sha256Prefix: hash.slice(0, 8),
      onProgress: (d, t) => progress.push([d, t]),
    });
    assert.deepEqual(fake.calls, [INCEPTION_URL]);
    assert.equal(got.sha256, hash);
    assert.equal(got.bytes, body.length);
    assert.deepEqual(await Deno.readFile(got.path), body);
    assert.deepEqual([...Deno.readDirSync(join(dir, "sub"))].map((e) => e.name), [INCEPTION_PTH]);
    assert.ok(progress.length >= 2);
    assert.deepEqual(progress.at(-1), [body.length, body.length]);
    assert.ok(progress.every(([d], i) => i === 0 || d > progress[i - 1][0]));
  });
});

Deno.test("download: a wrong hash, a wrong prefix or a partial body keeps nothing", async () => {
  await withTempDir(async (dir) => {
    const body = new TextEncoder().encode("not the weights");
    const hash = sha256(body);
    const target = join(dir, INCEPTION_PTH);
    const cases: Array<[Parameters<typeof downloadInceptionWeights>[0], RegExp]> = [
      // The real prefix cannot match this body.
      [
        { target, fetch: fakeFetch(body).fetch },
        new RegExp(`promises it starts with ${INCEPTION_SHA256_PREFIX}`),
      ],
      // Prefix right, rest wrong.
      [
        {
          target,
          fetch: fakeFetch(body).fetch,
          sha256Prefix: hash.slice(0, 8),
          sha256: hash.slice(0, 8) + "0".repeat(56),
        },
        /expected 0*.*the prefix .* matches.*put the file there by hand: curl -L -o /,
      ],
      [
        { target, fetch: fakeFetch(body, body.length + 10).fetch },
        /partial download .*: 15 of 25 bytes/,
      ],
    ];
    for (const [opts, re] of cases) {
      await assert.rejects(downloadInceptionWeights(opts), (e: Error) => {
        assert.ok(e instanceof WeightsDownloadError, String(e));
        assert.match(e.message, re);
        return true;
      });
      assert.deepEqual([...Deno.readDirSync(dir)], [], "no partial or temporary file is left");
    }
  });
});

Deno.test("download: a silent network is given up on, not waited for forever", async () => {
  await withTempDir(async (dir) => {
    const silent = ((_url: string, init?: RequestInit) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted")));
      })) as typeof fetch;
    await assert.rejects(
      downloadInceptionWeights({
        target: join(dir, INCEPTION_PTH),
        fetch: silent,
        stallSeconds: 0.05,
      }),
      /cannot download .*no answer within 0\.05 s.*curl -L -o/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("ensureFidModel: downloads when missing, then loads; offline it says where to put the file", async () => {
  await withTempDir(async (dir) => {
    // Offline: n/a naming the folder searched, the URL, the command and the exact target path.
    const offline = (() => Promise.reject(new TypeError("error sending request"))) as typeof fetch;
    const na = await ensureFidModel({ dataDir: dir, fetch: offline });
    assert.equal(na.available, false);
    if (!na.available) {
      assert.match(na.reason, /^n\/a: Inception weights not found; looked for /);
      assert.ok(na.reason.includes(join(dir, INCEPTION_PTH)), na.reason);
      assert.ok(na.reason.includes(join(dir, INCEPTION_SAFETENSORS)), na.reason);
      assert.ok(
        na.reason.includes(`curl -L -o ${join(dir, INCEPTION_PTH)} ${INCEPTION_URL}`),
        na.reason,
      );
      assert.ok(na.reason.includes(`deno task fid:weights --data-dir ${dir}`), na.reason);
      assert.match(
        na.reason,
        /\(the download failed: cannot download .*: no network \(error sending request\)\)\. Get them/,
      );
    }
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    // No download allowed: the same message without trying.
    const off = await ensureFidModel({ dataDir: dir, download: false });
    assert.ok(!off.available && off.reason.includes(INCEPTION_URL));
    // Online (fake): downloaded into the data dir, then found there next time without fetching.
    const body = encodePthLegacy(spec);
    const hash = sha256(body);
    const fake = fakeFetch(body);
    const model = await ensureFidModel({
      dataDir: dir,
      fetch: fake.fetch,
      sha256: hash,
      sha256Prefix: hash.slice(0, 8),
    });
    assert.ok(model.available);
    if (model.available) {
      assert.equal(model.path, join(dir, INCEPTION_PTH));
      assert.equal(model.format, "torch-legacy");
      model.extractor.dispose();
    }
    assert.equal(findInceptionWeights(dir).found, join(dir, INCEPTION_PTH));
    const again = await ensureFidModel({ dataDir: dir, fetch: fakeFetch(new Uint8Array()).fetch });
    assert.ok(again.available);
    if (again.available) again.extractor.dispose();
    assert.equal(fake.calls.length, 1);
  });
});

Deno.test("ensureFidModel: a weights file in the data dir that fails to load is set aside and obtained again", async () => {
  await withTempDir(async (dir) => {
    const target = join(dir, INCEPTION_PTH);
    const body = encodePthLegacy(spec);
    const hash = sha256(body);
    const cases: Array<[Uint8Array, RegExp]> = [
      [new TextEncoder().encode("<html>rate limited</html>"), /neither a PyTorch checkpoint/],
      [body.subarray(0, body.length - 100), /PyTorch checkpoint .*truncated/],
    ];
    for (const [bad, re] of cases) {
      await Deno.writeFile(target, bad);
      const lines: string[] = [];
      const fake = fakeFetch(body);
      const model = await ensureFidModel({
        dataDir: dir,
        fetch: fake.fetch,
        sha256: hash,
        sha256Prefix: hash.slice(0, 8),
        log: (l) => lines.push(l),
      });
      assert.ok(model.available, "downloaded again after the bad file was set aside");
      if (model.available) model.extractor.dispose();
      assert.equal(fake.calls.length, 1);
      assert.equal(lines.length, 1);
      assert.match(lines[0], re);
      assert.match(lines[0], /moved it to .*\.unreadable-.*; the weights are obtained again$/);
      for (const e of Deno.readDirSync(dir)) {
        if (e.name.includes(".unreadable-")) await Deno.remove(join(dir, e.name));
      }
    }
    // Without a download, the bad file is still set aside and FID is n/a (not a crash).
    await Deno.writeFile(target, new Uint8Array(10));
    const off = await ensureFidModel({ dataDir: dir, download: false });
    assert.ok(!off.available && /not found/.test(off.reason));
  });
});

Deno.test("the recorded full SHA-256 agrees with the prefix the file name carries", () => {
  assert.match(INCEPTION_SHA256, /^[0-9a-f]{64}$/);
  assert.ok(INCEPTION_SHA256.startsWith(INCEPTION_SHA256_PREFIX));
  assert.ok(INCEPTION_URL.endsWith(`-${INCEPTION_SHA256_PREFIX}.pth`));
});

Deno.test("the bench tasks may reach exactly the CIFAR-10 host and the weights' hosts", async () => {
  // The tasks start cli/launch.ts, which grants the hosts a run needs (cli/grants.ts): with
  // nothing in the data dir, a cifar10 run may reach both downloads' hosts and no other.
  const cfg = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const want = [new URL(CIFAR10_URL).host, ...INCEPTION_HOSTS].sort();
  const ctx = { cwd: "/repo", env: () => undefined, exists: () => false, now: new Date() };
  for (const task of ["bench", "bench:gpu", "fid:weights"]) {
    assert.match(cfg.tasks[task], new RegExp(`cli/launch\\.ts ${task}$`), task);
    const l = MODES[task](task === "fid:weights" ? [] : ["--suite", "cifar10"], ctx);
    const m = /^--allow-net=(\S+)$/.exec(l.permissions.find((p) => p.startsWith("--allow-net="))!);
    assert.ok(m, `${task} has --allow-net`);
    const hosts = m[1].split(",").sort();
    assert.deepEqual(hosts, task === "fid:weights" ? [...INCEPTION_HOSTS].sort() : want, task);
  }
  assert.equal(new URL(INCEPTION_URL).host, INCEPTION_HOSTS[0]);
});
