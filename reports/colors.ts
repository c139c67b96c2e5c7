// One colour per method, the same in every report: keyed by the method's name, never by its
// position in a run (which changes with --methods, shards and dropped-in paths).

/**
 * Fixed colours of the built-in methods (Observable 10, in the order the suites list them).
 * @example
 * METHOD_COLORS["FM w/ OT"]; // "#4269d0"
 */
export const METHOD_COLORS: Record<string, string> = {
  "FM w/ OT": "#4269d0",
  "FM w/ Diffusion": "#efb118",
  "DDPM-style": "#ff725c",
  "OT-CFM": "#6cc5b0",
  "1-RF": "#3ca951",
  "2-RF": "#ff8ab7",
  "FM w/ cosine": "#a463f2",
  "FM w/ ve-diffusion": "#97bbf5",
  "OT-CFM (Sinkhorn)": "#9c6b4e",
};

/**
 * Colours for every other name (a dropped-in path's "FM w/ <path>", "label [model]").
 * @example
 * EXTRA_COLORS.length; // 10: the slots colorsFor hashes other names into
 */
export const EXTRA_COLORS = [
  "#1b9e77",
  "#d95f02",
  "#7570b3",
  "#e7298a",
  "#66a61e",
  "#e6ab02",
  "#a6761d",
  "#666666",
  "#17becf",
  "#bcbd22",
];

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
 * colorsFor(["OT-CFM", "FM w/ square-ot"]).get("OT-CFM"); // "#6cc5b0" in every report
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
