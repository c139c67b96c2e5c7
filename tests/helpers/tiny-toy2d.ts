// The flags of a toy2d run small enough for an end-to-end test (seconds on one core).

/**
 * `cli/bench.ts` flags for a tiny toy2d run on wasm: moons, the tiny MLP, 30 steps, few samples.
 * @example
 * await main([...TINY_TOY2D, "--methods", "FM w/ OT", "--out", dir]);
 */
export const TINY_TOY2D: readonly string[] = [
  "--suite",
  "toy2d",
  "--datasets",
  "moons",
  "--preset",
  "tiny",
  "--steps",
  "30",
  "--batch",
  "64",
  "--samples",
  "64",
  "--nll-points",
  "32",
  "--reflow-pairs",
  "256",
  "--backend",
  "wasm",
];
