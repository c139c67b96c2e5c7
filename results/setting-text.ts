// The one way a solver setting is written as text: "steps=8 grid=edm" in logs and phase markers,
// "rtol=1e-5, atol=1e-5" in the report (the same walk over its members, two number styles).

/** How a setting is written: the separator between members and the number format. */
export interface SettingStyle {
  /** Between members (default " "). */
  separator?: string;
  /** A number's text (default String(v)). */
  number?: (v: number) => string;
}

/**
 * A solver setting as `key=value` pairs in its own member order, absent members left out.
 * @example
 * settingText({ steps: 8, grid: "edm" }); // "steps=8 grid=edm"
 * settingText({ rtol: 1e-5, atol: 1e-5 }, { separator: ", ", number: (v) => v.toExponential() });
 * // "rtol=1e-5, atol=1e-5"
 */
export function settingText(
  setting: Readonly<Record<string, number | string | undefined>> | undefined,
  style: SettingStyle = {},
): string {
  const num = style.number ?? String;
  return Object.entries(setting ?? {}).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "number" ? num(v) : v}`)
    .join(style.separator ?? " ");
}
