// Methods with a time sampler: the default grid unchanged, --time-samplers crossing the methods,
// labels and recipes naming one, bad input exiting 2, the trainer drawing the sampler's times (and
// the old uniform stream without one), and a tiny run whose report says the loss is reweighted.
import assert from "node:assert/strict";
import { BUILTIN_PLUGINS, discoverPlugins } from "../harness/registry.ts";
import { resolveMethods } from "../harness/methods.ts";
import { bindTimeSampler, parseTimeSampler } from "../harness/time-samplers.ts";
import { UnknownNameError } from "../harness/registry.ts";
import { train } from "../harness/train.ts";
import { runHash } from "../harness/plan.ts";
import { vectorSource } from "../harness/data/source.ts";
import { defineLoss, rng, subSeed, tf } from "../core/mod.ts";
import { OUTSIDE_PLUGINS, tempPluginRoot } from "./helpers/plugins.ts";
import { TINY_TOY2D } from "./helpers/tiny-toy2d.ts";
import { captureConsole } from "./helpers/console.ts";

const builtin = await discoverPlugins([BUILTIN_PLUGINS]);
const root = await tempPluginRoot(OUTSIDE_PLUGINS);
const outside = await discoverPlugins([BUILTIN_PLUGINS, root]);
await Deno.remove(decodeURIComponent(root.pathname), { recursive: true });

const labels = (ms: Array<{ label: string }>) => ms.map((m) => m.label);

Deno.test("the default grid has no time sampler; a dropped-in one gets FM w/ OT + <name>", () => {
  const methods = resolveMethods(builtin);
  assert.ok(
    methods.every((m) => !("timeSampler" in m)),
    "no timeSampler key: run hashes unchanged",
  );
  const beta = resolveMethods(outside).find((m) => m.label === "FM w/ OT + beta-2-2");
  assert.deepEqual(beta && [beta.path, beta.coupling, beta.loss, beta.timeSampler], [
    "cond-ot",
    "independent",
    "cfm",
    { name: "beta-2-2", params: {} },
  ]);
});

Deno.test("--time-samplers crosses every selected method; students keep their teacher", () => {
  const ms = resolveMethods(builtin, {
    methods: ["FM w/ OT", "2-RF"],
    timeSamplers: ["logit-normal", "uniform", "u-shaped:a=2"],
  });
  assert.deepEqual(labels(ms), [
    "FM w/ OT",
    "FM w/ OT + logit-normal",
    "FM w/ OT + u-shaped:a=2",
    "1-RF",
    "2-RF",
    "2-RF + logit-normal",
    "2-RF + u-shaped:a=2",
  ]);
  const student = ms.find((m) => m.label === "2-RF + u-shaped:a=2")!;
  assert.equal(student.teacher, "1-RF");
  assert.deepEqual(student.timeSampler, { name: "u-shaped", params: { a: 2 } });
});

Deno.test("labels and recipes name a time sampler; defaults and uniform fold away", () => {
  const one = (spec: string) => resolveMethods(builtin, { methods: [spec] });
  const ln = one("FM w/ OT + logit-normal:scale=0.5");
  assert.deepEqual(labels(ln), ["FM w/ OT + logit-normal:scale=0.5"]);
  assert.deepEqual(ln[0].timeSampler, {
    name: "logit-normal",
    params: { location: 0, scale: 0.5 },
  });
  assert.deepEqual(labels(one("cond-ot/independent/cfm/logit-normal:scale=1")), [
    "FM w/ OT + logit-normal",
  ]);
  assert.deepEqual(labels(one("cond-ot/minibatch-ot/cfm/mode")), ["OT-CFM + mode"]);
  assert.deepEqual(labels(one("cosine/independent/eps/skewed")), ["FM w/ cosine + eps + skewed"]);
  assert.deepEqual(labels(one("cond-ot/independent/cfm/uniform")), ["FM w/ OT"]);
  assert.deepEqual(labels(one("FM w/ OT + uniform")), ["FM w/ OT"]);
  // An optional method, asked for with a time sampler.
  assert.deepEqual(labels(one("OT-CFM (Sinkhorn) + edm-lognormal")), [
    "OT-CFM (Sinkhorn) + edm-lognormal",
  ]);
});

Deno.test("bad time samplers and parameters are UnknownNameErrors naming what is valid", () => {
  assert.throws(
    () => resolveMethods(builtin, { timeSamplers: ["nope"] }),
    (e) => e instanceof UnknownNameError && /valid: edm-lognormal, logit-normal/.test(e.message),
  );
  assert.throws(
    () => resolveMethods(builtin, { methods: ["FM w/ OT + logit-normal:scale=-1"] }),
    (e) => e instanceof UnknownNameError && /scale must be a finite number > 0/.test(e.message),
  );
  assert.throws(
    () => resolveMethods(builtin, { methods: ["cond-ot/independent/cfm/x/y"] }),
    /path\/coupling\/loss\/time-sampler/,
  );
  // A label whose last part is no time sampler stays an unknown method.
  assert.throws(
    () => resolveMethods(builtin, { methods: ["FM w/ OT + nothing"] }),
    /unknown method "FM w\/ OT \+ nothing"/,
  );
});

