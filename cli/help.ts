// The bench CLI's --help text (separate from flags.ts, which must stay light for the launcher).
import { SUITES } from "../harness/mod.ts";
import { taskRunner } from "../store/mod.ts";
import { FLAGS } from "./flags.ts";

/** A number as a person writes it in a table: 2000, 2e-3, 0.0002 -> 2e-4. */
function short(x: number): string {
  return x !== 0 && Math.abs(x) < 0.01 ? x.toExponential().replace(/\.?0*e/, "e") : String(x);
}

/**
 * The defaults that depend on the suite and budget (--steps, --batch, --lr, --samples, ...) as a
 * small table, one row per suite and budget, read from the suites themselves.
 * @example
 * suiteDefaultsHelp()[1]; // "  toy2d                   1000     256    2e-3  500  ..."
 */
export function suiteDefaultsHelp(): string[] {
  const rows = [["", "--steps", "--batch", "--lr", "--samples", "--nll-points", "--reflow-pairs"]];
  for (const s of Object.values(SUITES)) {
    for (const b of Object.keys(s.budgets)) {
      const d = s.defaults(b, { dataDir: "data" });
      const t = d.train;
      rows.push([
        Object.keys(s.budgets).length > 1 ? `${s.name} --budget ${b}` : s.name,
        `${t.steps}${t.minutes ? ` or ${t.minutes} min` : ""}`,
        `${t.batch}`,
        short(t.lr),
        `${d.eval.samples}`,
        `${d.eval.nll.n}`,
        `${d.eval.reflowPairs}`,
      ]);
    }
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(w[i])).join("  ")}`.trimEnd());
}

/**
 * The text `deno task bench --help` prints, with the command in the form the user runs tasks.
 * @example
 * console.log(helpText()); // "fmbench: train and compare flow-matching recipes\n\nUsage: ..."
 */
export function helpText(runner = taskRunner()): string {
  return `fmbench: train and compare flow-matching recipes

Usage: ${runner} task bench [flags]

  --suite NAME        ${
    Object.keys(SUITES).map((s) => s === FLAGS.suite.default ? `${s} (default)` : s).join(" | ")
  }
  --budget NAME       toy2d: default (a quick look, not converged) | converged (20,000 steps,
                      lr decayed: models that have learned their data);
                      cifar10: quick (default, any machine, 15-40 s of CPU per method) |
                      small (GPU, 20 min of training per method) | paper
  --datasets LIST     comma list or "all" (default: the suite's defaults)
  --methods LIST      method labels, e.g. "FM w/ OT,1-RF", or recipes
                      path/coupling/loss[/time-sampler] (default all)
  --paths LIST        keep methods using these paths (default all)
  --couplings LIST    keep methods using these couplings (default all)
  --losses LIST       keep methods using these losses (default all)
  --time-samplers LIST  also train every method with each of these distributions of t:
                      NAME or NAME:KEY=VALUE[:KEY=VALUE], e.g. logit-normal:scale=0.5, or
                      "all" (default: none, t uniform); a method may name one itself:
                      "FM w/ OT + logit-normal" or cond-ot/independent/cfm/logit-normal
  --models LIST       model plugins, NAME or NAME:PRESET (default: the suite's model)
  --preset NAME       preset for every model (overrides NAME:PRESET)
  --solvers LIST      solver plugins (default all)
  --metrics LIST      sample-quality metric plugins, e.g. "fid,precision-recall" (default: every
                      metric the suite's features allow but fd-dinov2; toy2d: w2,
                      precision-recall, density-coverage; cifar10: fid, kid, precision-recall,
                      density-coverage, inception-score; --list shows them all)
  --steps N           training steps per (method, model) (default: the suite's; see below)
  --batch N           training batch size (default: the suite's)
  --lr X              Adam learning rate (> 0; default: the suite's)
  --clip X            clip the global gradient norm to X (0 = off; toy2d default 0, cifar10 1)
  --micro-batch N     examples per forward/backward pass, gradients summed (0 = whole batch)
  --minutes X         wall-clock training budget per run (stops early; 0 = none)
  --samples N         generated samples per solver setting (default: the suite's)
  --high-res-samples N  toy2d: samples of the headline setting scored by the high-resolution W2
                      (and the size of each held-out draw of its floor band, 4 pairs); default
                      off; 5000 adds about 3-8 s per run and 7-21 s per data set on one core
  --nll-points N      held-out points for the NLL average (default: the suite's)
  --nll-dequant K     images: dequantisation samples per image for bits/dim, combined as
                      log (1/K) sum_k p(x + u_k) (default: the budget's; quick 2, small 5, paper 20)
  --reflow-pairs N    pairs a reflow teacher generates (default: the suite's)
  --checkpoint FILE   evaluate a PyTorch checkpoint (torch.save) instead of training: one method,
                      one model whose layers mirror the file's (adm-unet: TorchCFM's CIFAR-10
                      U-Net; mlp: bench/toy_torch_train.py's), one seed
  --checkpoint-key K  the state dict's key in FILE (default ema_model; net_model: raw weights)
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
  --threads N|auto    threads of the native (OpenBLAS) matrix and convolution kernels per
                      process, 1 to the machine's cores (default auto: the cores left to each
                      --jobs worker, e.g. all of them for one run, 1 when the workers fill
                      every core); results are bit-identical for any count
  --data-dir DIR      data directory, anywhere (default data/, or FMBENCH_DATA_DIR); the FID
                      weights are looked for (and downloaded to) here too
  --fid-batch N       cifar10: images per Inception forward pass (default by backend: 50 on
                      CPU backends, 500 on GPU backends)
  --no-report         write results.json only
  --list              list every plugin, every method and how it is composed, the suites,
                      and the plugin files that failed to load, then exit
  -h, --help          this help

Defaults by suite (and budget):
${suiteDefaultsHelp().join("\n")}

${runner} task bench grants write access to exactly --out and --data-dir (see README,
Permissions); errors are one line (FMBENCH_DEBUG=1 shows an unexpected error's stack trace).
`;
}
