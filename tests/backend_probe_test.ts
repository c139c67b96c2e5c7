// The webgpu probe runs only where a GPU could be found and keeps the Wayland loader quiet.
import assert from "node:assert/strict";
import { type ProbeDeps, quietWaylandEnv, webgpuAdapter } from "../backend/select.ts";

function fakeGpu(adapter: unknown): { deps: (nodes: string[] | null) => ProbeDeps; calls: number } {
  const state = { calls: 0, deps: undefined as unknown as (n: string[] | null) => ProbeDeps };
  const gpu = {
    requestAdapter: () => {
      state.calls++;
      return Promise.resolve(adapter);
    },
  };
  state.deps = (nodes) => ({ nodes: () => nodes, gpu: () => gpu });
  return state;
}

const REAL = { info: { vendor: "nvidia", description: "H200" }, isFallbackAdapter: false };
const SOFTWARE = { info: { description: "llvmpipe" }, isFallbackAdapter: true };

Deno.test("webgpu probe: skipped without a GPU device node on Linux unless webgpu is forced", async () => {
  const f = fakeGpu(REAL);
  const auto = await webgpuAdapter(false, f.deps([]));
  assert.equal(auto.ok, false);
  assert.match(auto.device, /^not probed: no GPU device/);
  assert.equal(f.calls, 0, "no adapter request, so no loader output");
  assert.equal((await webgpuAdapter(true, f.deps([]))).ok, true, "--backend webgpu still probes");
  assert.equal(f.calls, 1);
  const nvidia = await webgpuAdapter(false, f.deps(["/dev/nvidia0"]));
  assert.deepEqual({ ok: nvidia.ok, device: nvidia.device }, { ok: true, device: "nvidia H200" });
  assert.equal((await webgpuAdapter(false, f.deps(null))).ok, true, "not Linux: probe to know");
  const soft = await webgpuAdapter(false, fakeGpu(SOFTWARE).deps(["/dev/dri/renderD128"]));
  assert.deepEqual(
    { ok: soft.ok, device: soft.device },
    { ok: false, device: "llvmpipe (software fallback)" },
  );
  assert.equal(soft.facts?.isFallback, true);
});

Deno.test("webgpu probe: XDG_RUNTIME_DIR is made absolute (libwayland's complaint), a real one kept", () => {
  const prev = Deno.env.get("XDG_RUNTIME_DIR");
  try {
    Deno.env.delete("XDG_RUNTIME_DIR");
    const set = quietWaylandEnv();
    assert.ok(set?.startsWith("/"), String(set));
    assert.equal(Deno.env.get("XDG_RUNTIME_DIR"), set);
    Deno.env.set("XDG_RUNTIME_DIR", "relative/dir");
    assert.ok(quietWaylandEnv()?.startsWith("/"), "a relative path is invalid too");
    Deno.env.set("XDG_RUNTIME_DIR", "/run/user/1000");
    assert.equal(quietWaylandEnv(), undefined);
    assert.equal(Deno.env.get("XDG_RUNTIME_DIR"), "/run/user/1000");
  } finally {
    if (prev === undefined) Deno.env.delete("XDG_RUNTIME_DIR");
    else Deno.env.set("XDG_RUNTIME_DIR", prev);
  }
});

Deno.test("webgpu probe: a real probe without XDG_RUNTIME_DIR prints nothing to stderr", async () => {
  const script = new URL("../backend/select.ts", import.meta.url).href;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { webgpuAdapter } from "${script}"; console.log(JSON.stringify(await webgpuAdapter(true)));`,
    ],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "/tmp", NO_COLOR: "1" },
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  assert.ok(!/XDG_RUNTIME_DIR/.test(err), err);
  assert.match(new TextDecoder().decode(out.stdout), /"device":/);
});
