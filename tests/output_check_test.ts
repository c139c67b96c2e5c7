// Up-front checks of the output folder: a folder that cannot be written is refused in one line
// before any training; the resume command reproduces the arguments.
import assert from "node:assert/strict";
import { main, resumeCommand } from "../cli/bench.ts";
import { commandLine, shellQuote } from "../results/command.ts";
import { taskRunner } from "../store/task-command.ts";
import { captureConsole } from "./helpers/console.ts";

const RUN = ["--datasets", "moons", "--steps", "5", "--samples", "16", "--backend", "cpu"];

Deno.test("output check: --out naming a file, or a folder under a file, is a usage error (exit 2) in one line before training", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/results.txt`;
  await Deno.writeTextFile(file, "not a folder");
  const cases: Array<[string, RegExp]> = [
    [file, /^error: --out .*results\.txt is a file, not a folder; give a new folder/],
    [`${file}/sub`, /^error: --out .*results\.txt\/sub cannot be written: /],
  ];
  for (const [out, re] of cases) {
    const r = await captureConsole(() => main([...RUN, "--out", out]));
    assert.equal(r.value, 2, r.err);
    assert.match(r.err, re);
    assert.equal(r.err.trim().split("\n").length, 1, `one line: ${r.err}`);
    assert.doesNotMatch(r.err, /backend|trained|fmbench toy2d/, "refused before any work");
  }
  assert.equal(await Deno.readTextFile(file), "not a folder", "the file is untouched");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("output check: a read-only folder is refused in one line", {
  // root writes through file modes, so the check needs an ordinary user.
  ignore: Deno.uid() === 0,
}, async () => {
  const dir = await Deno.makeTempDir();
  await Deno.chmod(dir, 0o555);
  try {
    const r = await captureConsole(() => main([...RUN, "--out", dir]));
    assert.equal(r.value, 1);
    assert.match(r.err, /^error: --out .* cannot be written: permission denied$/m);
  } finally {
    await Deno.chmod(dir, 0o755);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resume command: the same arguments, quoted for a shell, plus --out unless given", () => {
  assert.equal(shellQuote("moons"), "moons");
  assert.equal(shellQuote("FM w/ OT"), "'FM w/ OT'");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(commandLine([]), "deno task bench");
  // bench:gpu is recognised by its full --allow-sys (both tasks grant --allow-ffi).
  const task = Deno.permissions.querySync({ name: "sys", kind: "osRelease" }).state === "granted"
    ? "bench:gpu"
    : "bench";
  // In the form this process's user runs tasks ("deno", or "npx -y deno@X" under npx).
  const run = taskRunner();
  assert.equal(
    resumeCommand(["--methods", "FM w/ OT", "--steps", "200"], "runs/int"),
    `${run} task ${task} --methods 'FM w/ OT' --steps 200 --out runs/int`,
  );
  assert.equal(
    resumeCommand(["--out", "runs/a", "--steps", "2"], "runs/a"),
    `${run} task ${task} --out runs/a --steps 2`,
  );
  const npx = "npx -y deno@2.9.6";
  const before = Deno.env.get("FMBENCH_TASK_RUNNER");
  Deno.env.set("FMBENCH_TASK_RUNNER", npx); // what the launcher hands an npx user's CLI
  try {
    assert.equal(
      resumeCommand(["--steps", "2"], "runs/a"),
      `${npx} task ${task} --steps 2 --out runs/a`,
    );
  } finally {
    if (before === undefined) Deno.env.delete("FMBENCH_TASK_RUNNER");
    else Deno.env.set("FMBENCH_TASK_RUNNER", before);
  }
});
