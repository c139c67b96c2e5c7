// Perceptual distance between two colours: CIEDE2000 (Sharma, Wu and Dalal 2005) on CIELAB
// (D65 white) from sRGB hex, the measure the method palette is checked with.

/** A colour in CIELAB: lightness L* (0-100) and the opponent axes a*, b*. */
export interface Lab {
  L: number;
  a: number;
  b: number;
}

/** sRGB companding undone: a channel in [0, 1] to linear light. */
function linear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/**
 * An sRGB hex colour ("#4269d0" or "#46d") in CIELAB, D65 white.
 * @example
 * hexToLab("#ffffff"); // { L: 100, a: ~0, b: ~0 }
 */
export function hexToLab(hex: string): Lab {
  let h = hex.replace(/^#/, "");
  if (h.length === 3) h = [...h].map((c) => c + c).join("");
  if (!/^[0-9a-f]{6}$/i.test(h)) throw new Error(`not a hex colour: "${hex}" (expected #rrggbb)`);
  const [r, g, b] = [0, 2, 4].map((i) => linear(parseInt(h.slice(i, i + 2), 16) / 255));
  // sRGB (D65) to XYZ, normalised by the D65 white.
  const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  const z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
  const f = (t: number) => t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116;
  const [fx, fy, fz] = [f(x), f(y), f(z)];
  return { L: 116 * fy - 16, a: 500 * (fx - fy), b: 200 * (fy - fz) };
}

const deg = Math.PI / 180;

/**
 * CIEDE2000 colour difference ΔE₀₀ between two CIELAB colours (kL = kC = kH = 1). About 1 is
 * just noticeable side by side; categorical palettes aim for well over 10.
 * @example
 * ciede2000({ L: 50, a: 2.6772, b: -79.7751 }, { L: 50, a: 0, b: -82.7485 }); // 2.0425
 */
export function ciede2000(p: Lab, q: Lab): number {
  const C1 = Math.hypot(p.a, p.b), C2 = Math.hypot(q.a, q.b);
  const Cbar = (C1 + C2) / 2;
  const G = 0.5 * (1 - Math.sqrt(Cbar ** 7 / (Cbar ** 7 + 25 ** 7)));
  const a1 = (1 + G) * p.a, a2 = (1 + G) * q.a;
  const c1 = Math.hypot(a1, p.b), c2 = Math.hypot(a2, q.b);
  const hue = (b: number, a: number) => {
    if (a === 0 && b === 0) return 0;
    const h = Math.atan2(b, a) / deg;
    return h < 0 ? h + 360 : h;
  };
  const h1 = hue(p.b, a1), h2 = hue(q.b, a2);
  const dL = q.L - p.L, dC = c2 - c1;
  let dh = 0;
  if (c1 * c2 !== 0) {
    dh = h2 - h1;
    if (dh > 180) dh -= 360;
    else if (dh < -180) dh += 360;
  }
  const dH = 2 * Math.sqrt(c1 * c2) * Math.sin((dh / 2) * deg);
  const Lbar = (p.L + q.L) / 2, cbar = (c1 + c2) / 2;
  let hbar = h1 + h2;
  if (c1 * c2 !== 0) {
    if (Math.abs(h1 - h2) <= 180) hbar = (h1 + h2) / 2;
    else hbar = h1 + h2 < 360 ? (h1 + h2 + 360) / 2 : (h1 + h2 - 360) / 2;
  }
  const T = 1 - 0.17 * Math.cos((hbar - 30) * deg) + 0.24 * Math.cos(2 * hbar * deg) +
    0.32 * Math.cos((3 * hbar + 6) * deg) - 0.20 * Math.cos((4 * hbar - 63) * deg);
  const dTheta = 30 * Math.exp(-(((hbar - 275) / 25) ** 2));
  const Rc = 2 * Math.sqrt(cbar ** 7 / (cbar ** 7 + 25 ** 7));
  const Sl = 1 + (0.015 * (Lbar - 50) ** 2) / Math.sqrt(20 + (Lbar - 50) ** 2);
  const Sc = 1 + 0.045 * cbar, Sh = 1 + 0.015 * cbar * T;
  const Rt = -Math.sin(2 * dTheta * deg) * Rc;
  return Math.sqrt(
    (dL / Sl) ** 2 + (dC / Sc) ** 2 + (dH / Sh) ** 2 + Rt * (dC / Sc) * (dH / Sh),
  );
}

/**
 * ΔE₀₀ between two sRGB hex colours.
 * @example
 * colorDistance("#4269d0", "#efb118"); // ~60: blue against amber
 */
export function colorDistance(x: string, y: string): number {
  return ciede2000(hexToLab(x), hexToLab(y));
}
