// Text taken from a file, made safe for a message: control and direction characters escaped,
// cut to a stated length, so a hostile file cannot write to the terminal or flood a log.

/**
 * The most characters of a file's text a message quotes (the rest is counted, not shown).
 * @example
 * quote("x".repeat(1000)).length < QUOTE_MAX + 40; // true
 */
export const QUOTE_MAX = 120;

/** C0 and C1 controls, DEL, line/paragraph separators, bidi overrides and isolates, BOM. */
// deno-lint-ignore no-control-regex -- control characters are exactly what this escapes
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeChar(c: string): string {
  return SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * `text` with every control, line-separator and bidi character escaped (`\n`, `\u001b`) and cut
 * to `max` characters, the cut said as `...(+N chars)`; no quotes added. For a message built
 * from a file's bytes, or from an error message that quotes them (JSON.parse's snippets).
 * @example
 * safeText("a\u001b[31mb\n"); // "a\\u001b[31mb\\n"
 * safeText("abcdef", 3); // "abc...(+3 chars)"
 */
export function safeText(text: string, max = QUOTE_MAX): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const more = text.length > max ? `...(+${text.length - max} chars)` : "";
  return cut.replace(/\\/g, "\\\\").replace(UNSAFE, escapeChar) + more;
}

/**
 * `text` from a file as a double-quoted, escaped, length-capped string for a message.
 * @example
 * quote("os\u001b]0;pwned\u0007"); // "\"os\\u001b]0;pwned\\u0007\""
 */
export function quote(text: string, max = QUOTE_MAX): string {
  return `"${safeText(text, max).replace(/"/g, '\\"')}"`;
}

/**
 * A thrown value's message, made safe (JSON.parse and TextDecoder quote the input they reject).
 * @example
 * safeMessage(new SyntaxError("Unexpected token '\u001b'")); // "Unexpected token '\\u001b'"
 */
export function safeMessage(e: unknown, max = QUOTE_MAX * 2): string {
  return safeText(e instanceof Error ? e.message : String(e), max);
}

/**
 * Up to `max` names from a file, each quoted, and how many more there are.
 * @example
 * quoteList(["a", "b", "c"], 2); // "\"a\", \"b\" and 1 more"
 */
export function quoteList(items: readonly unknown[], max = 8): string {
  const shown = items.slice(0, max).map((x) => quote(String(x), 60)).join(", ");
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
