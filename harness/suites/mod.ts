// The suites fmbench knows, by name: one complete, typed suite definition per file.
import { cifar10Suite } from "./cifar10.ts";
import { toy2dSuite } from "./toy2d.ts";
import type { ResultsFile } from "../../results/schema.ts";
import type { SuiteConfig, SuiteDef } from "./types.ts";

export type { EvalConfig, SolverSetting, SuiteConfig, SuiteDef, SuiteDefaults } from "./types.ts";

/**
 * Every suite, by name (the first is the CLI's default).
 * @example
 * const suite = SUITES["toy2d"]; // suite.defaultDatasets: ["moons", "8gaussians", "checkerboard"]
 */
export const SUITES: Record<string, SuiteDef> = { toy2d: toy2dSuite, cifar10: cifar10Suite };

/**
 * The results file's record of the budget a run used: its name, description, whether it is a
 * smoke test whose numbers are not meaningful, and for a published recipe its source and the
 * flags that changed one of its fields.
 * @example
 * budgetRecord(SUITES.cifar10, config); // { name: "quick", description: "...", smoke: true }
 */
export function budgetRecord(
  suite: SuiteDef,
  config: Pick<SuiteConfig, "data" | "recipeChanges">,
): NonNullable<ResultsFile["budget"]> {
  const name = config.data.budget;
  const recipe = suite.defaults(name, { dataDir: "" }).recipe;
  return {
    name,
    description: suite.budgets[name] ?? "",
    smoke: suite.smokeBudgets?.includes(name) ?? false,
    ...(recipe ? { recipe: { ...recipe, changed: config.recipeChanges ?? [] } } : {}),
  };
}
