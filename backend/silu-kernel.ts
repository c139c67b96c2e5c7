// Fused SiLU forward and gradient kernels (core/ops/silu.ts) as JS loops, for wasm and cpu.
import { tf } from "../core/tf.ts";
import { SILU_GRAD_KERNEL, SILU_KERNEL } from "../core/ops/silu.ts";
import { type HostBackendName, hostKernelFunc } from "./host-kernel.ts";

/**
 * y = x * s elementwise, with s = sigmoid(x) given: SiLU's forward (`y` may be `x`).
 * @example
 * const y = new Float32Array(2);
 * siluFromSigmoid(Float32Array.of(0, 2), Float32Array.of(0.5, 0.8808), y); // y = [0, 1.7616]
 */
export function siluFromSigmoid(x: Float32Array, s: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) y[i] = x[i] * s[i];
}

/**
 * dx = dy * s * (1 + x * (1 - s)) elementwise, with s = sigmoid(x) given: SiLU's gradient (`dx`
 * may be `x` or `dy`).
 * @example
 * const dx = new Float32Array(1);
 * siluGradFromSigmoid(Float32Array.of(1), Float32Array.of(0), Float32Array.of(0.5), dx); // [0.5]
 */
export function siluGradFromSigmoid(
  dy: Float32Array,
  x: Float32Array,
  s: Float32Array,
  dx: Float32Array,
): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i], si = s[i];
    dx[i] = dy[i] * si * (1 + v * (1 - si));
  }
}

/**
 * Register the fused SiLU kernels (FmbSilu, FmbSiluGrad) on a CPU backend, so core's silu() runs
 * one kernel forward and one backward there (the sigmoid by the backend's own kernel on wasm).
 * Idempotent.
 * @example
 * registerSiluKernels("wasm");
 */
export function registerSiluKernels(backendName: HostBackendName): void {
  if (tf.getKernel(SILU_KERNEL, backendName)) return;
  tf.registerKernel({
    kernelName: SILU_KERNEL,
    backendName,
    kernelFunc: hostKernelFunc(backendName, ["x"], (s) => [s[0]], (io) => {
      const s = io.sigmoidOf("in", 0);
      siluFromSigmoid(io.ins[0], s, io.outs[0]);
    }),
  });
  tf.registerKernel({
    kernelName: SILU_GRAD_KERNEL,
    backendName,
    kernelFunc: hostKernelFunc(backendName, ["dy", "x"], (s) => [s[1]], (io) => {
      const s = io.sigmoidOf("in", 1);
      siluGradFromSigmoid(io.ins[0], io.ins[1], s, io.outs[0]);
    }),
  });
}
