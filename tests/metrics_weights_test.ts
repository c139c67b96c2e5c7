// Tests for getting the DINOv2 weights: the verified download against Hugging Face's declared
// hash or a pinned one (served by a fake fetch), n/a without network, a hand-placed file that
// contradicts a pin, and the `deno task metrics:weights` grants.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { selectBackend } from "../backend/select.ts";
import { MODES } from "../cli/launch.ts";
import { DINOV2_DOWNLOAD, INCEPTION_DOWNLOAD, metricsWeightsLaunch } from "../cli/grants.ts";
import { WeightsDownloadError } from "../store/download.ts";
import {
  DINOV2_HOSTS,
  DINOV2_SAFETENSORS,
  DINOV2_URL,
  downloadDinov2Weights,
  ensureDinov2Model,
  loadDinov2Model,
  VIT_L14,
} from "../features/dinov2/mod.ts";

await selectBackend("cpu");

const FIXTURE = new URL("./fixtures/dinov2-small-reference.safetensors", import.meta.url);
const BODY = await Deno.readFile(FIXTURE);
const SHA = createHash("sha256").update(BODY).digest("hex");
const SMALL = { ...VIT_L14, dim: 32, depth: 2, heads: 2, mlpDim: 128 };

/** A fake Hugging Face: HEAD answers 302 with the LFS headers, GET the body. */
function fakeHub(
  body: Uint8Array,
  headers: Record<string, string> = {
    "x-linked-etag": `"${createHash("sha256").update(body).digest("hex")}"`,
    "x-linked-size": String(body.length),
    "x-repo-commit": "0123abcd",
  },
): typeof fetch {
  return ((_url: string, init?: RequestInit) => {
    if (init?.method === "HEAD") {
      return Promise.resolve(new Response(null, { status: 302, headers }));
    }
    return Promise.resolve(
      new Response(body as Uint8Array<ArrayBuffer>, {
        headers: { "content-length": String(body.length) },
      }),
    );
  }) as typeof fetch;
}

async function inTempDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fmbench-dinov2-" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("download: checked against Hugging Face's declared SHA-256, renamed into place", async () => {
  await inTempDir(async (dir) => {
    const target = join(dir, DINOV2_SAFETENSORS);
    let last = 0;
    const got = await downloadDinov2Weights({
      target,
      fetch: fakeHub(BODY),
      onProgress: (done) => last = done,
    });
    assert.equal(got.sha256, SHA);
    assert.equal(got.checkedAgainst, "declared");
    assert.equal(got.commit, "0123abcd");
    assert.equal(last, BODY.length);
    assert.deepEqual(await Deno.readFile(target), BODY);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [DINOV2_SAFETENSORS]);
  });
});

