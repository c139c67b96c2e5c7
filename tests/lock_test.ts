// The run lock: a second process on the same output folder is refused with the holder's PID; a
// lock left by a killed process (SIGKILL) is taken over; Ctrl-C on a real bench run releases it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../cli/bench.ts";
import { acquireRunLock, LOCK_FILE, LockHeldError } from "../store/lock.ts";
import { pathExists } from "../store/path-exists.ts";

const HOLDER = new URL("./helpers/hold-lock.ts", import.meta.url).pathname;
const BENCH = new URL("../cli/bench.ts", import.meta.url).pathname;

/** Start a process holding the lock of `dir`; resolves once it says so. */
async function holdLock(dir: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-sys=hostname", HOLDER, dir],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("locked")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`holder exited before locking: ${text}`);
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return child;
}

Deno.test("lock: a second process is refused with the holder's PID; a killed holder's lock is taken over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fmbench-lock-" });
  const holder = await holdLock(dir);
  try {
    await assert.rejects(
      () => acquireRunLock(dir),
      (e: unknown) => {
        assert.ok(e instanceof LockHeldError);
        assert.equal(e.holder?.pid, holder.pid);
        assert.match(e.message, new RegExp(`PID ${holder.pid}\\b`));
        assert.match(e.message, /started \d{4}-\d\d-\d\dT.*hold-lock\.ts/);
        return true;
      },
    );
  } finally {
    holder.kill("SIGKILL");
    await holder.status;
  }
  const left = JSON.parse(await Deno.readTextFile(join(dir, LOCK_FILE)));
  assert.equal(left.pid, holder.pid, "SIGKILL leaves the holder's record behind");
  const lines: string[] = [];
  const lock = await acquireRunLock(dir, { log: (l) => lines.push(l) });
  assert.equal(lock.info.pid, Deno.pid);
  assert.match(lines.join("\n"), new RegExp(`left by PID ${holder.pid}.*no longer holds it`));
  // A second lock in this same process is refused too, naming this process.
  await assert.rejects(() => acquireRunLock(dir), new RegExp(`PID ${Deno.pid}\\b`));
  lock.release();
  assert.equal(await Deno.readTextFile(join(dir, LOCK_FILE)), "", "released cleanly: empty");
  const again: string[] = [];
  (await acquireRunLock(dir, { log: (l) => again.push(l) })).release();
  assert.deepEqual(again, [], "nothing to take over after a clean release");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("lock: the bench CLI refuses a folder another process holds and names that process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fmbench-lock-" });
  const holder = await holdLock(dir);
  const err: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  let code;
  try {
    code = await main([
      "--datasets",
      "moons",
      "--methods",
      "FM w/ OT",
      "--solvers",
      "euler,dopri5",
      "--steps",
      "2",
      "--backend",
      "cpu",
      "--out",
      dir,
    ]);
  } finally {
    console.error = error;
    holder.kill("SIGKILL");
    await holder.status;
  }
  assert.equal(code, 1);
  const line = err.find((l) => l.startsWith("error:"))!;
  assert.match(line, new RegExp(`in use by another fmbench run \\(PID ${holder.pid}`));
  assert.ok(!(await pathExists(join(dir, "results.json"))), "nothing was written");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("lock: Ctrl-C on a real bench run exits 130 and releases the lock", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fmbench-lock-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-run=git",
      "--allow-sys=hostname",
      `--allow-write=${dir}`,
      BENCH,
      "--datasets",
      "moons",
      "--methods",
      "FM w/ OT",
      "--solvers",
      "euler,dopri5",
      "--steps",
      "100000",
      "--backend",
      "cpu",
      "--out",
      dir,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lockPath = join(dir, LOCK_FILE);
  const held = async () =>
    (await pathExists(lockPath)) && (await Deno.readTextFile(lockPath)) !== "";
  const t0 = Date.now();
  while (!(await held()) && Date.now() - t0 < 120_000) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const info = JSON.parse(await Deno.readTextFile(lockPath));
  assert.equal(info.pid, child.pid, "the run took the lock");
  await assert.rejects(() => acquireRunLock(dir), LockHeldError, "held while it runs");
  child.kill("SIGINT");
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
  ]);
  assert.equal(status.code, 130, stderr);
  assert.match(stderr, /^interrupted by Ctrl-C \(SIGINT\)/m);
  assert.equal(await Deno.readTextFile(lockPath), "", "released cleanly on Ctrl-C");
  const after: string[] = [];
  (await acquireRunLock(dir, { log: (l) => after.push(l) })).release();
  assert.deepEqual(after, []);
  await Deno.remove(dir, { recursive: true });
});
