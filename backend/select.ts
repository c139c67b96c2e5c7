// Backend selection: tensorflow (tfjs-node-gpu, optional lazy import), webgpu on a real adapter
// (device created through fmbench's wrapper), else wasm, with fmbench's convolution-gradient
// kernels registered for wasm and webgpu.
import { firstLine } from "../core/error-message.ts";
import { tf } from "../core/tf.ts";
import { type Blas, loadBlas } from "./native-blas.ts";
import { checkNativeKernels, describeCheck, faultyBlas } from "./native-check.ts";
import { activeThreads, machineCores, setActiveBlas } from "./threads.ts";
import { registerBlasConvGrads } from "./wasm-blas-conv.ts";
import { sharedBlas } from "./shared-blas.ts";
import { setJobBlas } from "./helper-pool.ts";
import { registerBlasIm2col } from "./wasm-blas-im2col.ts";
import { registerBlasMatMul } from "./wasm-blas-matmul.ts";
import { registerBlasReduce } from "./wasm-blas-reduce.ts";
import { applyWasmMatMulFix } from "./wasm-fixes.ts";
import { registerWasmSlice } from "./wasm-slice.ts";
import { registerWasmConvGrads } from "./wasm-conv-grads.ts";
import { registerGroupNormKernels } from "./group-norm-kernel.ts";
import { compileGroupNormSimd } from "./group-norm-simd.ts";
import { registerSiluKernels } from "./silu-kernel.ts";
import { registerWebgpuConvGrads } from "./webgpu-conv-grads.ts";
import {
  type AdapterFacts,
  adapterFacts,
  describeAdapter,
  installWebgpuDeviceWrapper,
  lastWebgpuDevice,
} from "./webgpu-device.ts";

export type BackendName = "tensorflow" | "webgpu" | "wasm" | "cpu";
/**
 * The backends `--backend` accepts besides "auto", in auto-selection's order of preference.
 * @example
 * BACKENDS.includes("wasm"); // true
 */
export const BACKENDS: BackendName[] = ["tensorflow", "webgpu", "wasm", "cpu"];

export interface BackendInfo {
  backend: BackendName;
  device: string;
  /** Why this backend was chosen, and what was tried first. */
  notes: string[];
  /** webgpu: the adapter the device was created on. */
  adapter?: AdapterFacts;
  /**
   * CPU backends: the threads the backend computes on: wasm's native matrix products and
   * convolutions on OpenBLAS's threads (backend/threads.ts useThreads), 1 otherwise.
   */
  threads?: number;
  /** Why that many threads (set by useThreads). */
  threadsWhy?: string;
}

/** selectBackend's options. */
export interface SelectOptions {
  /** Conv training relies on fmbench's wasm kernels (noted). */
  needsConvGrad?: boolean;
  /**
   * The native kernels' start-up check: "skip" where this process already checked the same
   * library and passed (a --jobs worker: its parent did), "off" to use the portable kernels (the
   * parent did not use native ones). Default: check on 1 thread and on every core.
   */
  nativeCheck?: "skip" | "off";
  /** Tests only: break the native products (backend/native-check.ts faultyBlas) before the check. */
  nativeFault?: { relative: number; onlyThreaded?: boolean };
}

/** The compiled SIMD GroupNorm module (undefined: JS loops where it cannot be compiled), and a note. */
async function groupNormModule(): Promise<{ module?: WebAssembly.Module; note: string }> {
  try {
    return { module: await compileGroupNormSimd(), note: "GroupNorm passes as WebAssembly SIMD" };
  } catch (e) {
    const why = (e as Error).message.split("\n")[0];
    return { note: `GroupNorm passes as JS loops: the SIMD module failed to compile (${why})` };
  }
}

/**
 * Default --eval-batch: 2-D points are evaluated all at once (undefined); images in batches of
 * 256 on GPU backends (webgpu, tensorflow) and 32 on CPU backends (wasm's heap holds about 32
 * U-Net `small` images of activations with their gradients).
 * @example
 * defaultEvalBatch("webgpu", "image"); // 256
 */
export function defaultEvalBatch(
  backend: BackendName,
  kind: "vector" | "image",
): number | undefined {
  if (kind === "vector") return undefined;
  return backend === "webgpu" || backend === "tensorflow" ? 256 : 32;
}

