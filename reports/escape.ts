// HTML escaping for report text: every plugin- or run-supplied string goes through here.

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escape a value for HTML text or a double/single-quoted attribute value.
 * @example
 * escapeHtml(`<b>"FM" & 'OT'</b>`); // "&lt;b&gt;&quot;FM&quot; &amp; &#39;OT&#39;&lt;/b&gt;"
 */
export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/**
 * Markup that is already safe (built by `markup` or from trusted generator output).
 * @example
 * markup`<p>${new SafeHtml("<b>kept</b>")}</p>`.value; // "<p><b>kept</b></p>"
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/**
 * Mark trusted markup (our own templates, or SVG serialised by linkedom) as safe.
 * @example
 * markup`<div>${raw(chart.svg)}</div>`; // the SVG is inserted unescaped
 */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function piece(v: unknown): string {
  if (v instanceof SafeHtml) return v.value;
  if (v === null || v === undefined || v === false) return "";
  if (Array.isArray(v)) return v.map(piece).join("");
  return escapeHtml(v);
}

/**
 * Tagged template that escapes every interpolation unless it is SafeHtml; arrays are joined.
 * Only interpolate into text or into quoted attribute values, never into URLs or style/script.
 * @example markup`<td title="${reason}">${label}</td>`
 */
export function markup(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/;

/**
 * The URI if it is an inline base64 raster image (safe for `<img src>`), else null.
 * @example
 * safeDataImageUri("data:image/png;base64,iVBORw0KGgo="); // "data:image/png;base64,iVBORw0KGgo="
 * safeDataImageUri("javascript:alert(1)"); // null
 */
export function safeDataImageUri(uri: unknown): string | null {
  return typeof uri === "string" && DATA_IMAGE.test(uri) ? uri : null;
}
