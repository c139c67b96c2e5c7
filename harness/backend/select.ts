// Backend selection: tensorflow (tfjs-node-gpu, optional lazy import), webgpu on a real adapter,
// else wasm, with fmbench's convolution-gradient kernels registered (wasm ships none).
import { firstLine } from "../error-message.ts";
import { tf } from "../../core/tf.ts";
import { loadBlas } from "./native-blas.ts";
import { registerBlasConvGrads } from "./wasm-blas-conv.ts";
import { registerBlasMatMul } from "./wasm-blas-matmul.ts";
import { registerBlasReduce } from "./wasm-blas-reduce.ts";
import { applyWasmMatMulFix } from "./wasm-fixes.ts";
import { registerWasmSlice } from "./wasm-slice.ts";
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

async function webgpuAdapter(): Promise<{ ok: boolean; device: string }> {
  // deno-lint-ignore no-explicit-any
  const gpu = (globalThis.navigator as any)?.gpu;
  if (!gpu) return { ok: false, device: "no navigator.gpu" };
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

/** Activate a backend; returns notes on what fmbench changed in it (wasm's native BLAS). */
async function activate(name: BackendName): Promise<string[]> {
  if (name === "wasm") await import("@tensorflow/tfjs-backend-wasm");
  if (name === "webgpu") await import("@tensorflow/tfjs-backend-webgpu");
  const ok = await tf.setBackend(name);
  if (!ok) throw new BackendUnavailableError(`backend "${name}" failed to initialise`);
  await tf.ready();
  if (name !== "wasm") return [];
  applyWasmMatMulFix();
  registerWasmConvGrads();
  registerWasmSlice();
  const { blas, why } = loadBlas();
  if (!blas) return [`wasm: matrix products by XNNPACK (no native BLAS: ${why})`];
  registerBlasMatMul(blas);
  registerBlasReduce(blas);
  registerBlasConvGrads(blas);
  return [
    `wasm: matrix products, sums and stride-1 convolutions (and their gradients) by native BLAS ${blas.path} through FFI` +
    (blas.threads ? ` (${blas.threads} thread${blas.threads > 1 ? "s" : ""})` : ""),
  ];
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
      const a = await webgpuAdapter();
      if (a.device.startsWith("no ")) {
        throw new BackendUnavailableError(`webgpu: ${a.device} (run with a GPU and Vulkan)`);
      }
      device = a.device;
    }
    notes.push(`forced by --backend ${name}`, ...await activate(name));
    return { backend: name, device, notes };
  }
  const tfWhy = await tryTensorflow();
  if (!tfWhy) {
    await activate("tensorflow");
    return { backend: "tensorflow", device: "tfjs-node-gpu (CUDA)", notes: ["auto: native"] };
  }
  notes.push(tfWhy);
  const a = await webgpuAdapter();
  if (a.ok) {
    await activate("webgpu");
    notes.push(`webgpu: real adapter ${a.device}`);
    return { backend: "webgpu", device: a.device, notes };
  }
  notes.push(`webgpu: skipped (${a.device})`);
  try {
    notes.push(...await activate("wasm"));
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