/**
 * Thrown when a forced backend cannot be used; the message says how to enable it.
 * @example
 * await selectBackend("tpu");
 * // throws BackendUnavailableError: unknown --backend "tpu"; valid: auto, tensorflow, webgpu, ...
 */
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
 * Probe for a real WebGPU adapter (installing fmbench's device wrapper on navigator.gpu first).
 * Unless `forced`, a Linux machine with no GPU device node is not probed at all (nothing to
 * find, and the loader's output would only be noise).
 * @example
 * const a = await webgpuAdapter(false); // { ok: false, device: "not probed: no GPU device ..." }
 */
export async function webgpuAdapter(
  forced: boolean,
  deps: ProbeDeps = realDeps,
): Promise<{ ok: boolean; device: string; facts?: AdapterFacts }> {
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
    installWebgpuDeviceWrapper(gpu);
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) return { ok: false, device: "no adapter" };
    const facts = adapterFacts(adapter);
    return { ok: !facts.isFallback, device: describeAdapter(facts), facts };
  } catch (e) {
    return { ok: false, device: `requestAdapter failed: ${firstLine(e, 160)}` };
  }
}

/** Activate a backend; returns notes on what fmbench changed in it (wasm's native BLAS). */
async function activate(name: BackendName, opts: SelectOptions = {}): Promise<string[]> {
  if (name === "wasm") await import("@tensorflow/tfjs-backend-wasm");
  if (name === "webgpu") {
    // Before tfjs's factory asks for its device (see webgpu-device.ts).
    installWebgpuDeviceWrapper();
    await import("@tensorflow/tfjs-backend-webgpu");
  }
  const ok = await tf.setBackend(name);
  if (!ok) {
    const why = name === "webgpu" ? webgpuFailure() : "";
    throw new BackendUnavailableError(`backend "${name}" failed to initialise${why}`);
  }
  await tf.ready();
  if (name === "webgpu") convGrads = registerWebgpuConvGrads();
  let fused = "";
  if (name === "cpu" || name === "wasm") {
    // One JS-loop kernel each way instead of ~15 tfjs ops forward (more backward).
    const simd = name === "wasm" ? await groupNormModule() : undefined;
    registerGroupNormKernels(name, { simd: simd?.module });
    registerSiluKernels(name);
    fused = `${name}: GroupNorm and SiLU by fused kernels (backend/group-norm-kernel.ts` +
      (simd ? `; ${simd.note})` : ")");
  }
  if (name === "cpu") return [fused];
  if (name !== "wasm") return [];
  applyWasmMatMulFix();
  registerWasmConvGrads();
  registerWasmSlice();
  const loaded = opts.nativeCheck === "off"
    ? { why: "the parent process does not use native kernels" }
    : loadBlas();
  if (!loaded.blas) {
    setActiveBlas({ why: `no native BLAS (${loaded.why})` });
    return [`wasm: matrix products by XNNPACK (no native BLAS: ${loaded.why})`, fused];
  }
  // Products on several threads go through fmbench's helper threads (backend/shared-blas.ts).
  const shared = sharedBlas(loaded.blas);
  const blas: Blas = opts.nativeFault ? faultyBlas(shared, opts.nativeFault) : shared;
  setJobBlas(loaded.blas);
  const notes: string[] = [];
  let checked = [1];
  if (opts.nativeCheck !== "skip") {
    // Threaded and not: the whole machine's count covers OpenBLAS's threaded drivers.
    const r = checkNativeKernels(blas, { threads: [1, machineCores()] });
    if (!r.ok) {
      const why = `${blas.path} ${describeCheck(r)}`;
      setActiveBlas({ why: `the native kernels failed their start-up check` });
      return [
        `wasm: matrix products and convolutions by the portable XNNPACK kernels: ${why}`,
        fused,
      ];
    }
    checked = r.threads;
    notes.push(`wasm: ${describeCheck(r)}`);
  } else notes.push("wasm: native kernels checked by the parent process");
  registerBlasMatMul(blas);
  registerBlasReduce(blas);
  registerBlasIm2col(blas);
  registerBlasConvGrads(blas);
  setActiveBlas({ blas, checked });
  return [
    `wasm: matrix products, sums and convolutions (and their stride-1 gradients) by native BLAS ${blas.path} through FFI` +
    (blas.core ? `, OpenBLAS kernels ${blas.core}` : "") +
    (blas.coreChosen ? ` (${blas.coreChosen})` : ""),
    ...notes,
    fused,
  ];
}

let convGrads: "fmbench" | "tfjs" = "fmbench";

