// The high-resolution W2 and the optimum in a toy2d run: --high-res-samples adds each run's
// `highRes` record (the headline setting's samples, scored by the Sinkhorn W2) and the floor
// band and true entropy to the references; off by default; refused by suites without it.
import assert from "node:assert/strict";
import { main } from "../cli/bench.ts";
import { readResults } from "../results/io.ts";
import { resultsProblems } from "../results/check.ts";
import { headlineSetting } from "../harness/high-res.ts";
import { toy2dEntropy } from "../harness/data/toy2d-entropy.ts";
import type { SamplingPlan } from "../harness/evaluate.ts";
import type { Solver } from "../core/types.ts";
import { captureConsole } from "./helpers/console.ts";
import { TINY_TOY2D } from "./helpers/tiny-toy2d.ts";

Deno.test("high-res: the headline setting is the adaptive solver's tightest tolerance", () => {
  const solver = (name: string, adaptive: boolean) => ({ name, adaptive }) as unknown as Solver;
  const plans: SamplingPlan[] = [
    { solver: solver("euler", false), settings: [{ steps: 8 }] },
    {
      solver: solver("dopri5", true),
      settings: [{ rtol: 1e-3, atol: 1e-3 }, { rtol: 1e-5, atol: 1e-4 }, {
        rtol: 1e-5,
        atol: 1e-6,
      }],
    },
  ];
  assert.deepEqual(headlineSetting(plans, "dopri5")?.setting, { rtol: 1e-5, atol: 1e-6 });
  assert.equal(headlineSetting(plans, "euler"), undefined, "not adaptive");
  assert.equal(headlineSetting(plans, "rk45"), undefined, "not run");
});

Deno.test("high-res: a toy2d run records the Sinkhorn W2, its floor band and the optimum", async () => {
  const out = await Deno.makeTempDir({ prefix: "fmbench-highres-" });
  const args = [...TINY_TOY2D, "--methods", "FM w/ OT", "--solvers", "euler,dopri5", "--out", out];
  const on = await captureConsole(() => main([...args, "--high-res-samples", "300"]));
  assert.equal(on.value, 0, on.err);
  const res = await readResults(`${out}/results.json`);
  assert.deepEqual(resultsProblems(res), []);
  const h = res.runs[0].highRes!;
  assert.equal(h.status, "ok", h.error);
  assert.equal(h.n, 300);
  assert.deepEqual([h.solver, h.setting], ["dopri5", { rtol: 1e-5, atol: 1e-5 }]);
  const headline = res.runs[0].evals.find((e) => e.solver === "dopri5" && e.setting.rtol === 1e-5)!;
  assert.equal(h.nfe, headline.nfe, "same solver and setting: the same NFE");
  const m = h.metrics as Record<string, number>;
  assert.ok(m.sinkhorn_w2 > 0 && m.sinkhorn_w2_se > m.sinkhorn_w2_se_model, JSON.stringify(m));
  assert.ok(Math.abs(m.sinkhorn_w2 ** 2 - m.sinkhorn_divergence) < 1e-12);
  assert.equal(m.blur, 0.05);
  assert.equal(m.converged, 1);
  const ref = res.references!.moons as Record<string, number>;
  assert.equal(ref.entropy, toy2dEntropy("moons").nats);
  assert.ok(ref.entropy_stderr < 1e-6);
  assert.ok(ref.sinkhorn_w2 > 0 && ref.sinkhorn_w2_std > 0);
  assert.deepEqual(
    [ref.sinkhorn_w2_n, ref.sinkhorn_w2_pairs, ref.sinkhorn_w2_blur],
    [300, 4, 0.05],
  );
  // The config differs, so the default (off) re-runs and records neither.
  const off = await Deno.makeTempDir({ prefix: "fmbench-highres-off-" });
  const plain = await captureConsole(() => main([...args.slice(0, -1), off]));
  assert.equal(plain.value, 0, plain.err);
  const res2 = await readResults(`${off}/results.json`);
  assert.equal(res2.runs[0].highRes, undefined);
  assert.equal(res2.references!.moons.sinkhorn_w2, undefined);
  assert.equal(res2.references!.moons.entropy, ref.entropy, "the optimum is always recorded");
  await Deno.remove(out, { recursive: true });
  await Deno.remove(off, { recursive: true });
});

Deno.test("high-res: --high-res-samples is refused by a suite without a high-resolution score", async () => {
  const r = await captureConsole(() =>
    main(["--suite", "cifar10", "--high-res-samples", "100", "--out", "/tmp/never"])
  );
  assert.equal(r.value, 2);
  assert.match(r.err, /--high-res-samples applies to .*Valid with: --suite toy2d/);
});
