// The bench CLI's --help text (separate from flags.ts, which must stay light for the launcher).
import { SUITES } from "../harness/suites/mod.ts";
import { FLAGS } from "./flags.ts";

/**
 * The text `deno task bench --help` prints.
 * @example
 * console.log(HELP); // "fmbench: train and compare flow-matching recipes\n\nUsage: ..."
 */
export const HELP = `fmbench: train and compare flow-matching recipes

Usage: deno task bench [flags]

  --suite NAME        ${
  Object.keys(SUITES).map((s) => s === FLAGS.suite.default ? `${s} (default)` : s).join(" | ")
}
  --budget NAME       cifar10: quick (default, any machine) | small (GPU, ~20 min/method) | paper
  --datasets LIST     comma list or "all" (default: the suite's defaults)
  --methods LIST      method labels, e.g. "FM w/ OT,1-RF" (default all)
  --paths LIST        keep methods using these paths (default all)
  --couplings LIST    keep methods using these couplings (default all)
  --losses LIST       keep methods using these losses (default all)
  --models LIST       model plugins, NAME or NAME:PRESET (default: the suite's model)
  --preset NAME       preset for every model (overrides NAME:PRESET)
  --solvers LIST      solver plugins (default all)
  --steps N           training steps per (method, model)
  --batch N           training batch size
  --lr X              Adam learning rate (> 0)
  --clip X            clip the global gradient norm to X (0 = off; toy2d default 0, cifar10 1)
  --micro-batch N     examples per forward/backward pass, gradients summed (0 = whole batch)
  --minutes X         wall-clock training budget per run (stops early; 0 = none)
  --samples N         generated samples per solver setting
  --high-res-samples N  toy2d: samples of the headline setting scored by the high-resolution W2
                      (and the size of each held-out draw of its floor band, 4 pairs); default
                      off; 5000 adds about 3-8 s per run and 7-21 s per data set on one core
  --nll-points N      held-out points for the NLL average
  --nll-dequant K     images: dequantisation samples per image for bits/dim, combined as
                      log (1/K) sum_k p(x + u_k) (default: the budget's; quick 2, small 5, paper 20)
  --reflow-pairs N    pairs a reflow teacher generates
  --eval-batch N      examples per batch when sampling, in the likelihood, straightness and
                      reflow pairs (default: 2-D data all at once; images 256 on webgpu and
                      tensorflow, 32 on wasm and cpu)
  --seed N            seed for data, init, noise (default 0)
  --seeds LIST|N      run every (data set, method, model) once per seed: "0,1,2", or N for
                      seeds 0..N-1 (default: the budget's, 1 for toy2d); the report shows
                      mean ± standard deviation across seeds
  --backend NAME      auto (default) | tensorflow | webgpu | wasm | cpu
  --out DIR           output dir, anywhere (default runs/<suite>-<timestamp>); re-running
                      resumes; one run at a time per dir (DIR/.fmbench.lock); Ctrl-C or
                      SIGTERM stops at a safe point and saves, a second one exits at once
  --plugins DIR       extra plugin root with paths/, couplings/, ... sub-folders (must exist);
                      a name two files define is an error naming both
  --shard I/N         run only slice I of N of the (data set, model, method) grid
  --jobs N|auto       run the grid in N workers at once, each its own tfjs instance, merged
                      into one results.json (default auto: one per core, fewer if memory is
                      short, never more than the independent groups of runs). On a GPU backend
                      (webgpu, tensorflow) auto is 1: the workers would share one device
  --data-dir DIR      data directory, anywhere (default data/, or FMBENCH_DATA_DIR); the FID
                      weights are looked for (and downloaded to) here too
  --fid-batch N       cifar10: images per Inception forward pass (default by backend: 50 on
                      CPU backends, 500 on GPU backends)
  --no-report         write results.json only
  --list              list every plugin (and load failures) and exit
  -h, --help          this help

deno task bench grants write access to exactly --out and --data-dir (see README, Permissions);
errors are one line (FMBENCH_DEBUG=1 shows an unexpected error's stack trace).
`;
