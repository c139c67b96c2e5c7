// tfjs backends: choosing one (tensorflow, webgpu, wasm, cpu) and the kernels fmbench adds to them.
/**
 * The backend room: `selectBackend` picks and prepares a tfjs backend (registering fmbench's
 * kernels: native-BLAS matrix products and convolutions, fused GroupNorm/SiLU, convolution
 * gradients for wasm and webgpu), and says what it chose and why.
 * @example
 * import { selectBackend } from "./backend/mod.ts";
 * const info = await selectBackend("auto", { needsConvGrad: false });
 * console.log(info.backend, info.device, info.notes);
 * @module
 */
export {
  type BackendInfo,
  type BackendName,
  BACKENDS,
  BackendUnavailableError,
  defaultEvalBatch,
  selectBackend,
  webgpuAdapter,
} from "./select.ts";
export { lastWebgpuDevice } from "./webgpu-device.ts";
export { machineCores, machineLoad, useThreads } from "./threads.ts";
export { tf } from "../core/tf.ts";