function webgpuFailure(): string {
  const req = lastWebgpuDevice().request;
  if (!req) return " (no adapter reached requestDevice)";
  return ` (requestDevice got features [${req.requiredFeatures.join(", ")}], limits ${
    JSON.stringify(req.requiredLimits)
  }${req.notes.length ? `; ${req.notes.join("; ")}` : ""})`;
}

/**
 * Threads the active CPU backend computes on: the native kernels' count where they are active
 * (1 until useThreads sets more), else wasm's own (1 in Deno); 1 for cpu.
 */
async function cpuThreads(name: BackendName): Promise<number | undefined> {
  if (name === "cpu") return 1;
  if (name !== "wasm") return undefined;
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  return Math.max(wasm.getThreadsCount(), activeThreads() ?? 1);
}

async function cpuInfo(name: BackendName): Promise<Pick<BackendInfo, "device" | "threads">> {
  const threads = await cpuThreads(name);
  let cores = "";
  try {
    cores = `, ${navigator.hardwareConcurrency} cores`;
  } catch { /* no permission to read it */ }
  const t = threads === undefined ? "" : ` (${threads} thread${threads === 1 ? "" : "s"}${cores})`;
  return { device: `${Deno.build.arch}${t}`, threads };
}

/** Notes on the device tfjs-backend-webgpu created: what it asked for, what was changed. */
function webgpuNotes(): string[] {
  const req = lastWebgpuDevice().request;
  if (!req) return [];
  return [
    `webgpu device: features [${req.requiredFeatures.join(", ")}], limits ${
      JSON.stringify(req.requiredLimits)
    }`,
    ...req.notes.map((n) => `webgpu device: ${n}`),
    convGrads === "fmbench"
      ? "webgpu: convolution gradients by fmbench's kernels (backend/webgpu-conv-grads.ts)"
      : "webgpu: convolution gradients by tfjs's kernels (FMBENCH_WEBGPU_CONV_GRADS=tfjs)",
  ];
}

/**
 * Choose and activate a backend. `forced` picks one (or throws a clear error); otherwise
 * auto-select. `needsConvGrad` notes that conv training relies on fmbench's wasm kernels.
 * @example
 * const info = await selectBackend("cpu");
 * info.backend; // "cpu"; info.device e.g. "x86_64 (1 thread, 2 cores)"
 */
export async function selectBackend(
  forced?: string,
  opts: SelectOptions = {},
): Promise<BackendInfo> {
  const notes: string[] = [];
  if (forced && forced !== "auto") {
    if (!BACKENDS.includes(forced as BackendName)) {
      throw new BackendUnavailableError(
        `unknown --backend "${forced}"; valid: auto, ${BACKENDS.join(", ")}`,
      );
    }
    const name = forced as BackendName;
    if (name === "tensorflow") {
      const why = await tryTensorflow();
      if (why) throw new BackendUnavailableError(why);
      await activate(name);
      notes.push(`forced by --backend ${name}`);
      return { backend: name, device: "tfjs-node-gpu (CUDA)", notes };
    }
    if (name === "webgpu") {
      const a = await webgpuAdapter(true);
      if (!a.facts) {
        throw new BackendUnavailableError(`webgpu: ${a.device} (run with a GPU and Vulkan)`);
      }
      await activate(name);
      notes.push(`forced by --backend ${name}`, ...webgpuNotes());
      const facts = lastWebgpuDevice().facts ?? a.facts;
      return { backend: name, device: describeAdapter(facts), notes, adapter: facts };
    }
    notes.push(`forced by --backend ${name}`, ...await activate(name, opts));
    return { backend: name, ...(await cpuInfo(name)), notes };
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
    notes.push(`webgpu: real adapter ${a.device}`, ...webgpuNotes());
    const facts = lastWebgpuDevice().facts ?? a.facts!;
    return { backend: "webgpu", device: describeAdapter(facts), notes, adapter: facts };
  }
  notes.push(`webgpu: skipped (${a.device})`);
  try {
    notes.push(...await activate("wasm", opts));
    if (opts.needsConvGrad) {
      notes.push(
        "wasm: convolution gradients by fmbench's kernels (backend/wasm-conv-grads.ts)",
      );
    }
    return { backend: "wasm", ...(await cpuInfo("wasm")), notes };
  } catch (e) {
    notes.push(`wasm: unavailable (${firstLine(e, 160)}); using cpu`);
    notes.push(...await activate("cpu"));
    return { backend: "cpu", ...(await cpuInfo("cpu")), notes };
  }
}
