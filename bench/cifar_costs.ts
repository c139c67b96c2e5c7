// What a CPU costs on CIFAR-10, per model preset: training images/s (Adam step on the cfm loss),
// sampling images/s per NFE (one velocity evaluation) and FID feature images/s (the Inception
// forward), on one thread and on every core, wasm with fmbench's native kernels. Prints JSON lines
// and a Markdown table for the README.
//   deno run -A bench/cifar_costs.ts [--presets unet:tiny,unet:small,adm-unet:torchcfm]
//     [--threads 1,all] [--reps 2]
import { parseArgs } from "node:util";
import process from "node:process";
import { tf } from "../core/tf.ts";
import { selectBackend } from "../backend/select.ts";
import { machineCores, useThreads } from "../backend/threads.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { createAdam } from "../harness/fused-adam.ts";
import { optimizerStep } from "../harness/train.ts";
import { inceptionCase } from "./heavy-cases.ts";

/** Training batch per preset: the micro-batch its CIFAR-10 budget uses on a CPU heap. */
const TRAIN_BATCH: Record<string, number> = { tiny: 16, small: 32, torchcfm: 8 };
/** Sampling batch: the wasm evaluation batch (backend/select.ts defaultEvalBatch). */
const SAMPLE_BATCH = 32;

/** Median wall and CPU seconds of `reps` calls after one warm-up. */
async function time(f: () => Promise<void>, reps: number): Promise<{ wall: number; cpu: number }> {
  await f();
  const wall: number[] = [], cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    await f();
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  const mid = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];
  return { wall: mid(wall), cpu: mid(cpu) };
}

if (import.meta.main) {
  const { values: v } = parseArgs({
    options: {
      presets: { type: "string", default: "unet:tiny,unet:small,adm-unet:torchcfm" },
      threads: { type: "string", default: "1,all" },
      reps: { type: "string", default: "2" },
    },
  });
  const info = await selectBackend("wasm");
  const reg = await discoverPlugins();
  const path = reg.paths.get("cond-ot")!, cfm = reg.losses.get("cfm")!;
  const reps = Number(v.reps);
  const cores = machineCores();
  const rows: string[] = [];
  for (const t of v.threads!.split(",")) {
    const threads = t === "all" ? cores : Number(t);
    useThreads(info, { threads, why: `--threads ${t}` });
    const load = () => Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
    const emit = (what: string, batch: number, r: { wall: number; cpu: number }) => {
      const rec = {
        what,
        threads,
        cores,
        batch,
        wallS: +r.wall.toFixed(3),
        cpuS: +r.cpu.toFixed(3),
        imagesPerS: +(batch / r.wall).toFixed(2),
        load: load(),
      };
      console.log(JSON.stringify(rec));
      rows.push(
        `| ${what} | ${threads} | ${batch} | ${rec.imagesPerS} | ${r.wall.toFixed(2)} | ` +
          `${r.cpu.toFixed(2)} | ${rec.load} |`,
      );
    };
    for (const spec of v.presets!.split(",")) {
      const [name, preset] = spec.split(":");
      const model = reg.models.get(name)!.create({ shape: [32, 32, 3], preset, seed: 0 });
      const vars = model.variables();
      const opt = createAdam(2e-4);
      const b = TRAIN_BATCH[preset] ?? 16;
      const x1 = tf.randomUniform([b, 32, 32, 3], -1, 1, "float32", 1);
      const x0 = tf.randomNormal([b, 32, 32, 3], 0, 1, "float32", 2);
      const tt = tf.randomUniform([b], 0, 1, "float32", 3) as tf.Tensor1D;
      const ts = Float32Array.from(tt.dataSync());
      const config = { lr: 2e-4, clip: 1, microBatch: b } as Parameters<
        typeof optimizerStep
      >[0]["config"];
      emit(
        `train ${spec}`,
        b,
        await time(async () => {
          const l = optimizerStep({
            model,
            path,
            loss: cfm,
            vars,
            optimizer: opt,
            batch: { x0, x1, t: tt, ts },
            config,
          });
          await l.data();
          l.dispose();
        }, reps),
      );
      tf.dispose([x0, x1, tt]);
      opt.dispose();
      const vf = cfm.velocity(model, path);
      const x = tf.randomNormal([SAMPLE_BATCH, 32, 32, 3], 0, 1, "float32", 4);
      emit(
        `sample ${spec} (per NFE)`,
        SAMPLE_BATCH,
        await time(async () => {
          const y = vf(x, 0.5);
          await y.data();
          y.dispose();
        }, reps),
      );
      x.dispose();
      model.dispose();
    }
    const inc = inceptionCase(16);
    emit("FID features (Inception)", 16, await time(() => inc.run(), reps));
    inc.dispose();
  }
  console.log(
    `\n| what | threads | batch | images/s | wall s | CPU s | load average |\n|---|---|---|---|---|---|---|`,
  );
  for (const r of rows) console.log(r);
  console.log(
    `\n${cores} cores; ${info.notes.filter((n) => /OpenBLAS|threads/.test(n)).join("; ")}`,
  );
}
