// Reads to the host and wall time of adaptive solvers on an MLP field (args: names or module paths).
import { tf } from "../core/tf.ts";
import type { Solver, VelocityField } from "../core/types.ts";
import { selectBackend } from "../harness/backend/select.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { countReads } from "../tests/helpers/reads.ts";

/** One measured configuration: state shape per sample and batch size. */
interface Config {
  label: string;
  shape: number[];
  batch: number;
  preset: string;
}

const CONFIGS: Config[] = [
  { label: "toy 2-d, batch 2000, MLP 3x256", shape: [2], batch: 2000, preset: "default" },
  { label: "CIFAR-sized 3072-d, batch 256, MLP 2x32", shape: [3072], batch: 256, preset: "tiny" },
];

const SCALE = Number(Deno.env.get("FMBENCH_FIELD_SCALE") ?? 20);
const backend = Deno.env.get("FMBENCH_BACKEND") ?? "wasm";
const reps = Number(Deno.env.get("FMBENCH_REPS") ?? 9);
const only = Deno.args.length > 0 ? Deno.args : ["dopri5", "dopri5-torchdiffeq"];
await selectBackend(backend);
const reg = await discoverPlugins();
const mlp = reg.models.get("mlp")!;
const path = reg.paths.get("cond-ot")!;
const cfm = reg.losses.get("cfm")!;

for (const c of CONFIGS) {
  const model = mlp.create({ shape: c.shape, preset: c.preset, seed: 0 });
  // The random-init MLP's output is small and nearly linear; scaled up it makes the solvers work.
  const v = cfm.velocity(model, path);
  const vf: VelocityField = (x, t) => tf.tidy(() => tf.mul(tf.sin(v(x, t)), SCALE));
  const x0 = tf.randomNormal([c.batch, ...c.shape], 0, 1, "float32", 1);
  for (const name of only) {
    // A registered solver's name, or a solver module's path (e.g. an older copy, to compare).
    const s: Solver = name.endsWith(".ts")
      ? (await import(new URL(name, `file://${Deno.cwd()}/`).href)).default
      : reg.solvers.get(name)!;
    const opts = { t0: 0, t1: 1, rtol: 1e-5, atol: 1e-5 };
    // Warm-up (kernel set-up), then the counted run, then the timed ones.
    (await s.integrate(vf, x0, opts)).x.dispose();
    const counter = countReads();
    const r = await s.integrate(vf, x0, opts);
    counter.stop();
    r.x.dispose();
    const trials = (r.stats?.accepted ?? 0) + (r.stats?.rejected ?? 0);
    const elems = counter.reads.reduce((n, rd) => n + rd.size, 0);
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      const { x } = await s.integrate(vf, x0, opts);
      await x.data();
      ms.push(performance.now() - t);
      x.dispose();
    }
    ms.sort((a, b) => a - b);
    console.log(
      `${backend} ${c.label} ${name}: ${trials} trial steps, ${counter.reads.length} reads, ` +
        `${elems} elements read; median ${ms[ms.length >> 1].toFixed(1)} ms of ${reps} ` +
        `(min ${ms[0].toFixed(1)})`,
    );
  }
  x0.dispose();
  model.dispose();
}
