// Permissions follow the flags: the grants computed for bench and report commands, the launcher
// running a real run outside runs/, and a permission error explained in one line.
import assert from "node:assert/strict";
import { resolve } from "node:path";
import {
  benchLaunch,
  fidWeightsLaunch,
  type GrantContext,
  INCEPTION_DOWNLOAD,
  reportLaunch,
  SUITE_NEEDS,
} from "../cli/grants.ts";
import { permissionMessage } from "../cli/explain-error.ts";
import { firstRunNote } from "../cli/launch.ts";
import { didYouMean, flagError, FLAGS, UsageError } from "../cli/flags.ts";
import { detectTaskRunner, taskCommand } from "../store/task-command.ts";
import { CIFAR10_FOLDER, CIFAR10_URL } from "../harness/data/cifar10.ts";
import {
  INCEPTION_ENV,
  INCEPTION_HOSTS,
  INCEPTION_PTH,
  INCEPTION_SAFETENSORS,
} from "../features/weights-file.ts";
import { SUITES } from "../harness/suites/mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;

function ctx(over: Partial<GrantContext> = {}): GrantContext {
  return {
    cwd: "/repo",
    env: () => undefined,
    exists: () => false,
    now: new Date("2026-01-02T03:04:05Z"),
    ...over,
  };
}

const grant = (perms: string[], flag: string) =>
  perms.find((p) => p === flag || p.startsWith(`${flag}=`));

Deno.test("grants: bench writes exactly --out (default chosen and passed on), nothing else for toy2d", () => {
  const l = benchLaunch(["--datasets", "moons", "--out", "/tmp/x"], ctx());
  assert.deepEqual(l.writes, ["/tmp/x"]);
  assert.equal(grant(l.permissions, "--allow-write"), "--allow-write=/tmp/x");
  assert.equal(grant(l.permissions, "--allow-net"), undefined, "toy2d downloads nothing");
  assert.equal(grant(l.permissions, "--allow-run"), "--allow-run=git");
  // FFI for the system BLAS of the wasm backend (backend/native-blas.ts).
  assert.equal(grant(l.permissions, "--allow-ffi"), "--allow-ffi");
  assert.deepEqual(l.args, ["--datasets", "moons", "--out", "/tmp/x"]);
  const d = benchLaunch(["--shard", "1/2"], ctx());
  assert.deepEqual(d.writes, ["/repo/runs/toy2d-2026-01-02T03-04-05-shard1of2"]);
  assert.deepEqual(d.args.slice(-2), ["--out", "runs/toy2d-2026-01-02T03-04-05-shard1of2"]);
  assert.deepEqual(benchLaunch(["--out", "rel/dir"], ctx()).writes, ["/repo/rel/dir"]);
});

Deno.test("grants: cifar10 adds its data dir, and each download's hosts only while its files are missing", () => {
  const args = ["--suite", "cifar10", "--out", "/o", "--data-dir", "/d"];
  const net = (c: GrantContext) => grant(benchLaunch(args, c).permissions, "--allow-net");
  const missing = benchLaunch(args, ctx());
  assert.deepEqual(missing.writes, ["/o", "/d"]);
  assert.equal(
    grant(missing.permissions, "--allow-net"),
    "--allow-net=www.cs.toronto.edu,github.com,release-assets.githubusercontent.com",
  );
  const have = (...files: string[]) => ctx({ exists: (p) => files.includes(p) });
  assert.equal(
    net(have(`/d/${CIFAR10_FOLDER}`)),
    "--allow-net=github.com,release-assets.githubusercontent.com",
    "data in place: only the weights' hosts",
  );
  assert.equal(net(have(`/d/${INCEPTION_PTH}`)), "--allow-net=www.cs.toronto.edu");
  assert.equal(net(have(`/d/${CIFAR10_FOLDER}`, `/d/${INCEPTION_SAFETENSORS}`)), undefined);
  const envWeights = ctx({
    env: (n) => n === INCEPTION_ENV ? "/w/inception.pth" : undefined,
    exists: (p) => p === `/d/${CIFAR10_FOLDER}` || p === "/w/inception.pth",
  });
  assert.equal(net(envWeights), undefined, "$FMBENCH_INCEPTION names a file that is there");
  const env = benchLaunch(
    ["--suite", "cifar10", "--out", "/o"],
    ctx({
      env: (n) => n === "FMBENCH_DATA_DIR" ? "/env/data" : undefined,
    }),
  );
  assert.deepEqual(env.writes, ["/o", "/env/data"]);
  assert.deepEqual(benchLaunch(["--suite", "cifar10", "--out", "/o"], ctx()).writes, [
    "/o",
    "/repo/data",
  ]);
  const gpu = benchLaunch(args, ctx(), true);
  assert.ok(gpu.permissions.includes("--allow-ffi") && gpu.permissions.includes("--allow-sys"));
});

