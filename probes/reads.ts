// Count reads of computed tensors back to the host (device -> CPU on GPU backends), sync or not.
import { tf } from "../core/tf.ts";

/** One read of a tensor the backend computed (not one created from host values). */
export interface Read {
  /** Elements read. */
  size: number;
  /** dataSync/arraySync (true) or data/array (false). */
  sync: boolean;
}

/** Stops counting and restores the backend's methods. */
export interface ReadCounter {
  reads: Read[];
  stop(): void;
}

/**
 * Wrap the tfjs engine's read/readSync (what tensor.data()/dataSync() call) and makeTensor:
 * every read of a tensor that was not made from host values (tf.tensor(...)) is recorded with
 * its size. On webgpu each is a GPU -> CPU copy; on CPU backends the same count says what a GPU
 * backend would have to copy.
 * @example
 * const c = countReads();
 * await train(input);
 * c.stop();
 * console.log(c.reads.length);
 */
export function countReads(): ReadCounter {
  // deno-lint-ignore no-explicit-any
  const engine = tf.engine() as any;
  const fromHost = new WeakSet<object>();
  const reads: Read[] = [];
  const size = (dataId: object) => {
    const info = engine.state.tensorInfo.get(dataId);
    return info ? info.shape.reduce((a: number, b: number) => a * b, 1) : NaN;
  };
  // Tensors made from host values (tf.tensor(...)) come from engine.makeTensor; kernel outputs
  // do not (on the cpu backend they too go through backend.write, so that cannot tell them apart).
  const makeTensor = engine.makeTensor;
  engine.makeTensor = function (...args: unknown[]) {
    const t = makeTensor.apply(this, args);
    fromHost.add(t.dataId);
    return t;
  };
  // The engine's read/readSync are what tensor.data()/dataSync() call; kernels that read their
  // inputs call the backend directly (the cpu backend's do), and are not reads off a device.
  const { read, readSync } = engine;
  engine.read = function (dataId: object) {
    if (!fromHost.has(dataId)) reads.push({ size: size(dataId), sync: false });
    return read.call(this, dataId);
  };
  engine.readSync = function (dataId: object) {
    if (!fromHost.has(dataId)) reads.push({ size: size(dataId), sync: true });
    return readSync.call(this, dataId);
  };
  return {
    reads,
    stop() {
      delete engine.makeTensor;
      delete engine.read;
      delete engine.readSync;
      // Methods that were the instance's own (not the prototype's) are put back.
      if (engine.makeTensor !== makeTensor) engine.makeTensor = makeTensor;
      if (engine.read !== read) engine.read = read;
      if (engine.readSync !== readSync) engine.readSync = readSync;
    },
  };
}