Deno.test("download: a pinned hash, a wrong size or no hash at all is refused; nothing kept", async () => {
  await inTempDir(async (dir) => {
    const target = join(dir, DINOV2_SAFETENSORS);
    const pin = "ab".repeat(32);
    await assert.rejects(
      downloadDinov2Weights({ target, fetch: fakeHub(BODY), sha256: pin }),
      (e: Error) => {
        assert.ok(e instanceof WeightsDownloadError);
        assert.match(e.message, new RegExp(`SHA-256 ${SHA}, expected ${pin} \\(pinned\\)`));
        assert.match(e.message, /Nothing was kept/);
        return true;
      },
    );
    const lying = fakeHub(BODY, { "x-linked-etag": `"${SHA}"`, "x-linked-size": "12" });
    await assert.rejects(
      downloadDinov2Weights({ target, fetch: lying }),
      new RegExp(`downloaded ${BODY.length} bytes, Hugging Face declares 12`),
    );
    await assert.rejects(
      downloadDinov2Weights({ target, fetch: fakeHub(BODY, {}) }),
      /no SHA-256 to check the download against.*FMBENCH_DINOV2_SHA256/,
    );
    await assert.rejects(
      downloadDinov2Weights({ target, fetch: fakeHub(BODY), sha256: "not-hex" }),
      /"not-hex" \(from --sha256\) is not 64 hex digits/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    // The pinned value that matches is accepted and says so.
    const ok = await downloadDinov2Weights({ target, fetch: fakeHub(BODY), sha256: SHA });
    assert.equal(ok.checkedAgainst, "pinned");
  });
});

Deno.test("ensureDinov2Model: n/a offline with the command; downloads then loads; pins hold", async () => {
  await inTempDir(async (dir) => {
    const na = await ensureDinov2Model({ dataDir: dir, download: false, config: SMALL });
    assert.ok(!na.available);
    assert.match(na.reason, /^n\/a: DINOv2 weights not found; looked for /);
    assert.ok(na.reason.includes(`deno task metrics:weights --data-dir ${dir}`), na.reason);
    assert.ok(na.reason.includes(`curl -L -o ${join(dir, DINOV2_SAFETENSORS)} ${DINOV2_URL}`));
    // Under `deno task test` (no --allow-net) nothing is downloaded, and the reason says why.
    const net = Deno.permissions.querySync({ name: "net", host: "huggingface.co" }).state;
    if (net !== "granted") {
      const noNet = await ensureDinov2Model({ dataDir: dir, config: SMALL });
      assert.ok(!noNet.available);
      assert.match(noNet.reason, /network access to huggingface\.co is not allowed/);
    }
    const m = await ensureDinov2Model({ dataDir: dir, config: SMALL, fetch: fakeHub(BODY) });
    assert.ok(m.available);
    assert.equal(m.sha256, SHA);
    assert.equal(m.pinned, false);
    assert.equal(m.format, "safetensors");
    assert.equal(m.extractor.dim, 32);
    m.extractor.dispose();
    // A file in place that contradicts a pin is refused with both hashes.
    const pin = "cd".repeat(32);
    await assert.rejects(
      loadDinov2Model(join(dir, DINOV2_SAFETENSORS), { config: SMALL, sha256: pin }),
      new RegExp(`SHA-256 ${SHA}, but ${pin} is pinned`),
    );
  });
});

Deno.test("metrics:weights grants: the data dir, and only the hosts of missing files", async () => {
  assert.deepEqual(DINOV2_DOWNLOAD.hosts, DINOV2_HOSTS);
  assert.equal(new URL(DINOV2_URL).host, DINOV2_HOSTS[0]);
  const ctx = (exists: (p: string) => boolean) => ({
    cwd: "/repo",
    env: () => undefined,
    exists,
    now: new Date(),
  });
  const netOf = (perms: string[]) =>
    perms.find((p) => p.startsWith("--allow-net="))?.slice(12).split(",").sort() ?? [];
  const none = metricsWeightsLaunch(["--data-dir", "/d"], ctx(() => false));
  assert.deepEqual(none.writes, ["/d"]);
  assert.deepEqual(netOf(none.permissions), [...INCEPTION_DOWNLOAD.hosts, ...DINOV2_HOSTS].sort());
  const fidThere = metricsWeightsLaunch(
    ["--data-dir", "/d"],
    ctx((p) => p === "/d/pt_inception-2015-12-05-6726825d.pth"),
  );
  assert.deepEqual(netOf(fidThere.permissions), [...DINOV2_HOSTS].sort());
  const both = metricsWeightsLaunch([], ctx(() => true));
  assert.deepEqual(netOf(both.permissions), []);
  assert.deepEqual(metricsWeightsLaunch(["--help"], ctx(() => false)).writes, []);
  assert.deepEqual(metricsWeightsLaunch(["--bogus"], ctx(() => false)).writes, []);
  assert.equal(
    MODES["metrics:weights"](["--sha256", SHA], ctx(() => false)).script,
    "cli/metrics-weights.ts",
  );
  const cfg = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.match(cfg.tasks["metrics:weights"], /cli\/launch\.ts metrics:weights$/);
});
