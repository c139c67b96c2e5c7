// Searches sRGB for a set of colours whose smallest pairwise CIEDE2000 distance is as large as
// possible (lightness 30-78, so dots and lines show on white), seeded with given colours; prints
// them. How reports/colors.ts's METHOD_COLORS and EXTRA_COLORS were chosen:
//   deno run scripts/palette.ts 22 "#4269d0"
import { colorDistance, hexToLab } from "../reports/color-distance.ts";

const count = Number(Deno.args[0] ?? 22);
const seeds = Deno.args.slice(1);
const hex = (r: number, g: number, b: number) =>
  `#${[r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("")}`;
const candidates: string[] = [];
for (let r = 0; r < 256; r += 15) {
  for (let g = 0; g < 256; g += 15) {
    for (let b = 0; b < 256; b += 15) {
      const c = hex(r, g, b), lab = hexToLab(c);
      if (lab.L >= 30 && lab.L <= 78 && Math.hypot(lab.a, lab.b) >= 20) candidates.push(c);
    }
  }
}
const minTo = (c: string, set: string[]) => Math.min(...set.map((s) => colorDistance(c, s)));
// Greedy: each next colour is the candidate farthest from those chosen.
const chosen = [...seeds];
if (!chosen.length) chosen.push(candidates[0]);
while (chosen.length < count) {
  let best = candidates[0], bestD = -1;
  for (const c of candidates) {
    const d = minTo(c, chosen);
    if (d > bestD) (best = c, bestD = d);
  }
  chosen.push(best);
}
// Local search: move the colour of the closest pair to the candidate that raises the minimum.
const minimum = (set: string[]) => {
  let m = Infinity, pair = [0, 1];
  for (let i = 0; i < set.length; i++) {
    for (let j = i + 1; j < set.length; j++) {
      const d = colorDistance(set[i], set[j]);
      if (d < m) (m = d, pair = [i, j]);
    }
  }
  return { m, pair };
};
for (let round = 0; round < 200; round++) {
  const { m, pair } = minimum(chosen);
  let improved = false;
  for (const k of pair) {
    if (k < seeds.length) continue;
    const others = chosen.filter((_, i) => i !== k);
    let best = chosen[k], bestD = minTo(chosen[k], others);
    for (const c of candidates) {
      const d = minTo(c, others);
      if (d > bestD) (best = c, bestD = d);
    }
    if (bestD > m + 1e-9 && best !== chosen[k]) {
      chosen[k] = best;
      improved = true;
      break;
    }
  }
  if (!improved) break;
}
console.log(JSON.stringify(chosen));
console.log(`smallest pairwise CIEDE2000: ${minimum(chosen).m.toFixed(2)}`);
