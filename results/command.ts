// How a run's recorded command line is written back as a shell command that reproduces it, in the
// form the user runs Deno's tasks (store/task-command.ts).
import { shellQuote, taskCommand } from "../store/task-command.ts";

export { shellQuote };

/**
 * The command that runs fmbench with `argv` (as recorded in a manifest), e.g. for a default
 * run just "deno task bench" (or "npx -y deno@2.9.6 task bench" for an npx user).
 * @example
 * commandLine(["--datasets", "moons", "--methods", "FM w/ OT"]);
 * // "deno task bench --datasets moons --methods 'FM w/ OT'"
 */
export function commandLine(argv: string[], task = "bench", runner?: string): string {
  return taskCommand(task, argv, runner);
}
