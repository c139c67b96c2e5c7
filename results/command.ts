// How a run's recorded command line is written back as a shell command that reproduces it.

/**
 * One argument quoted for a POSIX shell (bare when it is made of safe characters).
 * @example
 * shellQuote("FM w/ OT"); // "'FM w/ OT'"
 */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_\-.,:/=@%+]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command that runs fmbench with `argv` (as recorded in a manifest), e.g. for a default
 * run just "deno task bench".
 * @example
 * commandLine(["--datasets", "moons", "--methods", "FM w/ OT"]);
 * // "deno task bench --datasets moons --methods 'FM w/ OT'"
 */
export function commandLine(argv: string[], task = "bench"): string {
  return [`deno task ${task}`, ...argv.map(shellQuote)].join(" ");
}
