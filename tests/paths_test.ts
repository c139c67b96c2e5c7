// Affine paths against their mathematics: boundaries, d/dt of samples, Gaussian closed forms.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import { epsilonFromVelocity, velocityFromEpsilon } from "../core/affine.ts";
import { discoverPlugins } from "../harness/registry.ts";
import { normals, rng } from "../core/rng.ts";
import { gaussianMarginalVelocity, posteriorX1 } from "./gaussian.ts";

await tf.setBackend("cpu");
const reg = await discoverPlugins();
const affine = [...reg.paths.values()].filter((p) => p.schedule);

Deno.test("every shipped path loads and is affine", () => {
  assert.deepEqual(reg.failures, []);
  for (const n of ["cond-ot", "linear", "vp-diffusion", "ve-diffusion", "cosine"]) {
    assert.ok(reg.paths.get(n)?.schedule, `path ${n} missing or not affine`);
  }
});

Deno.test("paths: boundary values at t = 0 (source) and t = 1 (data)", () => {
  for (const p of affine) {
    const s = p.schedule!;
    const [t0, t1] = p.tRange;
    // At the source end x_t is (close to) x0: alpha ~ 0 relative to sigma ~ 1.
    assert.ok(
      s.alpha(t0) < 0.01 || p.name === "ve-diffusion",
      `${p.name}: alpha(0)=${s.alpha(t0)}`,
    );
    assert.ok(Math.abs(s.sigma(t0) - 1) < 1e-3, `${p.name}: sigma(0)=${s.sigma(t0)}`);
    // At the data end x_t is (close to) x1.
    assert.ok(Math.abs(s.alpha(t1) - 1) < 1e-3, `${p.name}: alpha(1)=${s.alpha(t1)}`);
    assert.ok(s.sigma(t1) < 2e-3, `${p.name}: sigma(1)=${s.sigma(t1)}`);
  }
  // ve-diffusion: x_0 = x1 + x0 with x0 ~ N(0, sigma_max^2 I) dominating the data.
  assert.equal(reg.paths.get("ve-diffusion")!.sourceStd, 10);
});

Deno.test("paths: conditional velocity equals the finite-difference time derivative of the sample", () => {
  const x0v = [[0.3, -1.2], [2.0, 0.5]], x1v = [[1.5, 0.7], [-0.4, -2.2]];
  const x0 = tf.tensor2d(x0v), x1 = tf.tensor2d(x1v);
  for (const p of affine) {
    const s = p.schedule!;
    for (const t of [0.1, 0.37, 0.5, 0.83]) {
      const { xt, ut } = p.sample(x0, x1, tf.tensor1d([t, t]));
      const got = ut.arraySync() as number[][], pos = xt.arraySync() as number[][];
      // The sample in float64 from the schedule, and its central difference in t.
      const x = (u: number, i: number, j: number) =>
        s.alpha(u) * x1v[i][j] + s.sigma(u) * x0v[i][j];
      const h = 1e-5;
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 2; j++) {
          const fd = (x(t + h, i, j) - x(t - h, i, j)) / (2 * h);
          const rel = Math.abs(fd - got[i][j]) / Math.max(Math.abs(fd), 1e-3);
          assert.ok(rel < 1e-3, `${p.name} t=${t}: fd ${fd} vs u ${got[i][j]} (rel ${rel})`);
          assert.ok(Math.abs(pos[i][j] - x(t, i, j)) < 1e-5, `${p.name} t=${t}: x_t mismatch`);
        }
      }
      tf.dispose([xt, ut]);
    }
  }
});

