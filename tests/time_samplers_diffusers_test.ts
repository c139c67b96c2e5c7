// fmbench's SD3 time samplers against diffusers' compute_density_for_timestep_sampling, recorded by
// bench/time_samplers_diffusers.ts: the same torch base draws give the same t (float32 rounding),
// and diffusers' percentiles of 200,000 draws lie within the DKW band of fmbench's CDF.
import assert from "node:assert/strict";
import { BUILTIN_PLUGINS, discoverPlugins } from "../harness/registry.ts";
import {
  compareWithDiffusers,
  type DiffusersFixture,
  SAME_DRAW_TOLERANCE,
} from "../bench/time_samplers_diffusers.ts";

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/time-samplers-diffusers.json", import.meta.url)),
) as DiffusersFixture;

Deno.test("SD3 samplers: diffusers' draws, transformed by fmbench, match; distributions agree", async () => {
  const rows = compareWithDiffusers(fixture, await discoverPlugins([BUILTIN_PLUGINS]));
  assert.deepEqual(rows.map((r) => r.spec), [
    "logit-normal:location=0:scale=1",
    "logit-normal:location=0.5:scale=0.6",
    "logit-normal:location=-1:scale=1.5",
    "mode:scale=1.29",
    "mode:scale=-0.5",
    "uniform",
  ]);
  for (const r of rows) {
    assert.equal(r.draws, 600);
    assert.ok(r.sameDraws <= SAME_DRAW_TOLERANCE, `${r.spec}: ${r.sameDraws}`);
    assert.ok(r.percentileGap <= r.band, `${r.spec}: ${r.percentileGap} > ${r.band}`);
  }
});

Deno.test("SD3 samplers: the comparison has power (a wrong location or scale is caught)", async () => {
  const reg = await discoverPlugins([BUILTIN_PLUGINS]);
  const shifted = structuredClone(fixture);
  shifted.cases[1].params.logit_mean = 0.45;
  shifted.cases[3].params.mode_scale = 1.2;
  const rows = compareWithDiffusers(shifted, reg);
  for (const i of [1, 3]) {
    assert.ok(
      rows[i].sameDraws > 100 * SAME_DRAW_TOLERANCE,
      `${rows[i].spec}: ${rows[i].sameDraws}`,
    );
    assert.ok(rows[i].percentileGap > rows[i].band, `${rows[i].spec}: ${rows[i].percentileGap}`);
  }
});