Deno.test("grants: fid:weights writes only the data dir and reaches only the weights' hosts", () => {
  const l = fidWeightsLaunch(["--data-dir", "/d"], ctx());
  assert.deepEqual(l.writes, ["/d"]);
  assert.equal(grant(l.permissions, "--allow-net"), `--allow-net=${INCEPTION_HOSTS.join(",")}`);
  assert.deepEqual(fidWeightsLaunch([], ctx()).writes, ["/repo/data"]);
  assert.deepEqual(fidWeightsLaunch(["--bogus"], ctx()).writes, []);
  assert.deepEqual(fidWeightsLaunch(["--help"], ctx()).writes, []);
});

Deno.test("grants: help, list and bad flags write nothing; a comma in a path is a usage error", () => {
  for (const argv of [["--help"], ["--list"], ["--no-such-flag"], ["--shard", "3/2"]]) {
    const l = benchLaunch(argv, ctx());
    assert.deepEqual(l.writes, [], argv.join(" "));
    assert.equal(grant(l.permissions, "--allow-write"), undefined);
    assert.deepEqual(l.args, argv, "the real CLI sees the flags unchanged and explains them");
  }
  assert.throws(() => benchLaunch(["--out", "/tmp/a,b"], ctx()), UsageError);
  assert.throws(
    () => benchLaunch(["--suite", "cifar10", "--out", "/o", "--data-dir", "x,y"], ctx()),
    /--data-dir "x,y" contains a comma/,
  );
});

Deno.test("grants: a folder under /dev, /proc or /sys (Deno wants --allow-all there) is a usage error saying why", () => {
  for (const out of ["/dev/shm/x", "/proc/x", "/sys/x"]) {
    assert.throws(
      () => benchLaunch(["--out", out], ctx()),
      (e: Error) =>
        e instanceof UsageError && !e.message.includes("\n") &&
        /--allow-all/.test(e.message) && /folder elsewhere \(e\.g\. \/tmp\/x/.test(e.message) &&
        /deno run -A cli\/bench\.ts/.test(e.message),
      out,
    );
  }
  // A link into /dev is refused the same way; the link itself would pass Deno's grant check
  // for mkdir, then every file write fails with "Requires all access".
  const link = ctx({ realPath: (p) => p.replace("/tmp/shm", "/dev/shm") });
  assert.throws(() => benchLaunch(["--out", "/tmp/shm/run"], link), /is a link into \/dev/);
  assert.throws(
    () => benchLaunch(["--suite", "cifar10", "--out", "/o", "--data-dir", "/dev/shm/d"], ctx()),
    /--data-dir \/dev\/shm\/d is under \/dev/,
  );
  assert.throws(() => reportLaunch(["--merge", "a", "--out", "/dev/shm/m"], ctx()), /--allow-all/);
  assert.deepEqual(benchLaunch(["--out", "/devices/x"], ctx()).writes, ["/devices/x"]);
});

Deno.test("task runner: the printed commands take the form the user ran (deno task or npx)", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  const plain = { execPath: "/usr/bin/deno", version: "2.9.6", onPath: () => true };
  assert.equal(detectTaskRunner({ ...plain, env: env({}) }), "deno");
  // npx sets these for the program it starts; deno task passes them on to the launcher.
  assert.equal(
    detectTaskRunner({ ...plain, env: env({ npm_lifecycle_event: "npx", npm_command: "exec" }) }),
    "npx -y deno@2.9.6",
  );
  assert.equal(
    detectTaskRunner({ ...plain, env: env({ npm_command: "exec" }) }),
    "npx -y deno@2.9.6",
  );
  // Deno from npx's cache, with npm's variables gone (e.g. a sudo in between).
  assert.equal(
    detectTaskRunner({
      execPath: "/home/u/.npm/_npx/6a9b1f/node_modules/@deno/linux-x64-glibc/deno",
      version: "2.9.6",
      env: env({}),
      onPath: () => true,
    }),
    "npx -y deno@2.9.6",
  );
  // npm run (a package script) puts node_modules/.bin on the PATH: deno task works there.
  assert.equal(detectTaskRunner({ ...plain, env: env({ npm_command: "run-script" }) }), "deno");
  // A Deno that is not on the PATH: its full path, quoted for the shell.
  assert.equal(
    detectTaskRunner({
      execPath: "/opt/my deno/deno",
      version: "2.9.6",
      env: env({}),
      onPath: () => false,
    }),
    "'/opt/my deno/deno'",
  );
  assert.equal(
    detectTaskRunner({
      execPath: "/x/deno",
      version: "2.9.6",
      env: env({ PATH: "/nowhere:/also-not" }),
    }),
    "/x/deno",
  );
  assert.equal(
    taskCommand("bench", ["--methods", "FM w/ OT"], "npx -y deno@2.9.6"),
    "npx -y deno@2.9.6 task bench --methods 'FM w/ OT'",
  );
});

