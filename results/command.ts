// How a run's recorded command line is written back as a shell command that reproduces it, in the
// form the user runs Deno's tasks (store/task-command.ts).
import { shellQuote, taskCommand } from "../store/task-command.ts";

export { shellQuote };

/**
 * The command that runs fmbench with `argv` (as recorded in a manifest), e.g. for a default
 * run just "deno task bench". `runner` starts Deno: "deno" (the form a report records) or the
 * form this user runs tasks in (store/task-command.ts's taskRunner(), for printed commands).
 * @example
 * commandLine(["--datasets", "moons", "--methods", "FM w/ OT"]);
 * // "deno task bench --datasets moons --methods 'FM w/ OT'"
 * commandLine(["--steps", "300"], "bench", "npx -y deno@2.9.6"); // "npx -y deno@2.9.6 task bench --steps 300"
 */
export function commandLine(argv: string[], task = "bench", runner = "deno"): string {
  return taskCommand(task, argv, runner);
}