Deno.test("paths: Gaussian data — posterior averages of the cfm and eps targets give the marginal velocity", () => {
  const m = 1.5, s = 0.5, K = 200_000;
  for (const p of affine) {
    const sch = p.schedule!, std = p.sourceStd;
    const u = gaussianMarginalVelocity(sch, m, s, std);
    for (const t of [0.2, 0.6, 0.9]) {
      const x = 0.7;
      const post = posteriorX1(sch, m, s, std, x, t);
      const z = normals(rng(7), K);
      let ut = 0, x0 = 0;
      for (let k = 0; k < K; k++) {
        const x1 = post.mean + post.std * z[k];
        const e = (x - sch.alpha(t) * x1) / sch.sigma(t);
        ut += sch.dAlpha(t) * x1 + sch.dSigma(t) * e;
        x0 += e;
      }
      ut /= K;
      x0 /= K;
      const exact = u(x, t);
      const tol = 0.02 * Math.max(1, Math.abs(exact));
      assert.ok(Math.abs(ut - exact) < tol, `${p.name} t=${t}: E[u_t|x]=${ut} vs ${exact}`);
      const xt = tf.scalar(x), e0 = tf.scalar(x0);
      const fromEps = velocityFromEpsilon(sch, xt, e0, t).dataSync()[0];
      assert.ok(Math.abs(fromEps - exact) < tol, `${p.name} t=${t}: eps->v ${fromEps} vs ${exact}`);
      const back = epsilonFromVelocity(sch, xt, tf.scalar(exact), t).dataSync()[0];
      assert.ok(Math.abs(back - x0) < 0.02, `${p.name} t=${t}: v->eps ${back} vs ${x0}`);
    }
  }
});

Deno.test("paths: integrating the Gaussian marginal field from the source gives N(m, s^2)", async () => {
  const rk4 = reg.solvers.get("rk4")!;
  const m = 1.5, s = 0.5, n = 4000;
  for (const p of affine) {
    const sch = p.schedule!, std = p.sourceStd;
    const field = (x: tf.Tensor, t: number) =>
      tf.tidy(() => {
        const c = gaussianMarginalVelocity(sch, m, s, std);
        // u is affine in x: u = c(0, t) + (c(1, t) - c(0, t)) x.
        const b = c(0, t), k = c(1, t) - b;
        return tf.add(tf.mul(x, k), b);
      });
    const [t0, t1] = p.tRange;
    // The path's actual marginal at t0 (not exactly the source for VP/VE).
    const a0 = sch.alpha(t0), v0 = Math.sqrt(a0 * a0 * s * s + sch.sigma(t0) ** 2 * std * std);
    const x0 = tf.tensor1d(Array.from(normals(rng(3), n), (z) => a0 * m + v0 * z));
    const { x } = await rk4.integrate(field, x0, { t0, t1, steps: 400 });
    const v = Array.from(x.dataSync());
    const mean = v.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    assert.ok(Math.abs(mean - m) < 4 * s / Math.sqrt(n), `${p.name}: mean ${mean} vs ${m}`);
    assert.ok(Math.abs(sd - s) < 4 * s / Math.sqrt(2 * n) + 0.01, `${p.name}: std ${sd} vs ${s}`);
    tf.dispose([x0, x]);
  }
});

Deno.test("paths: straightness of the exact Gaussian marginal flow — OT/linear are straighter than VP", async () => {
  const { flowStraightness } = await import("../harness/metrics/straightness.ts");
  const m = 2, s = 0.1;
  const straightness = async (name: string) => {
    const p = reg.paths.get(name)!, sch = p.schedule!;
    const c = gaussianMarginalVelocity(sch, m, s, p.sourceStd);
    const f = (x: tf.Tensor, t: number) =>
      tf.tidy(() => tf.add(tf.mul(x, c(1, t) - c(0, t)), c(0, t)));
    const x0 = tf.randomNormal([1000, 1], 0, 1, "float32", 1);
    const v = await flowStraightness({
      field: f,
      x0,
      steps: 400,
      t0: p.tRange[0],
      t1: p.tRange[1],
    });
    x0.dispose();
    return v;
  };
  const ot = await straightness("cond-ot"), lin = await straightness("linear");
  const vp = await straightness("vp-diffusion");
  // For N(0,1) -> N(2, 0.01) the OT flow is nearly straight; VP's speed is concentrated late.
  assert.ok(ot < 0.1 && lin < 0.1, `ot ${ot}, linear ${lin}`);
  assert.ok(vp > 10 * ot, `vp ${vp} vs ot ${ot}`);
});
