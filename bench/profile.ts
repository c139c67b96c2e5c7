// `deno task bench:profile`: where the time of each of the four hot paths goes on wasm: CPU (or
// wall) time inside kernels by kernel name, and the rest (JS dispatch, gradient tape, tidy, readbacks).
import { parseArgs } from "node:util";
import { tf } from "../core/tf.ts";
import { selectBackend } from "../backend/select.ts";
import { fourCases } from "./four.ts";
import { cpuNow, installKernelTimer } from "./kernel-timer.ts";
import { machineCores, useThreads } from "../backend/threads.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    only: { type: "string", default: "mlp_train,velocity,dopri5,unet_train" },
    reps: { type: "string", default: "10" },
    top: { type: "string", default: "12" },
    backend: { type: "string", default: "wasm" },
    clock: { type: "string", default: "cpu" },
    threads: { type: "string", default: "1" },
  },
});
if (v.clock !== "cpu" && v.clock !== "wall") throw new Error(`--clock must be cpu or wall`);
const clock = v.clock === "cpu" ? cpuNow : () => performance.now();
const info = await selectBackend(v.backend);
if (v.threads !== "1") {
  // Native matrix products and convolutions on N OpenBLAS threads ("all": every core).
  const threads = v.threads === "all" ? machineCores() : Number(v.threads);
  if (!Number.isInteger(threads) || threads < 1) {
    console.error(`--threads must be an integer >= 1 or "all", got "${v.threads}"`);
    Deno.exit(2);
  }
  useThreads(info, { threads, why: `--threads ${v.threads}` });
  console.log(info.notes.join("\n"));
}
const timer = installKernelTimer(tf.getBackend(), clock);
for (const c of await fourCases({ only: v.only!.split(",") })) {
  const reps = c.name === "unet_train"
    ? Math.min(2, Number(v.reps))
    : c.name === "dopri5"
    ? Math.min(3, Number(v.reps))
    : Number(v.reps);
  await c.run(); // warm-up
  const before = tf.memory().numTensors;
  // The fastest repetition stands for the path: the machine is shared, and slow repetitions
  // measure the other processes more than this one.
  let best = { wall: Infinity, kernels: 0, ms: new Map<string, number>(), calls: new Map() };
  for (let i = 0; i < reps; i++) {
    timer.reset();
    const t0 = clock();
    await c.run();
    const wall = clock() - t0;
    if (wall < best.wall) {
      best = {
        wall,
        kernels: timer.total(),
        ms: new Map(timer.times.ms),
        calls: new Map(timer.times.calls),
      };
    }
  }
  const { wall, kernels } = best;
  const calls = [...best.calls.values()].reduce((a, b) => a + b, 0);
  console.log(
    `\n${c.name} (${JSON.stringify(c.extra())}): ${wall.toFixed(2)} ms ${v.clock} time ` +
      `(fastest of ${reps}); ` +
      `kernels ${kernels.toFixed(2)} ms (${(100 * kernels / wall).toFixed(0)}%) in ${calls} ` +
      `calls; outside kernels ${(wall - kernels).toFixed(2)} ms ` +
      `(${((1000 * (wall - kernels)) / Math.max(calls, 1)).toFixed(1)} us per call); ` +
      `tensors leaked ${tf.memory().numTensors - before}`,
  );
  const rows = [...best.ms.entries()].sort((a, b) => b[1] - a[1]);
  for (const [name, ms] of rows.slice(0, Number(v.top))) {
    console.log(
      `  ${name.padEnd(24)} ${ms.toFixed(3).padStart(10)} ms ` +
        `${(100 * ms / wall).toFixed(1).padStart(5)}%  ${
          String(best.calls.get(name)).padStart(6)
        } calls`,
    );
  }
  c.dispose();
}
timer.uninstall();
