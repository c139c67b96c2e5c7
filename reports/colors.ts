// One colour per method, the same in every report: keyed by the method's name, never by its
// position in a run (which changes with --methods, shards and dropped-in plugins), and every
// colour clearly distinct from every other (CIEDE2000, tests/colors_test.ts).

/**
 * Fixed colours of the built-in methods: the named methods and the auto methods of the built-in
 * paths. Together with EXTRA_COLORS every pair is at least MIN_COLOR_DISTANCE apart in CIEDE2000
 * (tests/colors_test.ts measures it); chosen by scripts/palette.ts (22 colours, lightness 30-78).
 * @example
 * METHOD_COLORS["FM w/ OT"]; // "#4269d0"
 */
export const METHOD_COLORS: Record<string, string> = {
  "FM w/ OT": "#4269d0",
  "FM w/ Diffusion": "#ff5a00",
  "DDPM-style": "#96004b",
  "Score Matching": "#1ea569",
  "ScoreFlow": "#ffa500",
  "OT-CFM": "#00d2e1",
  "1-RF": "#c31ee1",
  "2-RF": "#ff96d2",
  "OT-CFM (sigma 0)": "#007887",
  "OT-CFM (Sinkhorn)": "#5a4b2d",
  "FM w/ cosine": "#b4c300",
  "FM w/ ve-diffusion": "#a5000f",
};

/**
 * Colours for every other name (a dropped-in plugin's method, "label [model]").
 * @example
 * EXTRA_COLORS.length; // 10: the slots colorsFor hashes other names into
 */
export const EXTRA_COLORS = [
  "#005a2d",
  "#b4b4ff",
  "#697800",
  "#ffa596",
  "#ff0f69",
  "#876987",
  "#0000f0",
  "#a56900",
  "#00a5f0",
  "#a5695a",
];

/**
 * The smallest CIEDE2000 distance between any two colours of METHOD_COLORS and EXTRA_COLORS
 * (about 20 is what 22 colours of usable lightness allow; 10 is already clearly distinct).
 * @example
 * colorDistance(METHOD_COLORS["Score Matching"], METHOD_COLORS["1-RF"]) >= MIN_COLOR_DISTANCE; // true
 */
export const MIN_COLOR_DISTANCE = 18;

/** FNV-1a, 32 bits: a stable hash of a name. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Colours for the given series names: a built-in method's fixed colour; any other name the
 * extra colour its name hashes to, moving on to the next free one when two names of the same
 * report collide (names are placed in sorted order, so the result does not depend on order).
 * @example
 * colorsFor(["OT-CFM", "FM w/ square-ot"]).get("OT-CFM"); // "#00d2e1" in every report
 */
export function colorsFor(names: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const others = [...new Set(names)].filter((n) => !(n in METHOD_COLORS)).sort();
  const taken = new Set<number>();
  const slot = new Map<string, number>();
  for (const n of others) {
    let k = fnv1a(n) % EXTRA_COLORS.length;
    for (let i = 0; i < EXTRA_COLORS.length && taken.has(k); i++) {
      k = (k + 1) % EXTRA_COLORS.length;
    }
    if (taken.size < EXTRA_COLORS.length) taken.add(k);
    slot.set(n, k);
  }
  for (const n of names) {
    if (out.has(n)) continue;
    out.set(n, METHOD_COLORS[n] ?? EXTRA_COLORS[slot.get(n)!]);
  }
  return out;
}
