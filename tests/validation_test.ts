// Input validation at the CLI: plugin folders that do not exist, non-positive learning rates,
// plugin names defined twice (both files named, neither used, the run refused).
import assert from "node:assert/strict";
import { main } from "../cli/bench.ts";
import { num } from "../cli/flags.ts";
import { BUILTIN_PLUGINS, discoverPlugins } from "../harness/registry.ts";
import { SQUARE_PATH, tempPluginRoot } from "./helpers/plugins.ts";
import { captureConsole } from "./helpers/console.ts";

const NEVER = ["--out", "/nonexistent/never-written"];

Deno.test("validation: --plugins must be an existing folder with plugin sub-folders", async () => {
  const file = await Deno.makeTempFile();
  const empty = await Deno.makeTempDir();
  const cases: Array<[string, RegExp]> = [
    ["/nonexistent/plugins", /--plugins \/nonexistent\/plugins: no such folder .*paths\//],
    [file, /: not a folder/],
    [empty, /has none of the plugin sub-folders paths\/, couplings\//],
  ];
  for (const [dir, re] of cases) {
    const r = await captureConsole(() => main(["--plugins", dir, ...NEVER]));
    assert.equal(r.value, 2, r.err);
    assert.match(r.err, re);
    assert.equal(r.err.trim().split("\n").length, 1, "one line");
  }
  await Deno.remove(file);
  await Deno.remove(empty);
});

Deno.test("validation: learning rates must be > 0", async () => {
  for (const lr of ["0", "-1e-3", "abc", ""]) {
    const r = await captureConsole(() => main([`--lr=${lr}`, ...NEVER]));
    assert.equal(r.value, 2, `--lr ${lr}`);
    assert.match(r.err, new RegExp(`--lr must be a number > 0, got "${lr}"`));
  }
  assert.equal(num("2e-4", "lr", { above: 0 }), 2e-4);
  assert.equal(num("0", "minutes", { min: 0 }), 0, "inclusive bounds still accept the bound");
});

Deno.test("validation: a dropped-in file reusing a built-in name: both named, neither used, run refused", async () => {
  const root = await tempPluginRoot({
    "a-my-ot.ts": SQUARE_PATH.replace(`name: "square-ot"`, `name: "cond-ot"`),
  });
  const reg = await discoverPlugins([BUILTIN_PLUGINS, root]);
  assert.equal(reg.paths.has("cond-ot"), false, "neither definition is used");
  assert.equal(reg.conflicts.length, 1);
  const c = reg.conflicts[0];
  assert.equal(c.name, "cond-ot");
  assert.equal(c.files.length, 2);
  assert.ok(c.files.some((f) => f.endsWith("plugins/paths/cond-ot.ts")));
  assert.ok(c.files.some((f) => f.endsWith("a-my-ot.ts")));
  for (const f of c.files) {
    const failure = reg.failures.find((x) => x.file === f);
    assert.ok(failure, `${f} is reported`);
    const other = c.files.find((o) => o !== f)!;
    assert.ok(failure.reason.includes(other), "each report names the other file");
  }
  const dir = decodeURIComponent(root.pathname);
  const r = await captureConsole(() => main(["--plugins", dir, ...NEVER]));
  assert.equal(r.value, 2);
  assert.match(
    r.err,
    /paths "cond-ot": .*(cond-ot\.ts and .*a-my-ot\.ts|a-my-ot\.ts and .*cond-ot\.ts)/,
  );
  const list = await captureConsole(() => main(["--plugins", dir, "--list"]));
  assert.equal(list.value, 0, "--list still works, to see the conflict");
  await Deno.remove(dir, { recursive: true });
});
