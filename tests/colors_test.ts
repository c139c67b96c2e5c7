// Method colours: every built-in method (named, and the auto method of every built-in path) has a
// fixed colour, and every two colours of the palette (built-in and extra) are clearly distinct by
// CIEDE2000, whose implementation is checked against Sharma, Wu and Dalal's published test data.
import assert from "node:assert/strict";
import { BUILTIN_PLUGINS, discoverPlugins } from "../mod.ts";
import { NAMED_METHODS, resolveMethods } from "../harness/methods.ts";
import { ciede2000, colorDistance, hexToLab } from "../reports/color-distance.ts";
import { colorsFor, EXTRA_COLORS, METHOD_COLORS, MIN_COLOR_DISTANCE } from "../reports/colors.ts";

// Sharma, Wu and Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes,
// supplementary test data and mathematical observations", Table 1 (a selection of the 34 pairs).
const SHARMA: Array<[[number, number, number], [number, number, number], number]> = [
  [[50, 2.6772, -79.7751], [50, 0, -82.7485], 2.0425],
  [[50, 3.1571, -77.2803], [50, 0, -82.7485], 2.8615],
  [[50, 2.8361, -74.02], [50, 0, -82.7485], 3.4412],
  [[50, -1.3802, -84.2814], [50, 0, -82.7485], 1.0],
  [[50, 0, 0], [50, -1, 2], 2.3669],
  [[50, 2.49, -0.001], [50, -2.49, 0.0009], 7.1792],
  [[50, 2.49, -0.001], [50, -2.49, 0.0011], 7.2195],
  [[50, -0.001, 2.49], [50, 0.0009, -2.49], 4.8045],
  [[50, 2.5, 0], [73, 25, -18], 27.1492],
  [[50, 2.5, 0], [61, -5, 29], 22.8977],
  [[50, 2.5, 0], [56, -27, -3], 31.903],
  [[50, 2.5, 0], [58, 24, 15], 19.4535],
  [[60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644],
  [[63.0109, -31.0961, -5.8663], [62.8187, -29.7946, -4.0864], 1.263],
  [[35.0831, -44.1164, 3.7933], [35.0232, -40.0716, 1.5901], 1.8645],
  [[22.7233, 20.0904, -46.694], [23.0331, 14.973, -42.5619], 2.0373],
  [[90.9257, -0.5406, -0.9208], [88.6381, -0.8985, -0.7239], 1.5381],
  [[2.0776, 0.0795, -1.135], [0.9033, -0.0636, -0.5514], 0.9082],
];

Deno.test("CIEDE2000 matches Sharma et al.'s test data to 1e-4, both ways round", () => {
  const lab = ([L, a, b]: [number, number, number]) => ({ L, a, b });
  for (const [p, q, want] of SHARMA) {
    assert.ok(Math.abs(ciede2000(lab(p), lab(q)) - want) < 1e-4, `${p} vs ${q}: ${want}`);
    assert.ok(Math.abs(ciede2000(lab(q), lab(p)) - want) < 1e-4, "symmetric");
  }
  // sRGB to CIELAB (D65): white, black and pure red (53.24, 80.09, 67.20).
  assert.ok(Math.abs(hexToLab("#ffffff").L - 100) < 1e-3);
  assert.ok(Math.abs(hexToLab("#000").L) < 1e-9);
  const red = hexToLab("#ff0000");
  assert.ok(Math.abs(red.L - 53.24) < 0.01 && Math.abs(red.a - 80.09) < 0.01);
  assert.ok(Math.abs(red.b - 67.2) < 0.01);
  assert.throws(() => hexToLab("red"), /not a hex colour: "red"/);
});

Deno.test("colours: every built-in method has its own colour", async () => {
  const reg = await discoverPlugins([BUILTIN_PLUGINS]);
  const builtIn = new Set([
    ...NAMED_METHODS.map((m) => m.label),
    ...resolveMethods(reg).map((m) => m.label),
  ]);
  const missing = [...builtIn].filter((m) => !(m in METHOD_COLORS));
  assert.deepEqual(missing, [], "built-in methods without a fixed colour");
  assert.ok(builtIn.size >= 12, `${builtIn.size} built-in methods`);
});

Deno.test(`colours: every two of the palette are >= ${MIN_COLOR_DISTANCE} apart (CIEDE2000)`, () => {
  const palette = [
    ...Object.entries(METHOD_COLORS),
    ...EXTRA_COLORS.map((c, i) => [`extra ${i}`, c] as [string, string]),
  ];
  const close: string[] = [];
  let smallest = Infinity;
  for (let i = 0; i < palette.length; i++) {
    for (let j = i + 1; j < palette.length; j++) {
      const d = colorDistance(palette[i][1], palette[j][1]);
      smallest = Math.min(smallest, d);
      if (d < MIN_COLOR_DISTANCE) {
        close.push(`${palette[i][0]} / ${palette[j][0]}: ${d.toFixed(1)}`);
      }
    }
  }
  assert.deepEqual(close, []);
  assert.ok(smallest >= MIN_COLOR_DISTANCE, `smallest distance ${smallest}`);
  // On a white page: no colour too light to see (L* <= 80).
  for (const [name, c] of palette) assert.ok(hexToLab(c).L <= 80, `${name} ${c} is too light`);
});

Deno.test("colours: extra methods of one report get distinct palette colours", () => {
  const names = Array.from({ length: EXTRA_COLORS.length }, (_, i) => `FM w/ OT + plugin-${i}`);
  const colors = colorsFor([...names, "FM w/ OT", "OT-CFM"]);
  const used = names.map((n) => colors.get(n)!);
  assert.equal(new Set(used).size, names.length, "no two extras share a colour");
  for (const c of used) assert.ok(EXTRA_COLORS.includes(c));
  assert.equal(colors.get("OT-CFM"), METHOD_COLORS["OT-CFM"]);
});
