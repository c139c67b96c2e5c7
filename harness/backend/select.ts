// Backend selection: tensorflow (tfjs-node-gpu, optional lazy import), webgpu on a real adapter,
// else wasm, with fmbench's convolution-gradient kernels registered (wasm ships none).
import { firstLine } from "../error-message.ts";
import { tf } from "../../core/tf.ts";
import { applyWasmMatMulFix } from "./wasm-fixes.ts";
import { registerWasmConvGrads } from "./wasm-conv-grads.ts";

export type BackendName = "tensorflow" | "webgpu" | "wasm" | "cpu";
export const BACKENDS: BackendName[] = ["tensorflow", "webgpu", "wasm", "cpu"];

export interface BackendInfo {
  backend: BackendName;
  device: string;
  /** Why this backend was chosen, and what was tried first. */
  notes: string[];
}

/** Thrown when a forced backend cannot be used; the message says how to enable it. */
export class BackendUnavailableError extends Error {}

const TFJS_NODE_GPU = "npm:@tensorflow/tfjs-node-gpu@4.22.0";

async function tryTensorflow(): Promise<string | null> {
  try {
    // Optional native backend; absent unless the user installed it (see README).
    await import(TFJS_NODE_GPU);
    return null;
  } catch (e) {
    return `tensorflow: @tensorflow/tfjs-node-gpu not loadable (${firstLine(e, 160)}); ` +
      `enable it with: deno install --allow-scripts=${TFJS_NODE_GPU} (needs CUDA 11 + cuDNN 8)`;
  }
}

/**
 * The GPU device nodes a WebGPU adapter could use on Linux (/dev/dri/renderD*, /dev/nvidia*,
 * /dev/dxg for WSL, /dev/kfd for ROCm); null elsewhere, where the probe itself must tell.
 * @example
 * gpuDeviceNodes(); // [] on a machine without a GPU: no need to probe webgpu
 */
export function gpuDeviceNodes(): string[] | null {
  if (Deno.build.os !== "linux") return null;
  const nodes: string[] = [];
  const list = (dir: string, keep: (name: string) => boolean) => {
    try {
      for (const e of Deno.readDirSync(dir)) if (keep(e.name)) nodes.push(`${dir}/${e.name}`);
    } catch {
      // absent or unreadable: no nodes from there
    }
  };
  list("/dev/dri", (n) => n.startsWith("renderD"));
  list("/dev", (n) => /^nvidia\d+$/.test(n) || n === "dxg" || n === "kfd");
  return nodes;
}

/**
 * Make the WebGPU probe quiet: the Vulkan/EGL loader tries Wayland, and libwayland prints
 * "error: XDG_RUNTIME_DIR is invalid or not set in the environment." when that variable is not
 * an absolute path. A private absolute path that does not exist keeps it silent (the connection
 * then fails quietly, which is what happens anyway without a display). Returns what it set.
 * @example
 * quietWaylandEnv(); // "/tmp/fmbench-no-wayland-1234" when XDG_RUNTIME_DIR was unset
 */
export function quietWaylandEnv(): string | undefined {
  try {
    const cur = Deno.env.get("XDG_RUNTIME_DIR");
    if (cur?.startsWith("/")) return undefined;
    const dir = `/tmp/fmbench-no-wayland-${Deno.pid}`;
    Deno.env.set("XDG_RUNTIME_DIR", dir);
    return dir;
  } catch {
    return undefined; // no --allow-env: the loader may print its line
  }
}

/** What the webgpu probe needs; tests replace these. */
export interface ProbeDeps {
  nodes: () => string[] | null;
  // deno-lint-ignore no-explicit-any
  gpu: () => any;
}

const realDeps: ProbeDeps = {
  nodes: gpuDeviceNodes,
  // deno-lint-ignore no-explicit-any
  gpu: () => (globalThis.navigator as any)?.gpu,
};

/**
 * Probe for a real WebGPU adapter. Unless `forced`, a Linux machine with no GPU device node is
 * not probed at all (nothing to find, and the loader's output would only be noise).
 * @example
 * const a = await webgpuAdapter(false); // { ok: false, device: "not probed: no GPU device ..." }
 */
