// An unexpected error's advice names only what works: under each task's own grants, the message
// offers FMBENCH_DEBUG=1 only where that variable is readable, and setting it then prints the
// stack trace (issue 23: `deno task report` advised a variable it could not read).
import assert from "node:assert/strict";
import { join } from "node:path";
import { MODES } from "../cli/launch.ts";

const EXPLAIN = new URL("../cli/explain-error.ts", import.meta.url).href;

/** unexpectedMessage(new Error("boom")) as printed by a process with `permissions`. */
async function messageUnder(permissions: string[], debug: boolean): Promise<string> {
  const dir = await Deno.makeTempDir();
  const probe = join(dir, "probe.ts");
  await Deno.writeTextFile(
    probe,
    `import { unexpectedMessage } from "${EXPLAIN}";\n` +
      `console.log(unexpectedMessage(new Error("boom")));\n`,
  );
  const env: Record<string, string> = { FMBENCH_DEBUG: debug ? "1" : "" };
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--no-config", ...permissions, probe],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return text;
}

Deno.test("unexpected errors: every task's advice works under that task's grants", async () => {
  const tmp = await Deno.makeTempDir();
  const argv: Record<string, string[]> = {
    bench: ["--out", tmp],
    "bench:gpu": ["--out", tmp],
    report: [tmp],
    "fid:weights": ["--data-dir", tmp],
    "metrics:weights": ["--data-dir", tmp],
  };
  const ctx = { cwd: tmp, env: () => undefined, exists: () => true, now: new Date() };
  assert.deepEqual(Object.keys(argv).sort(), Object.keys(MODES).sort(), "every task is covered");
  for (const [mode, args] of Object.entries(argv)) {
    const { permissions } = MODES[mode](args, ctx);
    const plain = await messageUnder(permissions, false);
    const debug = await messageUnder(permissions, true);
    assert.match(plain, /^boom \(unexpected; /, mode);
    if (/FMBENCH_DEBUG/.test(plain)) {
      assert.match(debug, /^Error: boom\n\s+at /, `${mode}: FMBENCH_DEBUG=1 prints the trace`);
    } else {
      assert.equal(debug, plain, `${mode}: no advice, and the variable is not read`);
    }
    // report (the task issue 23 found) now reads the variable its advice names.
    if (mode === "report") assert.match(plain, /FMBENCH_DEBUG=1/);
  }
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("unexpected errors: without the variable granted, the advice does not name it", async () => {
  const plain = await messageUnder(["--allow-read"], true);
  assert.equal(plain, "boom (unexpected; please report it with the command that caused it)");
});
