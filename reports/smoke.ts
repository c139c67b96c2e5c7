// Whether a results file comes from a smoke-test budget, whose numbers say nothing about which
// method is better (no ★, no headline, no verdict).
import type { ResultsFile } from "../results/schema.ts";

/**
 * Whether the run used a smoke-test budget, and its description. Files written before the
 * `budget` field existed are recognised by cifar10's "quick" budget in the config.
 * @example
 * smokeBudget(results); // { name: "quick", description: "a smoke run on any machine: ..." }
 */
export function smokeBudget(results: ResultsFile): { name: string; description: string } | null {
  if (results.budget) return results.budget.smoke ? results.budget : null;
  const data = (results.manifest.config as { data?: { budget?: unknown } } | undefined)?.data;
  if (results.suite === "cifar10" && data?.budget === "quick") {
    return { name: "quick", description: "a smoke run on any machine" };
  }
  return null;
}
