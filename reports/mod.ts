// The reports: a self-contained report.html and the terminal summary, from results/ alone.
/**
 * The reports room: `renderReport` turns a results file into one self-contained HTML page
 * (tables in the shape of Lipman et al.'s Table 1, Observable Plot charts, sample panels), and
 * `printSummary` prints the terminal table.
 * @example
 * import { renderReport } from "./reports/mod.ts";
 * import { readResults } from "./results/mod.ts";
 * await Deno.writeTextFile("report.html", renderReport(await readResults("runs/x")));
 * @module
 */
export { renderReport } from "./render.ts";
export { printSummary, summaryRows } from "./summary.ts";
