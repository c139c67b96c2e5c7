// The README's quick start leads with the short look (with a measured time) before the full run
// and says what OpenBLAS is for and how to get it, every section that says `deno task` also gives
// the npx form, and every task it names exists.
import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

/** The README's `## ` sections, by title. */
function sections(): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of readme.split(/^## /m).slice(1)) {
    const nl = part.indexOf("\n");
    out.set(part.slice(0, nl).trim(), part.slice(nl + 1));
  }
  return out;
}

Deno.test("readme: the quick start runs the short look first, then the full run, with measured times", () => {
  const quick = sections().get("Quick start")!;
  const block = /```sh\n([\s\S]*?)```/.exec(quick)![1];
  const commands = block.split("\n").filter((l) => l.startsWith("npx "));
  assert.match(commands[0], /^npx -y deno@2\.9\.6 task bench --datasets moons --steps 300/);
  assert.equal(commands[1], "npx -y deno@2.9.6 task bench", "then the full run");
  assert.match(quick, /The short look takes .*\(measured.*\d+ s of wall\s+time and \d+ s of CPU/s);
  assert.match(
    quick,
    /full\s+run takes about \d+ minutes .*\(measured.*\d+ s of wall\s+time, \d+ s of CPU/s,
  );
  assert.match(
    quick.replace(/\s+/g, " "),
    /Ignored build scripts/,
    "the first-run box is explained",
  );
  assert.match(quick, /allowScripts/, "and why it no longer shows");
  assert.match(quick, /deno task -q/, "how to hide Deno's own first-run lines");
});

Deno.test("readme: the quick start says the native kernels need OpenBLAS and how to get it", () => {
  const quick = sections().get("Quick start")!.replace(/\s+/g, " ");
  assert.match(quick, /OpenBLAS/);
  assert.match(quick, /about 2\.8 times as long/);
  for (
    const install of [
      "sudo apt-get install libopenblas0",
      "sudo dnf install openblas-serial",
      "sudo pacman -S openblas",
      "brew install openblas",
    ]
  ) {
    assert.ok(quick.includes(install), install);
  }
});

Deno.test("readme: every section that says `deno task` also says the npx form works", () => {
  for (const [title, body] of sections()) {
    if (!/deno task /.test(body)) continue;
    assert.match(body, /npx -y deno@2\.9\.6 task/, `section "${title}"`);
  }
});

Deno.test("readme: every `deno task NAME` it mentions is a task in deno.json", () => {
  const tasks = new Set(Object.keys(denoJson.tasks));
  const named = [...readme.matchAll(/deno(?:@2\.9\.6)? task (?:-q )?([a-z][a-z:-]*)/g)]
    .map((m) => m[1]);
  assert.ok(named.length > 10);
  for (const n of named) assert.ok(tasks.has(n), `deno task ${n}`);
});