Deno.test("the CLI exits 2 on an unknown time sampler or a bad parameter", async () => {
  const { main } = await import("../cli/bench.ts");
  for (
    const [flag, says] of [
      [
        "logit-normal:scale=0",
        /scale must be a finite number > 0, got "0".*location \(default 0\)/,
      ],
      ["lognormal", /unknown time sampler \(--time-samplers\) "lognormal"; valid: .*u-shaped/],
    ] as const
  ) {
    const r = await captureConsole(() =>
      main([...TINY_TOY2D, "--methods", "FM w/ OT", "--time-samplers", flag, "--no-report"])
    );
    assert.equal(r.value, 2, r.err);
    assert.match(r.err, says);
  }
});

/** A loss that records the times it is given (and trains nothing useful). */
function spyLoss(seen: number[][]) {
  return defineLoss({
    name: "spy",
    description: "records t",
    predicts: "velocity",
    loss: (model, _path, { x0, t }) => {
      seen.push(Array.from(t.dataSync()));
      return tf.tidy(() => tf.mean(tf.square(model.apply(x0, t, true))));
    },
    velocity: (model) => (x, t) => tf.tidy(() => model.apply(x, tf.fill([x.shape[0]], t))),
  });
}

Deno.test("training draws t from the sampler; without one, the old uniform stream bit for bit", async () => {
  const path = builtin.paths.get("vp-diffusion")!;
  const data = vectorSource(
    "pts",
    new Float32Array(64).map((_, i) => i / 64),
    new Float32Array(8),
    2,
  );
  const config = {
    steps: 3,
    batch: 8,
    lr: 1e-3,
    warmup: 0,
    clip: 0,
    ema: 0,
    minutes: 0,
    seed: 5,
    logEvery: 1,
  };
  const run = async (times?: (u: number) => number) => {
    const seen: number[][] = [];
    const model = builtin.models.get("mlp")!.create({ shape: [2], preset: "tiny", seed: 0 });
    const coupling = builtin.couplings.get("independent")!;
    const out = await train({ model, path, loss: spyLoss(seen), coupling, data, config, times });
    out.dispose();
    model.dispose();
    return seen;
  };
  const [tMin, tMax] = path.tRange;
  const expected = [0, 1, 2].map((step) => {
    const u = rng(subSeed(config.seed, `time-${step}`));
    return Array.from(Float32Array.from({ length: 8 }, () => tMin + (tMax - tMin) * u()));
  });
  assert.deepEqual(await run(), expected, "the default: the stream fmbench always drew");
  const uniform = bindTimeSampler(parseTimeSampler("uniform", { registry: builtin, where: "t" }), {
    registry: builtin,
    path: path,
  });
  assert.deepEqual(await run(uniform.time), expected, "the uniform plugin: the same bits");
  const ln = bindTimeSampler(parseTimeSampler("logit-normal", { registry: builtin, where: "t" }), {
    registry: builtin,
    path: path,
  });
  const drawn = await run(ln.time);
  assert.deepEqual(
    drawn,
    [0, 1, 2].map((step) => {
      const u = rng(subSeed(config.seed, `time-${step}`));
      return Array.from(Float32Array.from({ length: 8 }, () => ln.time(u())));
    }),
  );
  assert.notDeepEqual(drawn, expected);
});

Deno.test("a run with --time-samplers: recorded in results.methods, reweighting named in the report", async () => {
  const { main } = await import("../cli/bench.ts");
  const { readResults } = await import("../results/io.ts");
  const { buildConfig } = await import("../cli/config.ts");
  const { parseFlags } = await import("../cli/flags.ts");
  const { planRuns } = await import("../harness/plan.ts");
  const args = [...TINY_TOY2D, "--methods", "FM w/ OT", "--solvers", "euler,dopri5"];
  // The plain method's run hash does not change when time samplers are added beside it.
  const hashOf = (extra: string[]) => {
    const cfg = buildConfig(parseFlags([...args, ...extra]).values, {
      registry: builtin,
      backend: "wasm",
    });
    return runHash(cfg, planRuns(cfg).find((r) => r.method.label === "FM w/ OT")!);
  };
  assert.equal(hashOf(["--time-samplers", "logit-normal"]), hashOf([]));
  const out = await Deno.makeTempDir({ prefix: "fmbench-ts-" });
  try {
    const r = await captureConsole(() =>
      main([
        ...args,
        "--methods",
        "FM w/ OT + u-shaped",
        "--time-samplers",
        "logit-normal",
        "--jobs",
        "1",
        "--out",
        out,
      ])
    );
    assert.equal(r.value, 0, r.err);
    const res = await readResults(out);
    assert.deepEqual(res.runs.map((x) => [x.method, x.status]), [
      ["FM w/ OT + u-shaped", "ok"],
    ]);
    assert.deepEqual(res.methods.map((m) => m.timeSampler), [{
      name: "u-shaped",
      params: { a: 4 },
    }]);
    const report = await Deno.readTextFile(`${out}/report.html`);
    assert.match(report, /t ~ u-shaped \(a 4\): reweights the loss relative to uniform t/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
