// Reads to the host and wall time of adaptive solvers on an MLP field (args: names or module paths).
import { tf } from "../core/tf.ts";
import type { Solver, VelocityField } from "../core/types.ts";
import { selectBackend } from "../backend/select.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { countReads } from "../probes/reads.ts";

/** One measured configuration: state shape per sample and batch size. */
interface Config {
  label: string;
  shape: number[];
  batch: number;
  /** MLP preset; "" for an elementwise field without a network. */
  preset: string;
}

const CONFIGS: Config[] = [
  { label: "toy 2-d, batch 2000, MLP 3x256", shape: [2], batch: 2000, preset: "default" },
  { label: "CIFAR-sized 3072-d, batch 256, MLP 2x32", shape: [3072], batch: 256, preset: "tiny" },
  { label: "CIFAR-sized 3072-d, batch 256, no MLP", shape: [3072], batch: 256, preset: "" },
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

/** A solver by registered name, or the default export of a module path (an older copy, say). */
async function solverOf(name: string): Promise<Solver> {
  if (!name.endsWith(".ts")) return reg.solvers.get(name)!;
  return (await import(new URL(name, `file://${Deno.cwd()}/`).href)).default;
}

const opts = { t0: 0, t1: 1, rtol: 1e-5, atol: 1e-5 };
for (const c of CONFIGS) {
  const model = c.preset ? mlp.create({ shape: c.shape, preset: c.preset, seed: 0 }) : null;
  // The random-init MLP's output is small and nearly linear; scaled up it makes the solvers work.
  // Without a preset the field is elementwise (no MLP), so the solver's own work shows.
  const v = model ? cfm.velocity(model, path) : (x: tf.Tensor) => tf.mul(x, 0.05);
  const vf: VelocityField = (x, t) => tf.tidy(() => tf.mul(tf.sin(v(x, t)), SCALE));
  const x0 = tf.randomNormal([c.batch, ...c.shape], 0, 1, "float32", 1);
  const solvers = await Promise.all(only.map(solverOf));
  const lines: string[] = [];
  for (const [i, s] of solvers.entries()) {
    // Warm-up (kernel set-up), then the counted run.
    (await s.integrate(vf, x0, opts)).x.dispose();
    const counter = countReads();
    const r = await s.integrate(vf, x0, opts);
    counter.stop();
    r.x.dispose();
    const trials = (r.stats?.accepted ?? 0) + (r.stats?.rejected ?? 0);
    const elems = counter.reads.reduce((n, rd) => n + rd.size, 0);
    lines.push(
      `${backend} ${c.label} ${only[i]}: ${trials} trial steps, ${counter.reads.length} reads, ` +
        `${elems} elements read`,
    );
  }
  // Timed runs interleaved (a b a b ...), so load from other jobs falls on all alike.
  const ms: number[][] = solvers.map(() => []);
  for (let rep = 0; rep < reps; rep++) {
    for (const [i, s] of solvers.entries()) {
      const t = performance.now();
      const { x } = await s.integrate(vf, x0, opts);
      await x.data();
      ms[i].push(performance.now() - t);
      x.dispose();
    }
  }
  for (const [i, m] of ms.entries()) {
    m.sort((a, b) => a - b);
    console.log(
      `${lines[i]}; median ${m[m.length >> 1].toFixed(1)} ms of ${reps} (min ${m[0].toFixed(1)})`,
    );
  }
  x0.dispose();
  model?.dispose();
}
