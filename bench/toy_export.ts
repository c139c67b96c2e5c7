// Write a toy2d data set's training points (the exact set fmbench trains on) as raw float32, so a
// PyTorch reference (bench/toy_torch_train.py) trains on the same data.
import { parseArgs } from "node:util";
import { loadToy2d } from "../harness/data/toy2d.ts";
import { TOY2D_DATA } from "../harness/suites/toy2d.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    dataset: { type: "string", default: "moons" },
    seed: { type: "string", default: "0" },
    out: { type: "string" },
  },
});
if (!v.out) {
  console.error("usage: deno run -A bench/toy_export.ts --dataset moons [--seed 0] --out FILE.f32");
  Deno.exit(2);
}
const split = loadToy2d(v.dataset!, TOY2D_DATA.nTrain, TOY2D_DATA.nTest, Number(v.seed));
await Deno.writeFile(v.out, new Uint8Array(split.train.buffer));
console.log(`${v.out}: ${split.nTrain} points of ${v.dataset} (seed ${v.seed}), float32 x, y`);