export async function webgpuAdapter(
  forced: boolean,
  deps: ProbeDeps = realDeps,
): Promise<{ ok: boolean; device: string }> {
  const nodes = deps.nodes();
  if (!forced && nodes !== null && nodes.length === 0) {
    return {
      ok: false,
      device: "not probed: no GPU device (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg, /dev/kfd)",
    };
  }
  const gpu = deps.gpu();
  if (!gpu) return { ok: false, device: "no navigator.gpu" };
  quietWaylandEnv();
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { ok: false, device: "no adapter" };
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture, info.device, info.description]
      .filter((s: string) => s).join(" ") || "unknown adapter";
    const fallback = adapter.isFallbackAdapter ?? info.isFallbackAdapter ?? false;
    return { ok: !fallback, device: fallback ? `${name} (software fallback)` : name };
  } catch (e) {
    return { ok: false, device: `requestAdapter failed: ${firstLine(e, 160)}` };
  }
}

async function activate(name: BackendName): Promise<void> {
  if (name === "wasm") await import("@tensorflow/tfjs-backend-wasm");
  if (name === "webgpu") await import("@tensorflow/tfjs-backend-webgpu");
  const ok = await tf.setBackend(name);
  if (!ok) throw new BackendUnavailableError(`backend "${name}" failed to initialise`);
  await tf.ready();
  if (name === "wasm") {
    applyWasmMatMulFix();
    registerWasmConvGrads();
  }
}

function cpuDevice(): string {
  try {
    return `${Deno.build.arch} ${navigator.hardwareConcurrency} threads`;
  } catch {
    return Deno.build.arch;
  }
}

/**
 * Choose and activate a backend. `forced` picks one (or throws a clear error); otherwise
 * auto-select. `needsConvGrad` notes that conv training relies on fmbench's wasm kernels.
 */
export async function selectBackend(
  forced?: string,
  opts: { needsConvGrad?: boolean } = {},
): Promise<BackendInfo> {
  const notes: string[] = [];
  if (forced && forced !== "auto") {
    if (!BACKENDS.includes(forced as BackendName)) {
      throw new BackendUnavailableError(
        `unknown --backend "${forced}"; valid: auto, ${BACKENDS.join(", ")}`,
      );
    }
    const name = forced as BackendName;
    let device = cpuDevice();
    if (name === "tensorflow") {
      const why = await tryTensorflow();
      if (why) throw new BackendUnavailableError(why);
      device = "tfjs-node-gpu (CUDA)";
    }
    if (name === "webgpu") {
      const a = await webgpuAdapter(true);
      if (a.device.startsWith("no ")) {
        throw new BackendUnavailableError(`webgpu: ${a.device} (run with a GPU and Vulkan)`);
      }
      device = a.device;
    }
    await activate(name);
    notes.push(`forced by --backend ${name}`);
    return { backend: name, device, notes };
  }
  // tfjs-node-gpu needs CUDA, so an NVIDIA device node; without one, skip the import (its
  // failure message about a missing native addon would read like an error on a CPU machine).
  const nodes = gpuDeviceNodes();
  const tfWhy = nodes !== null && !nodes.some((n) => /\/nvidia\d+$/.test(n))
    ? "tensorflow: skipped (no NVIDIA GPU device)"
    : await tryTensorflow();
  if (!tfWhy) {
    await activate("tensorflow");
    return { backend: "tensorflow", device: "tfjs-node-gpu (CUDA)", notes: ["auto: native"] };
  }
  notes.push(tfWhy);
  const a = await webgpuAdapter(false);
  if (a.ok) {
    await activate("webgpu");
    notes.push(`webgpu: real adapter ${a.device}`);
    return { backend: "webgpu", device: a.device, notes };
  }
  notes.push(`webgpu: skipped (${a.device})`);
  try {
    await activate("wasm");
    if (opts.needsConvGrad) {
      notes.push(
        "wasm: convolution gradients by fmbench's kernels (harness/backend/wasm-conv-grads.ts)",
      );
    }
    return { backend: "wasm", device: cpuDevice(), notes };
  } catch (e) {
    notes.push(`wasm: unavailable (${firstLine(e, 160)}); using cpu`);
    await activate("cpu");
    return { backend: "cpu", device: cpuDevice(), notes };
  }
}
