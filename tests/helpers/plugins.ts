// Test helpers: a temporary plugin root and plugin files written by code, importing only mod.ts.
const modUrl = new URL("../../mod.ts", import.meta.url).href;

/** A temporary plugin root with the given files, e.g. { "paths/x.ts": "..." } or { "x.ts": ... } under paths/. */
export async function tempPluginRoot(files: Record<string, string>): Promise<URL> {
  const dir = await Deno.makeTempDir({ prefix: "fmbench-plugins-" });
  for (const [name, text] of Object.entries(files)) {
    const rel = name.includes("/") ? name : `paths/${name}`;
    await Deno.mkdir(`${dir}/${rel.slice(0, rel.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/${rel}`, text);
  }
  return new URL(`file://${dir}/`);
}

export const SQUARE_PATH = `
import { definePath } from "${modUrl}";
export default definePath({
  name: "square-ot", family: "ot", description: "x_t = t^2 x1 + (1 - t^2) x0",
  schedule: { alpha: (t) => t * t, sigma: (t) => 1 - t * t, dAlpha: (t) => 2 * t, dSigma: (t) => -2 * t },
});
`;

/** One outside plugin of every kind, each importing nothing but the repository's mod.ts. */
export const OUTSIDE_PLUGINS: Record<string, string> = {
  "paths/square-ot.ts": SQUARE_PATH,
  "couplings/reversed.ts": `
import { defineCoupling, tf } from "${modUrl}";
export default defineCoupling({
  name: "reversed", description: "pairs x0[i] with x1[n - 1 - i]",
  pair: (x0, x1) => Promise.resolve([x0.clone(), tf.reverse(x1, 0)]),
});
`,
  "losses/half-cfm.ts": `
import { defineLoss, tf } from "${modUrl}";
export default defineLoss({
  name: "half-cfm", description: "CFM with half weight", predicts: "velocity",
  loss: (model, path, { x0, x1, t }) => tf.tidy(() => {
    const { xt, ut } = path.sample(x0, x1, t);
    return tf.mul(0.5, tf.mean(tf.square(tf.sub(model.apply(xt, t, true), ut))));
  }),
  velocity: (model) => (x, t) => tf.tidy(() => model.apply(x, tf.fill([x.shape[0]], t))),
});
`,
  "models/affine.ts": `
import { defineModel, tf } from "${modUrl}";
export default defineModel({
  name: "affine", description: "v(x, t) = a x + b", accepts: ["vector"],
  presets: { default: {} }, defaultPreset: "default", usesConvolution: false,
  create: ({ shape }) => {
    // tidy frees the zeros; variables survive it.
    const [a, b] = tf.tidy(() => [tf.variable(tf.zeros([shape[0]])), tf.variable(tf.zeros([shape[0]]))]);
    return {
      apply: (x) => tf.add(tf.mul(x, a), b),
      variables: () => [a, b],
      paramCount: () => 2 * shape[0],
      dispose: () => tf.dispose([a, b]),
    };
  },
});
`,
  "time-samplers/beta-2-2.ts": `
import { defineTimeSampler } from "${modUrl}";
export default defineTimeSampler({
  name: "beta-2-2", description: "t ~ Beta(2, 2): density 6 t (1 - t)", params: {},
  prepare: () => ({
    quantile: (u) => 0.5 - Math.sin(Math.asin(1 - 2 * u) / 3),
    cdf: (t) => t * t * (3 - 2 * t),
    density: (t) => 6 * t * (1 - t),
  }),
});
`,
  "metrics/mean-shift.ts": `
import { defineMetric } from "${modUrl}";
export default defineMetric({
  name: "mean-shift", description: "distance between the means of generated and reference data",
  features: ["inception-pool3", "raw"], protocol: { norm: "Euclidean" },
  values: { mean_shift: { direction: "lower", title: "Mean shift", description: "|mean g - mean r|" } },
  compute: ({ generated, reference, stats }) => {
    const [g, r] = [stats.moments(generated), stats.moments(reference!)];
    return { mean_shift: Math.hypot(...g.mu.map((m, i) => m - r.mu[i])) };
  },
});
`,
  "solvers/ralston.ts": `
import { fixedStepSolver } from "${modUrl}";
export default fixedStepSolver({
  name: "ralston", description: "Ralston's second-order method", order: 2,
  tableau: { c: [0, 2 / 3], a: [[], [2 / 3]], b: [1 / 4, 3 / 4] },
});
`,
};
