// `deno task bench:micro`: mitata timings of the hot paths on every available backend: an MLP
// training step (batch 256), a velocity evaluation (batch 2,000), one step of each solver; on
// webgpu tfjs's convolution-gradient kernels against fmbench's; with --unet the U-Net small
// training step at batch 128 and one velocity evaluation; with --fid the FID Inception forward
// (images/s) per backend and the Frechet distance at d = 2048 (new route, previous route, SciPy);
// with --four the four paths compared with PyTorch (bench/four.ts; --json prints JSON lines).
import { bench, do_not_optimize, group, run } from "mitata";
import { tf } from "../core/tf.ts";
import { type BackendInfo, type BackendName, selectBackend } from "../backend/select.ts";
import { discoverPlugins } from "../harness/registry.ts";
import type { Model, VelocityField } from "../core/types.ts";

const reg = await discoverPlugins();
const mlp = reg.models.get("mlp")!;
const path = reg.paths.get("cond-ot")!;
const cfm = reg.losses.get("cfm")!;
const wanted = (Deno.env.get("FMBENCH_MICRO_BACKENDS") ?? "wasm,cpu,webgpu").split(",");
const extra = Deno.args.includes("--unet");
const fid = Deno.args.includes("--fid");
const four = Deno.args.includes("--four");
const json = Deno.args.includes("--json");
const arg = (name: string) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
};

async function available(name: string): Promise<BackendInfo | null> {
  try {
    return await selectBackend(name);
  } catch (e) {
    console.error(`skip ${name}: ${(e as Error).message}`);
    return null;
  }
}

function trainStep(model: Model, batch: number) {
  const opt = tf.train.adam(1e-3);
  const x1 = tf.randomNormal([batch, 2]), x0 = tf.randomNormal([batch, 2]);
  const t = tf.randomUniform([batch]) as tf.Tensor1D;
  return async () => {
    const v = opt.minimize(() => cfm.loss(model, path, { x0, x1, t }), true)!;
    do_not_optimize(await v.data());
    v.dispose();
  };
}

for (const name of wanted) {
  const info = await available(name);
  if (!info) continue;
  const be = tf.getBackend() as BackendName;
  if (four) {
    const { timeFour } = await import("./four.ts");
    const threads = arg("--threads");
    if (threads) {
      const { useThreads } = await import("../backend/threads.ts");
      useThreads(info, { threads: Number(threads), why: `--threads ${threads}` });
      if (json) {
        console.log(JSON.stringify({ meta: true, threads: info.threads, notes: info.notes }));
      }
    }
    const rows = await timeFour({
      reps: Number(arg("--reps") ?? 15),
      unetReps: Number(arg("--unet-reps") ?? 5),
      heavyReps: Number(arg("--heavy-reps") ?? 3),
      frechetInput: arg("--frechet-input"),
      only: arg("--only")?.split(","),
    });
    for (const r of rows) {
      if (json) console.log(JSON.stringify(r));
      else {
        const extras = r.nfe !== undefined ? ` (${r.nfe} NFE)` : "";
        console.log(`${be} ${r.name}: ${r.ms.toFixed(2)} ms median of ${r.reps}${extras}`);
      }
    }
    continue;
  }
  const model = mlp.create({ shape: [2], preset: "default", seed: 0 });
  const vf: VelocityField = cfm.velocity(model, path);
  const x = tf.randomNormal([2000, 2]);
  group(`${be}: MLP 3x256`, () => {
    bench(`${be} train step, batch 256`, trainStep(model, 256));
    bench(`${be} velocity eval, batch 2000`, async () => {
      const v = vf(x, 0.5);
      do_not_optimize(await v.data());
      v.dispose();
    });
  });
  group(`${be}: one solver step on the MLP field, batch 2000`, () => {
    for (const s of reg.solvers.values()) {
      const opts = s.adaptive
        ? { t0: 0, t1: 1e-3, rtol: 1e-2, atol: 1e-2 }
        : { t0: 0, t1: 0.1, steps: 1 };
      bench(`${be} ${s.name}${s.adaptive ? " (one accepted step)" : ""}`, async () => {
        const { x: y } = await s.integrate(vf, x, opts);
        do_not_optimize(await y.data());
        y.dispose();
      });
    }
  });
  await run({ format: "mitata" });
  if (be === "webgpu") {
    // Batch 128 on a GPU; 8 on a software adapter, where batch 128 takes minutes.
    const batch = Number(
      Deno.env.get("FMBENCH_MICRO_CONV_BATCH") ?? (info.adapter?.isFallback ? 8 : 128),
    );
    const { convGradsMicro, convGradsTable } = await import("../probes/conv-grads-micro.ts");
    console.log(`\nwebgpu convolution gradients on ${info.device}:`);
    console.log(convGradsTable(await convGradsMicro({ batch }), batch));
  }
  if (extra) {
    // The U-Net step takes tens of seconds on CPU backends: plain timings, not mitata's loop.
    const { unetMicro } = await import("../probes/unet-micro.ts");
    const r = await unetMicro(be, { preset: "small", batch: 128, reps: 1 });
    console.log(
      `${be}: U-Net small (${r.params} params) train step at batch ${r.batch} ` +
        `(micro-batch ${r.microBatch}): ${(r.train.msPerStep / 1000).toFixed(1)} s, ` +
        `${r.train.imagesPerSec.toFixed(2)} images/s; velocity eval: ` +
        `${(r.forward.msPerEval / 1000).toFixed(1)} s, ${
          r.forward.imagesPerSec.toFixed(1)
        } images/s`,
    );
  }
  if (fid) {
    const { inceptionMicro } = await import("./inception_micro.ts");
    const r = await inceptionMicro();
    console.log(
      `${be}: FID Inception forward (32x32 -> 299x299, seeded weights), batch ${r.batch}: ` +
        `${r.seconds.toFixed(1)} s, ${r.imagesPerSec.toFixed(2)} images/s`,
    );
  }
  tf.dispose(x);
  model.dispose();
}
if (fid) {
  // Plain timings (one run each): the previous route takes minutes at d = 2048.
  const { frechetBench } = await import("./frechet.ts");
  console.log("Frechet distance at d = 2048 (seconds; one run each, same inputs):");
  await frechetBench(2048, { old: true, scipy: true, cases: [0, 2], log: console.log });
  console.log("the other cases (new route and SciPy):");
  await frechetBench(2048, { scipy: true, cases: [2, 5], log: console.log });
}
