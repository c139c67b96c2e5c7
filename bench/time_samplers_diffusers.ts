// fmbench's SD3 time samplers (logit-normal, mode, uniform) against diffusers'
// compute_density_for_timestep_sampling: the same torch base draws transformed by both, and the
// percentiles of a large diffusers sample against fmbench's CDF (a DKW band).
//
//   deno run -A bench/time_samplers_diffusers.ts --diffusers GIT_DIR   # record the fixture
//   deno run -A bench/time_samplers_diffusers.ts                       # compare with it
//
// GIT_DIR is a bare clone of huggingface/diffusers (e.g. the `fetch` tool's mirror); its
// src/diffusers/training_utils.py is extracted to a temporary folder and run by
// bench/time_samplers_diffusers.py with /usr/bin/python3 (torch only), never copied into fmbench.
// The fixture is tests/fixtures/time-samplers-diffusers.json, which
// tests/time_samplers_diffusers_test.ts checks.
import { parseArgs } from "node:util";
import { BUILTIN_PLUGINS, discoverPlugins, type Registry } from "../harness/registry.ts";
import { bindTimeSampler, parseTimeSampler } from "../harness/time-samplers.ts";
import { normalCdf } from "../core/normal.ts";

const FIXTURE = new URL("../tests/fixtures/time-samplers-diffusers.json", import.meta.url);
const SCRIPT = new URL("./time_samplers_diffusers.py", import.meta.url);
/** Same base draws: diffusers computes in float32, fmbench in float64. */
export const SAME_DRAW_TOLERANCE = 1e-6;
/** The DKW band's level: a correct sampler leaves it with probability at most 1e-3. */
export const DKW_ALPHA = 1e-3;

interface FixtureCase {
  scheme: "logit_normal" | "mode" | "none";
  params: { logit_mean?: number; logit_std?: number; mode_scale?: number };
  seeds: Array<{ seed: number; base: number[]; diffusers: number[] }>;
  percentiles: { n: number; seed: number; probs: number[]; values: number[] };
}

/** The recorded answers of diffusers, with where they came from. */
export interface DiffusersFixture {
  source: { repository: string; commit: string; file: string };
  torch: string;
  cases: FixtureCase[];
}

/** One scheme's comparison. */
export interface DiffusersComparison {
  scheme: string;
  /** The fmbench time sampler spec with the same definition. */
  spec: string;
  /** Largest |fmbench - diffusers| over the same base draws of every seed. */
  sameDraws: number;
  draws: number;
  /** Largest |F_fmbench(q_p) - p| over diffusers' percentiles q_p of a large sample. */
  percentileGap: number;
  /** The DKW band for that sample at DKW_ALPHA: sqrt(ln(2 / alpha) / (2 n)). */
  band: number;
}

/** The fmbench spec of a diffusers scheme, and how its base draw becomes fmbench's u. */
function mapping(c: FixtureCase): { spec: string; u: (base: number) => number } {
  const p = c.params;
  if (c.scheme === "logit_normal") {
    // diffusers' u (their sigma = 1 - u) is fmbench's t: location = logit_mean.
    return {
      spec: `logit-normal:location=${p.logit_mean}:scale=${p.logit_std}`,
      u: (z) => normalCdf(z),
    };
  }
  // diffusers' mode is f(u); fmbench's quantile is 1 - f(u) = f(1 - u).
  if (c.scheme === "mode") return { spec: `mode:scale=${p.mode_scale}`, u: (b) => 1 - b };
  return { spec: "uniform", u: (b) => b };
}

/**
 * Compare fmbench's samplers with the recorded diffusers answers, on the cond-ot path (time
 * range [0, 1], so nothing is cut off).
 * @example
 * const rows = compareWithDiffusers(fixture, await discoverPlugins());
 */
export function compareWithDiffusers(
  fixture: DiffusersFixture,
  reg: Registry,
): DiffusersComparison[] {
  const path = reg.paths.get("cond-ot")!;
  return fixture.cases.map((c) => {
    const { spec, u } = mapping(c);
    const choice = parseTimeSampler(spec, { registry: reg, where: "bench" });
    const times = bindTimeSampler(choice, { registry: reg, path: path });
    let sameDraws = 0, draws = 0;
    for (const s of c.seeds) {
      s.base.forEach((b, i) => {
        sameDraws = Math.max(sameDraws, Math.abs(times.time(u(b)) - s.diffusers[i]));
        draws++;
      });
    }
    const cdf = reg.timeSamplers.get(choice.name)!.prepare({ path, params: choice.params }).cdf;
    const { n, probs, values } = c.percentiles;
    const percentileGap = Math.max(...probs.map((p, i) => Math.abs(cdf(values[i]) - p)));
    const band = Math.sqrt(Math.log(2 / DKW_ALPHA) / (2 * n));
    return {
      scheme: `${c.scheme} ${JSON.stringify(c.params)}`,
      spec,
      sameDraws,
      draws,
      percentileGap,
      band,
    };
  });
}

async function record(gitDir: string): Promise<void> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args: [`--git-dir=${gitDir}`, ...args] }).output();
    if (!out.success) {
      throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
    }
    return new TextDecoder().decode(out.stdout);
  };
  const file = "src/diffusers/training_utils.py";
  const commit = (await git("rev-parse", "HEAD")).trim();
  const tmp = await Deno.makeTempDir({ prefix: "fmbench-diffusers-" });
  try {
    await Deno.writeTextFile(`${tmp}/training_utils.py`, await git("show", `HEAD:${file}`));
    const py = await new Deno.Command("/usr/bin/python3", {
      args: [decodeURIComponent(SCRIPT.pathname), `${tmp}/training_utils.py`, `${tmp}/out.json`],
      cwd: tmp,
      stderr: "inherit",
    }).output();
    if (!py.success) throw new Error("bench/time_samplers_diffusers.py failed");
    const out = JSON.parse(await Deno.readTextFile(`${tmp}/out.json`));
    const fixture = { source: { repository: "huggingface/diffusers", commit, file }, ...out };
    await Deno.writeTextFile(FIXTURE, JSON.stringify(fixture, null, 2) + "\n");
    console.error(`wrote ${decodeURIComponent(FIXTURE.pathname)} (diffusers ${commit})`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { diffusers: { type: "string" } } });
  if (values.diffusers) await record(values.diffusers);
  const fixture = JSON.parse(await Deno.readTextFile(FIXTURE)) as DiffusersFixture;
  const rows = compareWithDiffusers(fixture, await discoverPlugins([BUILTIN_PLUGINS]));
  console.log(`diffusers ${fixture.source.commit.slice(0, 12)}, torch ${fixture.torch}`);
  let ok = true;
  for (const r of rows) {
    const pass = r.sameDraws <= SAME_DRAW_TOLERANCE && r.percentileGap <= r.band;
    ok &&= pass;
    console.log(
      `${pass ? "ok  " : "FAIL"} ${r.spec.padEnd(40)} same draws (${r.draws}): max |diff| ` +
        `${r.sameDraws.toExponential(2)}; percentiles of ${fixture.cases[0].percentiles.n}: ` +
        `max |F(q_p) - p| ${r.percentileGap.toExponential(2)} (DKW band ${
          r.band.toExponential(2)
        })`,
    );
  }
  Deno.exit(ok ? 0 : 1);
}