Deno.test("first run: one line says what Deno's lines were, only when node_modules was just set up", () => {
  const now = 1_800_000_000_000;
  const note = firstRunNote({
    setupMs: now - 800,
    startMs: now,
    task: "npx -y deno@2.9.6 task bench",
  });
  assert.match(note!, /^fmbench: first run in this checkout: Deno has unpacked the npm packages/);
  assert.match(note!, /`npx -y deno@2\.9\.6 task -q bench` hides Deno's own lines/);
  assert.equal(
    firstRunNote({ setupMs: now - 3_600_000, startMs: now, task: "deno task bench" }),
    undefined,
  );
  assert.equal(
    firstRunNote({ setupMs: undefined, startMs: now, task: "deno task bench" }),
    undefined,
  );
});

Deno.test("deno.json: the npm install scripts fmbench does not need are denied (no approve-scripts box)", () => {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  assert.deepEqual(config.allowScripts?.deny, ["npm:@tensorflow/tfjs-node-gpu", "npm:core-js"]);
  // The launcher reads the environment variables that tell how the user runs tasks.
  for (const task of ["bench", "bench:gpu", "report", "fid:weights"]) {
    const env = /--allow-env=(\S+)/.exec(config.tasks[task])![1].split(",");
    for (const v of ["FMBENCH_TASK_RUNNER", "npm_lifecycle_event", "npm_command", "PATH"]) {
      assert.ok(env.includes(v), `${task} grants ${v}`);
    }
  }
});

Deno.test("flags: a misspelled flag gets the closest valid one", () => {
  const names = Object.keys(FLAGS);
  for (
    const [typo, want] of [
      ["stepz", "steps"],
      ["sample", "samples"],
      ["job", "jobs"],
      ["datset", "datasets"],
      ["no-reprot", "no-report"],
      ["methds", "methods"],
      ["out-dir", "out"],
    ]
  ) {
    assert.equal(didYouMean(typo, names), want, typo);
  }
  assert.equal(didYouMean("xyz", names), undefined);
  assert.equal(didYouMean("q", names), undefined);
  const e = flagError(new Error("Unknown option '--stepz'"), names);
  assert.match(e.message, /^unknown flag --stepz: did you mean --steps\?\nvalid flags: --suite/);
});

Deno.test("grants: report writes the run folder it re-renders, or the merge output", () => {
  assert.deepEqual(reportLaunch(["/runs/a"], ctx()).writes, ["/runs/a"]);
  assert.deepEqual(reportLaunch(["/runs/a/results.json"], ctx()).writes, ["/runs/a"]);
  const m = reportLaunch(["--merge", "/s0", "/s1", "--out", "/m"], ctx());
  assert.deepEqual(m.writes, ["/m"]);
  const dm = reportLaunch(["--merge", "/s0"], ctx());
  assert.deepEqual(dm.writes, ["/repo/runs/merged-2026-01-02T03-04-05Z"]);
  assert.deepEqual(dm.args.slice(-2), ["--out", "runs/merged-2026-01-02T03-04-05Z"]);
  assert.deepEqual(reportLaunch(["--help"], ctx()).writes, []);
  assert.deepEqual(reportLaunch(["a", "b"], ctx()).writes, [], "usage error: nothing to write");
});

Deno.test("grants: SUITE_NEEDS matches the suites (kept apart so the launcher loads no tfjs)", () => {
  assert.deepEqual(Object.keys(SUITE_NEEDS).sort(), Object.keys(SUITES).sort());
  for (const [name, s] of Object.entries(SUITES)) {
    assert.equal(SUITE_NEEDS[name].dataDir, s.kind === "image", name);
  }
  const [cifar, weights] = SUITE_NEEDS.cifar10.downloads;
  assert.deepEqual(cifar.hosts, [new URL(CIFAR10_URL).host]);
  assert.deepEqual(cifar.unlessPresent, [CIFAR10_FOLDER]);
  assert.equal(weights, INCEPTION_DOWNLOAD);
  assert.deepEqual(INCEPTION_DOWNLOAD.hosts, INCEPTION_HOSTS);
  assert.deepEqual(INCEPTION_DOWNLOAD.unlessPresent, [INCEPTION_PTH, INCEPTION_SAFETENSORS]);
  assert.equal(INCEPTION_DOWNLOAD.envFile, INCEPTION_ENV);
});

Deno.test("permission errors become one line naming what this run may write", () => {
  const e = new Deno.errors.NotCapable(
    'Requires write access to "/tmp/y/results.json", run again with the --allow-write flag',
  );
  const prev = Deno.env.get("FMBENCH_WRITABLE");
  Deno.env.set("FMBENCH_WRITABLE", JSON.stringify(["/tmp/x"]));
  try {
    const m = permissionMessage(e, "bench");
    assert.ok(!m.includes("\n"));
    assert.ok(!/run again with/.test(m), "no advice a deno task user cannot follow");
    assert.match(m, /Requires write access to "\/tmp\/y\/results.json"/);
    assert.match(m, /may write only \/tmp\/x/);
    assert.match(m, /--out folder and the --data-dir/);
    // Deno's special folders need --allow-all: said, with what to do instead.
    const dev = permissionMessage(
      new Deno.errors.NotCapable(
        'Requires all access to "/dev/shm/x/results.json", run again with the --allow-all flag',
      ),
      "bench",
    );
    assert.ok(!dev.includes("\n") && !/run again with/.test(dev), dev);
    assert.match(
      dev,
      /only with --allow-all, which the tasks do not grant; use a folder elsewhere/,
    );
  } finally {
    if (prev === undefined) Deno.env.delete("FMBENCH_WRITABLE");
    else Deno.env.set("FMBENCH_WRITABLE", prev);
  }
});

/** Run a command; returns its exit code and its stdout + stderr. */
async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

const TINY = [
  "--datasets",
  "moons",
  "--methods",
  "FM w/ OT",
  "--solvers",
  "euler,dopri5",
  "--steps",
  "5",
  "--samples",
  "32",
  "--nll-points",
  "8",
  "--backend",
  "wasm",
  "--no-report",
];

Deno.test("launcher: a run with --out outside runs/ writes there; a folder it was not given is one line", async () => {
  const out = resolve(await Deno.makeTempDir({ prefix: "fmbench-launch-" }), "out");
  const launcher = [
    "run",
    "--allow-read",
    "--allow-env=FMBENCH_DATA_DIR",
    `--allow-run=${Deno.execPath()}`,
    `${ROOT}cli/launch.ts`,
    "bench",
  ];
  const ok = await run([...launcher, ...TINY, "--out", out]);
  assert.equal(ok.code, 0, ok.text);
  assert.ok((await Deno.stat(`${out}/results.json`)).isFile);
  const usage = await run([...launcher, "--lr", "0"]);
  assert.equal(usage.code, 2, "the launcher passes the real CLI's exit code on");
  assert.match(usage.text, /error: --lr must be a number > 0, got "0"/);
  // The real CLI with a grant for another folder: the refusal is one line, not a stack trace.
  const denied = await run([
    "run",
    "--no-prompt",
    "--allow-read",
    "--allow-env",
    "--allow-run=git",
    `--allow-write=${out}`,
    `${ROOT}cli/bench.ts`,
    ...TINY,
    "--out",
    `${out}-elsewhere`,
  ]);
  assert.equal(denied.code, 1, denied.text);
  assert.match(
    denied.text,
    /error: --out .*-elsewhere cannot be written: not permitted: Requires write access to ".*-elsewhere"/,
  );
  assert.ok(!/^\s+at /m.test(denied.text), `no stack trace:\n${denied.text}`);
  await Deno.remove(resolve(out, ".."), { recursive: true });
});

Deno.test("deno task bench --help: the usage line in the form the user ran (npx or deno task)", async () => {
  const npx = await run(["task", "bench", "--help"], { npm_lifecycle_event: "npx" });
  assert.equal(npx.code, 0, npx.text);
  assert.match(npx.text, /^Usage: npx -y deno@\d+\.\d+\.\d+ task bench \[flags\]$/m);
  const plain = await run(["task", "bench", "--help"], {
    npm_lifecycle_event: "",
    npm_command: "",
  });
  // "deno" where a deno is on the PATH (as for whoever runs these tests), else its full path.
  const runner = detectTaskRunner({
    execPath: Deno.execPath(),
    version: Deno.version.deno,
    env: (n) => n === "PATH" ? Deno.env.get("PATH") : undefined,
  });
  assert.ok(plain.text.includes(`\nUsage: ${runner} task bench [flags]\n`), plain.text);
  // The per-suite defaults of the flags that depend on the suite.
  assert.match(plain.text, /^ {2}toy2d --budget default +1000 +256 +2e-3 +500 /m);
  assert.match(plain.text, /^ {2}cifar10 --budget quick +40 +16 +2e-4 +32 /m);
  // A misspelled flag through the launcher: exit 2 and the closest flag.
  const typo = await run(["task", "bench", "--stepz", "3"]);
  assert.equal(typo.code, 2, typo.text);
  assert.match(typo.text, /unknown flag --stepz: did you mean --steps\?/);
  // A folder under /dev: refused by the launcher, with the reason and what to use.
  const dev = await run(["task", "bench", "--out", "/dev/shm/fmbench-x"]);
  assert.equal(dev.code, 2, dev.text);
  assert.match(dev.text, /is under \/dev, where Deno lets a program write only with --allow-all/);
});
