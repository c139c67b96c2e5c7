// Convolution-gradient kernels on webgpu, tfjs-backend-webgpu's own against fmbench's, side by
// side on the U-Net `small` convolutions: ms and GFLOP/s, each timed step waiting for the GPU.
import { tf } from "../core/tf.ts";
import { rng } from "../core/rng.ts";
import { ownsInputGrad, tfjsWebgpuConvGrads } from "../backend/webgpu-conv-grads.ts";
import { finish } from "./gpu-sync.ts";

/** One measured kernel on one shape. */
export interface ConvGradTiming {
  shape: string;
  kernel: "dW" | "dx";
  gflop: number;
  tfjsMs: number;
  oursMs: number;
  /** Largest |tfjs - ours| over the largest |tfjs|. */
  maxRelDiff: number;
  /** fmbench hands this one to tfjs's kernel: both columns time the same kernel (noise). */
  delegated: boolean;
}

/**
 * Convolutions of the U-Net `small` preset on CIFAR-10: [H, Ci, Co, stride] (3x3, "same").
 * @example
 * const rows = await convGradsMicro({ batch: 32, shapes: SMALL_UNET_CONVS.slice(0, 2) });
 */
export const SMALL_UNET_CONVS: Array<[number, number, number, number]> = [
  [32, 3, 32, 1], // conv_in
  [32, 32, 32, 1], // level 0 residual convs
  [32, 32, 32, 2], // level 0 downsample
  [16, 64, 64, 1], // level 1
  [8, 64, 64, 1], // level 2
  [32, 96, 32, 1], // up path, level 0 (after the skip concat)
  [32, 32, 3, 1], // conv_out
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Time tfjs's and fmbench's Conv2DBackpropFilter (dW) and Conv2DBackpropInput (dx) on webgpu
 * (the active backend; registerWebgpuConvGrads must have run) at batch `batch`: median of
 * `reps` after one warm-up, each step ending with the GPU idle.
 * @example
 * await selectBackend("webgpu");
 * const rows = await convGradsMicro({ batch: 32 });
 */
export async function convGradsMicro(
  opts: { batch?: number; reps?: number; shapes?: typeof SMALL_UNET_CONVS } = {},
): Promise<ConvGradTiming[]> {
  const originals = tfjsWebgpuConvGrads();
  if (tf.getBackend() !== "webgpu" || !originals) {
    throw new Error('convGradsMicro: run selectBackend("webgpu") first');
  }
  const batch = opts.batch ?? 32, reps = opts.reps ?? 3;
  const backend = tf.backend();
  const rows: ConvGradTiming[] = [];
  for (const [h, ci, co, stride] of opts.shapes ?? SMALL_UNET_CONVS) {
    const xs = [batch, h, h, ci], ws = [3, 3, ci, co];
    const ho = Math.ceil(h / stride);
    const u = rng(h * 1000 + ci * 10 + co);
    const rand = (shape: number[]) =>
      tf.tensor(
        Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => u() - 0.5),
        shape,
      );
    const x = rand(xs), w = rand(ws), dy = rand([batch, ho, ho, co]);
    const attrs = { strides: [stride, stride], pad: "same", dataFormat: "NHWC" };
    const gflop = (2 * batch * ho * ho * 9 * ci * co) / 1e9;
    const shape = `${h}x${h}x${ci}->${co}${stride > 1 ? " s2" : ""}`;
    const calls = {
      dW: {
        tfjs: () =>
          originals.filter({ inputs: { x, dy }, backend, attrs: { ...attrs, filterShape: ws } }),
        ours: () =>
          tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, { ...attrs, filterShape: ws }),
      },
      dx: {
        tfjs: () =>
          originals.input({
            inputs: { dy, filter: w },
            backend,
            attrs: { ...attrs, inputShape: xs },
          }),
        ours: () =>
          tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: w }, {
            ...attrs,
            inputShape: xs,
          }),
      },
    };
    for (const kernel of ["dW", "dx"] as const) {
      const results: Record<string, { ms: number; values: Float32Array }> = {};
      for (const impl of ["tfjs", "ours"] as const) {
        const run = async () => {
          const out = calls[kernel][impl]() as tf.TensorInfo;
          await finish();
          return out;
        };
        const first = await run(); // warm-up: shader compilation
        const values = (await backend.read(first.dataId)) as Float32Array;
        backend.disposeData(first.dataId);
        const ms: number[] = [];
        for (let r = 0; r < reps; r++) {
          await finish();
          const t0 = performance.now();
          const out = await run();
          ms.push(performance.now() - t0);
          backend.disposeData(out.dataId);
        }
        results[impl] = { ms: median(ms), values };
      }
      let diff = 0, scale = 0;
      const a = results.tfjs.values, b = results.ours.values;
      for (let i = 0; i < a.length; i++) {
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
        scale = Math.max(scale, Math.abs(a[i]));
      }
      rows.push({
        shape,
        kernel,
        gflop,
        tfjsMs: results.tfjs.ms,
        oursMs: results.ours.ms,
        maxRelDiff: scale > 0 ? diff / scale : diff,
        delegated: kernel === "dx" && !ownsInputGrad(ci, co, stride),
      });
    }
    tf.dispose([x, w, dy]);
  }
  return rows;
}

/**
 * The rows as a Markdown table (ms, GFLOP/s, speed-up, agreement); "(same kernel)" marks input
 * gradients fmbench leaves to tfjs, whose speed-up shows the timing noise.
 * @example
 * console.log(convGradsTable(await convGradsMicro({ batch: 32 }), 32));
 * // | conv (batch 32) | grad | tfjs ms | tfjs GFLOP/s | fmbench ms | ... then one row per kernel
 */
export function convGradsTable(rows: ConvGradTiming[], batch: number): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  const lines = [
    `| conv (batch ${batch}) | grad | tfjs ms | tfjs GFLOP/s | fmbench ms | fmbench GFLOP/s | speed-up | max rel diff |`,
    "|---|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.shape} | ${r.kernel} | ${f(r.tfjsMs)} | ${f(r.gflop / (r.tfjsMs / 1000), 2)} | ` +
        `${f(r.oursMs)} | ${f(r.gflop / (r.oursMs / 1000), 2)} | ${f(r.tfjsMs / r.oursMs, 2)}x` +
        `${r.delegated ? " (same kernel)" : ""} | ${r.maxRelDiff.toExponential(1)} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  // deno run -A probes/conv-grads-micro.ts [batch] [reps]
  const { selectBackend } = await import("../backend/select.ts");
  const info = await selectBackend("webgpu");
  const batch = Number(Deno.args[0] ?? 32), reps = Number(Deno.args[1] ?? 3);
  console.log(`webgpu on ${info.device}`);
  console.log(convGradsTable(await convGradsMicro({ batch, reps }), batch));
}
