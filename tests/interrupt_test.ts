// Ctrl-C in the middle of training (not only before it) stops a real bench run with exit 130:
// the training loop gives the event loop a turn, so the SIGINT handler runs on CPU backends too.
import assert from "node:assert/strict";

const BENCH = new URL("../cli/bench.ts", import.meta.url).pathname;

Deno.test("interrupt: SIGINT during training exits 130 with the resume hint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fmbench-int-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-run=git",
      "--allow-sys=hostname",
      `--allow-write=${dir}`,
      BENCH,
      ...["--datasets", "moons", "--methods", "FM w/ OT", "--solvers", "euler,dopri5"],
      ...["--steps", "100000", "--backend", "cpu", "--out", dir],
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  // A progress line (printed every 10 s off a terminal) means training is under way.
  while (!/\d+\/100000 loss/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  assert.match(text, /\d+\/100000 loss/, "training started");
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const status = await child.status;
  clearTimeout(timer);
  assert.equal(
    status.code,
    130,
    `not interrupted in time (signal ${status.signal}): ${text.slice(-300)}`,
  );
  assert.match(text, /interrupted: completed runs are in/);
  await Deno.remove(dir, { recursive: true });
});
