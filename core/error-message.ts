// The one way fmbench turns a thrown value into a short message for logs and results.

/**
 * The first line of an error's message (or of the thrown value), at most `max` characters.
 * @example
 * firstLine(new Error("solver failed\n  at ...")); // "solver failed"
 */
export function firstLine(e: unknown, max = 400): string {
  return String(e instanceof Error ? e.message : e).split("\n")[0].slice(0, max);
}
