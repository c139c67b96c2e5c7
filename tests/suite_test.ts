// End to end through the CLI: a tiny toy2d run with a dropped-in path, resume, shards, bad flags.
import assert from "node:assert/strict";
import { main } from "../cli/bench.ts";
import { readResults } from "../results/io.ts";
import { SQUARE_PATH, tempPluginRoot } from "./helpers/plugins.ts";
import { captureConsole } from "./helpers/console.ts";
import { TINY_TOY2D } from "./helpers/tiny-toy2d.ts";

Deno.test("suite: a new path file is discovered, trained and evaluated; re-running resumes", async () => {
  const root = await tempPluginRoot({ "square-ot.ts": SQUARE_PATH });
  const out = await Deno.makeTempDir({ prefix: "fmbench-run-" });
  const args = [
    ...TINY_TOY2D,
    "--plugins",
    decodeURIComponent(root.pathname),
    "--out",
    out,
    "--methods",
    "1-RF,2-RF,FM w/ square-ot",
    "--solvers",
    "euler,dopri5",
  ];
  const first = await captureConsole(() => main(args));
  assert.equal(first.value, 0, first.err);
  const res = await readResults(`${out}/results.json`);
  assert.deepEqual(res.runs.map((r) => r.method), ["1-RF", "2-RF", "FM w/ square-ot"]);
  for (const r of res.runs) {
    assert.equal(r.status, "ok", r.error);
    const euler8 = r.evals.find((e) =>
      e.solver === "euler" && e.setting.steps === 8 && !e.setting.grid
    )!;
    assert.equal(euler8.nfe, 8, "NFE of euler is its step count");
    assert.ok(Number.isFinite(euler8.metrics.w2) && euler8.metrics.w2! > 0);
    const exact = r.nll.find((n) => n.estimator === "exact")!;
    assert.ok(Number.isFinite(exact.nats) && exact.n === 32);
    assert.ok(r.straightness! >= 0);
    assert.ok(r.samples?.points?.length && r.samples.trajectories?.length);
  }
  const student = res.runs.find((r) => r.method === "2-RF")!;
  const prov = student.provenance!.reflow as Record<string, unknown>;
  assert.equal(prov.teacher, "1-RF");
  assert.equal(prov.n, 256);
  assert.ok(res.plugins.loaded.some((p) => p.name === "square-ot"));
  assert.ok((await Deno.stat(`${out}/report.html`)).size > 1000);
  assert.equal(res.manifest.backend, "wasm");
  assert.match(res.manifest.versions.tfjs, /^4\./);

  // Same command again: every run is complete with a matching config hash, so nothing retrains.
  const second = await captureConsole(() => main(args));
  assert.equal(second.value, 0);
  assert.equal((second.err.match(/skipped \(resume\)/g) ?? []).length, 3, second.err);
  const again = await readResults(`${out}/results.json`);
  assert.deepEqual(again.runs.map((r) => r.train), res.runs.map((r) => r.train));

  // A narrower re-run in the same folder keeps the earlier file rather than dropping its runs.
  const narrow = await captureConsole(() =>
    main([...args.slice(0, -4), "--methods", "1-RF", "--solvers", "euler,dopri5"])
  );
  assert.equal(narrow.value, 0, narrow.err);
  assert.match(narrow.err, /kept a copy at/);
  const backups = [...Deno.readDirSync(out)].filter((e) => e.name.startsWith("results.before-"));
  assert.equal(backups.length, 1);
  assert.equal((await readResults(`${out}/${backups[0].name}`)).runs.length, 3);
  await Deno.remove(out, { recursive: true });
  await Deno.remove(decodeURIComponent(root.pathname), { recursive: true });
});

Deno.test("suite: reflow pairs are reproducible from the seed", async () => {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  for (const d of dirs) {
    const r = await captureConsole(() =>
      main([
        ...TINY_TOY2D,
        "--methods",
        "1-RF",
        "--solvers",
        "dopri5",
        "--out",
        d,
        "--no-report",
        "--reflow-pairs",
        "128",
        "--methods",
        "2-RF",
      ])
    );
    assert.equal(r.value, 0, r.err);
  }
  const [a, b] = await Promise.all(
    dirs.map((d) => Deno.readFile(`${d}/reflow/moons__1-rf__mlp-tiny.f32`)),
  );
  assert.equal(a.length, 128 * 2 * 2 * 4);
  assert.deepEqual(a, b);
  const prov = JSON.parse(await Deno.readTextFile(`${dirs[0]}/reflow/moons__1-rf__mlp-tiny.json`));
  assert.equal(prov.teacher, "1-RF");
  assert.equal(prov.solver, "dopri5");
  assert.ok(prov.nfe > 0);
  for (const d of dirs) await Deno.remove(d, { recursive: true });
});

Deno.test("cli: bad flags, plugin and data-set names exit 2 and list the valid ones", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["--bogus"], /valid flags: .*--suite/],
    [["--paths", "nope"], /unknown path "nope"; valid: .*cond-ot/],
    [["--datasets", "spiral"], /unknown toy2d data set "spiral"; valid: .*moons/],
    [["--solvers", "rk9"], /unknown solver "rk9"; valid: .*euler/],
    [["--suite", "mnist"], /unknown suite "mnist"/],
    [["--steps", "ten"], /--steps must be an integer/],
    [["--shard", "2/2"], /--shard must be I\/N/],
    [["--backend", "quantum"], /unknown --backend "quantum"/],
    [["--models", "mlp:huge"], /unknown preset of model mlp "huge"/],
    [["--metrics", "w3"], /unknown metric "w3"; valid: w2, precision-recall, density-coverage/],
    [["--metrics", "w2,fid"], /metric "fid" reads inception-pool3 features, which suite toy2d/],
  ];
  const base = await Deno.makeTempDir({ prefix: "fmbench-refused-" });
  const never = `${base}/never/written`;
  for (const [argv, re] of cases) {
    const r = await captureConsole(() => main([...argv, "--out", never]));
    assert.equal(r.value, 2, `${argv.join(" ")}: exit ${r.value}`);
    assert.match(r.err, re);
    // A refused run leaves nothing behind, not even the output folder the up-front check probed.
    assert.deepEqual([...Deno.readDirSync(base)], [], `${argv.join(" ")} left files in ${base}`);
  }
  await Deno.remove(base);
});

Deno.test("cli: --list prints every plugin with kind, name, family and description", async () => {
  const r = await captureConsole(() => main(["--list"]));
  assert.equal(r.value, 0);
  assert.match(r.out, /paths\s+cond-ot\s+ot\s+Conditional OT path/);
  assert.match(r.out, /solvers\s+dopri5/);
  assert.match(r.out, /models\s+mlp/);
  assert.match(r.out, /metrics\s+precision-recall/);
  assert.match(
    r.out,
    /precision-recall\s+Precision ↑, Recall ↑\s+inception-pool3 or raw\s+toy2d, cifar10/,
  );
  assert.match(r.out, /fd-dinov2\s+FD-DINOv2 ↓\s+dinov2-cls\s+cifar10 when named/);
});
