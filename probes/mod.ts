// Timed probes of a device, shipped in the GPU-proof bundle: a U-Net step, conv gradients, exports.
/**
 * The probes room: small measurements the bundled `fmbench` executable runs on a lent GPU
 * (cli/fmbench.ts) and `deno task bench:micro` runs here: the U-Net `small` training step and
 * velocity evaluation, webgpu convolution gradients against tfjs's, random U-Net weights exported
 * for the PyTorch parity check, and a counter of device reads.
 * @example
 * import { unetMicro } from "./probes/mod.ts";
 * const r = await unetMicro("wasm", { preset: "tiny", batch: 4, reps: 1 });
 * @module
 */
export { convGradsMicro, convGradsTable, type ConvGradTiming } from "./conv-grads-micro.ts";
export { exportUnet } from "./unet-export.ts";
export { unetMicro, type UnetMicroOptions, type UnetMicroResult } from "./unet-micro.ts";
export { countReads, type ReadCounter } from "./reads.ts";
export { finish } from "./gpu-sync.ts";
