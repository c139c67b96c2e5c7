// Compose a backend's registered kernels on backend-level tensor infos inside one kernel, and
// free every intermediate at the end (for kernels built from other kernels).
import { tf } from "../core/tf.ts";

type Info = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;
// deno-lint-ignore no-explicit-any
type AnyBackend = any;

/** Explicit NHWC padding: [[0, 0], [top, bottom], [left, right], [0, 0]]. */
export type Pads = [[number, number], [number, number], [number, number], [number, number]];

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/**
 * The geometry of an NHWC Conv2D (or its gradients) from its kernel attributes.
 * @example
 * const info = convInfo([1, 8, 8, 3], [3, 3, 3, 16], { strides: 1, pad: "same" });
 * info.outHeight; // 8
 */
export function convInfo(xShape: number[], filterShape: number[], attrs: Attrs): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as "same" | "valid" | number,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
    false,
    "channelsLast",
  );
}

/**
 * Runs `backendName`'s kernels by name and remembers their outputs, so `dispose()` frees every
 * intermediate; `release(x)` keeps the result.
 * @example
 * const s = new KernelScope("webgpu", backend);
 * try {
 *   const y = s.run("Transpose", { x }, { perm: [1, 0] });
 *   return s.release(y);
 * } finally {
 *   s.dispose();
 * }
 */
export class KernelScope {
  private temps: Info[] = [];
  constructor(readonly backendName: string, readonly backend: AnyBackend) {}

  run(name: string, inputs: Record<string, Info>, attrs: Attrs = {}): Info {
    const k = tf.getKernel(name, this.backendName);
    if (!k) {
      throw new Error(
        `kernel "${name}" is not registered for ${this.backendName}; ` +
          `import its tfjs backend package and set the backend first`,
      );
    }
    const out = k.kernelFunc({ inputs, backend: this.backend, attrs }) as Info;
    this.temps.push(out);
    return out;
  }

  /** Add an info made outside run() so that dispose() frees it too. */
  track(x: Info): Info {
    this.temps.push(x);
    return x;
  }

  reshape(x: Info, shape: number[]): Info {
    return this.run("Reshape", { x }, { shape });
  }

  transpose(x: Info, perm: number[]): Info {
    return this.run("Transpose", { x }, { perm });
  }

  slice(x: Info, begin: number[], size: number[]): Info {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return x;
    return this.run("Slice", { x }, { begin, size });
  }

  /** Crop to [0, size) on every axis; returns x itself when nothing would be cut. */
  crop(x: Info, size: number[]): Info {
    return this.slice(x, size.map(() => 0), size);
  }

  /** Zero padding; returns x itself when every pad is 0. */
  pad(x: Info, paddings: Array<[number, number]>): Info {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run("PadV2", { x }, { paddings, constantValue: 0 });
  }

  /** Stride-1 NHWC convolution with explicit padding through the backend's Conv2D kernel. */
  conv(x: Info, filter: Info, pad: Pads, dilations: [number, number] = [1, 1]): Info {
    const attrs = { strides: [1, 1], pad, dataFormat: "NHWC", dilations };
    return this.run("Conv2D", { x, filter }, attrs as unknown as Attrs);
  }

  /** Take `keep` out of the scope so it survives dispose(); it becomes the caller's. */
  release(keep: Info): Info {
    this.temps = this.temps.filter((t) => t !== keep);
    return keep;
  }

  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps = [];
  }
}
