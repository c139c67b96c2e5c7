// The ADM U-Net against TorchCFM on a torch-saved checkpoint: loads DIR/checkpoint.pt (TorchCFM's
// {net_model, ema_model, optim, sched, step}; ema_model holds the random weights) written by
// bench/adm_unet_torch.py parity, runs DIR/io.json's x and t, and prints the relative errors.
import { parseArgs } from "node:util";
import { tf } from "../core/tf.ts";
import { selectBackend } from "../backend/select.ts";
import { readTorchCheckpoint } from "../store/torch-checkpoint.ts";
import { createAdmUNet } from "../plugins/models/adm-unet.ts";
import { ADM_PRESETS, type AdmConfig } from "../plugins/models/_adm/config.ts";
import { AdmParams, toTorchLayout } from "../plugins/models/_adm/params.ts";
import { buildAdmNet } from "../plugins/models/_adm/network.ts";

/** bench/adm_unet_torch.py's VARIANTS, as config overrides. */
const VARIANTS: Record<string, Partial<AdmConfig>> = {
  "default": {},
  "scale-shift-updown": { useScaleShiftNorm: true, resblockUpdown: true },
  "new-attention-order": { useNewAttentionOrder: true, numHeadChannels: -1, numHeads: 2 },
};

/**
 * max |a - b| / max |b| over all elements: the error relative to the reference's largest
 * magnitude.
 * @example
 * relativeError([1, 2.001], [1, 2]); // 0.0005
 */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      dir: { type: "string", default: "/tmp/adm-parity" },
      backend: { type: "string", default: "wasm" },
      key: { type: "string", default: "ema_model" },
    },
  });
  const dir = values.dir!;
  const io = JSON.parse(await Deno.readTextFile(`${dir}/io.json`));
  await selectBackend(values.backend);
  const start = performance.now();
  const tensors = readTorchCheckpoint(
    await Deno.readFile(`${dir}/checkpoint.pt`),
    `${dir}/checkpoint.pt`,
    { key: values.key },
  ).float32Tensors();
  const config = { ...ADM_PRESETS[io.preset], ...VARIANTS[io.variant] };
  const model = createAdmUNet({ shape: io.shape, preset: io.preset, seed: 0, config });
  model.loadStateDict(tensors);
  const loadMs = performance.now() - start;
  const b = io.t.length;
  const x = tf.tensor(io.x, [b, ...io.shape]);
  const t = tf.tensor1d(io.t);
  const y = model.apply(x, t);
  const out: Record<string, unknown> = {
    preset: io.preset,
    variant: io.variant,
    backend: values.backend,
    params: model.paramCount(),
    torchParams: io.params,
    batch: b,
    loadSeconds: +(loadMs / 1000).toFixed(2),
    outputRelError: relativeError(y.dataSync(), io.output),
  };
  if (io.grads) {
    const r = tf.tensor(io.r, [b, ...io.shape]);
    const p = new AdmParams({ seed: 0, materialize: false });
    buildAdmNet(p, config, io.shape);
    const vars = model.variables();
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(model.apply(x, t), r)) as tf.Scalar,
      vars,
    );
    const top = Math.max(
      ...Object.values(io.grads as Record<string, number[]>).map((g) =>
        Math.max(...g.map(Math.abs))
      ),
    );
    // Two figures: per tensor, max|a - b| / max|b| over the tensors whose gradient is not
    // negligible (max|b| >= 1e-4 of the largest anywhere; the others, e.g. biases before a
    // GroupNorm that normalises each channel alone, are zero in exact arithmetic), and over all
    // tensors max|a - b| / (the largest gradient anywhere).
    let worst = 0, worstName = "", overall = 0;
    p.entries.forEach((e, i) => {
      const ref = io.grads[e.name] as number[];
      const mine = toTorchLayout(grads[vars[i].name], e.layout);
      const scale = Math.max(...ref.map(Math.abs));
      let m = 0;
      for (let k = 0; k < ref.length; k++) m = Math.max(m, Math.abs(mine[k] - ref[k]));
      overall = Math.max(overall, m / top);
      if (scale >= 1e-4 * top && m / scale > worst) [worst, worstName] = [m / scale, e.name];
    });
    out.gradErrorOverLargest = overall;
    out.gradRelErrorWorst = worst;
    out.gradWorstTensor = worstName;
    tf.dispose([r, ...Object.values(grads)]);
  }
  console.log(JSON.stringify(out));
  tf.dispose([x, t, y]);
  model.dispose();
}
