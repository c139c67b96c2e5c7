// What the documents say matches the code: straightness is measured along explicit-Euler
// trajectories with the budget's straightnessSteps in the code, the README and the report, and
// the report's "Command" reproduces the run.
import assert from "node:assert/strict";
import { CIFAR_BUDGETS } from "../harness/suites/cifar10.ts";
import { TOY2D_EVAL } from "../harness/suites/toy2d.ts";
import { renderReport } from "../reports/render.ts";
import { buildFixture } from "./fixtures.ts";

const README = await Deno.readTextFile(new URL("../README.md", import.meta.url));
const RUN_TS = await Deno.readTextFile(new URL("../harness/run.ts", import.meta.url));

/** The text of the <dd> after <dt>{term}</dt> in the report, tags stripped, entities decoded. */
function definition(html: string, term: string): string {
  const m = new RegExp(`<dt>${term}</dt><dd>([\\s\\S]*?)</dd>`).exec(html);
  assert.ok(m, `the report defines ${term}`);
  return m[1].replace(/<[^>]+>/g, "").replace(/&#39;/g, "'").replace(/&amp;/g, "&")
    .replace(/\s+/g, " ").trim();
}

/** The README's Metrics bullet on straightness, joined into one line. */
function readmeStraightness(): string {
  const m = /^- \*\*Straightness\*\*[\s\S]*?(?=\n- |\n\n)/m.exec(README);
  assert.ok(m, "README has a Straightness bullet under Metrics");
  return m[0].replace(/\s+/g, " ");
}

Deno.test("straightness: code, README and report all say explicit-Euler with the budget's steps", () => {
  // The code: the run measures it with flowStraightness (uniform explicit Euler, see
  // tests/straightness_test.ts) and the suite's straightnessSteps.
  assert.match(
    RUN_TS,
    /flowStraightness(?:Stats)?\(\{\s*field: vf,\s*x0,\s*steps: cfg\.eval\.straightnessSteps,/,
  );
  const steps = {
    toy2d: TOY2D_EVAL.straightnessSteps,
    ...Object.fromEntries(
      Object.entries(CIFAR_BUDGETS).map(([k, b]) => [k, b.eval.straightnessSteps]),
    ),
  };
  assert.deepEqual(steps, {
    toy2d: 100,
    quick: 4,
    small: 100,
    paper: 100,
    torchcfm: 100,
    lipman: 100,
  });

  const readme = readmeStraightness();
  assert.match(readme, /explicit-Euler trajectories/);
  assert.match(
    readme,
    /100 steps for toy2d and the CIFAR-10 `small` and `paper` budgets, 4 for `quick`/,
  );
  assert.doesNotMatch(readme, /dopri5|adaptive/);

  const html = renderReport(buildFixture());
  const about = definition(html, "Straightness");
  assert.match(about, /explicit-Euler trajectories \(100 steps\)/);
  assert.doesNotMatch(about, /dopri5|adaptive/);
  assert.match(html, /<td class="num[^"]*" title="[^"]*explicit-Euler trajectories \(100 steps\)/);
});

Deno.test("report: the Command row reproduces the run, also a default one", () => {
  const command = (argv: string[]) => {
    const results = buildFixture();
    results.manifest.argv = argv;
    return definition(renderReport(results), "Command");
  };
  assert.equal(command([]), "deno task bench");
  assert.equal(
    command(["--methods", "FM w/ OT", "--steps", "300"]),
    "deno task bench --methods 'FM w/ OT' --steps 300",
  );
});
