// The learning rate at each step: linear warm-up, then constant or polynomial decay. A pure function
// of the step and the recipe, so a run resumed from a checkpoint continues the schedule exactly.
/** The schedule fields of a training config (harness/train.ts TrainConfig). */
export interface ScheduleConfig {
  lr: number;
  warmup: number;
  steps: number;
  warmupFrom?: "first-step" | "zero";
  decay?: { kind: "polynomial"; power: number; endLr: number };
}

/**
 * The learning rate of 0-based step `step`. Warm-up over `warmup` steps from `warmupFrom`:
 * "first-step" (fmbench's default: step k uses lr (k + 1) / warmup) or "zero" (PyTorch's
 * LambdaLR with min(k, warmup) / warmup, as TorchCFM: the first step uses lr 0). After warm-up:
 * constant, or `decay` polynomial from lr to `decay.endLr` at the last step (fairseq's
 * polynomial_decay: end + (lr - end) (1 - (k - warmup) / (steps - warmup))^power).
 * @example
 * learningRate(0, { lr: 2e-4, warmup: 5000, steps: 400001, warmupFrom: "zero" }); // 0
 * learningRate(4999, { lr: 2e-4, warmup: 5000, steps: 400001 }); // 2e-4
 */
export function learningRate(step: number, c: ScheduleConfig): number {
  const w = c.warmup;
  if (w > 0 && step < w) {
    return c.lr * (c.warmupFrom === "zero" ? step / w : Math.min(1, (step + 1) / w));
  }
  if (!c.decay) return c.lr;
  const span = Math.max(1, c.steps - w);
  const left = Math.max(0, 1 - (step - w) / span);
  return c.decay.endLr + (c.lr - c.decay.endLr) * Math.pow(left, c.decay.power);
}
