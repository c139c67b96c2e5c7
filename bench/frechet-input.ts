// The Frechet benchmark's input for both sides of bench:compare: two Gaussians of bench/frechet-
// cases.ts ("ill-conditioned (cond 1e6)", like Inception features' covariances) at dimension d in
// one file of raw little-endian float64 (mu1, mu2, S1, S2: bench/frechet_scipy.py's layout).
import { frechetCases } from "./frechet-cases.ts";
import type { GaussianStats } from "../features/frechet.ts";

/**
 * Write the input file for dimension d (reused if it exists with the right size); returns path.
 * @example
 * const path = await writeFrechetInput(2048, "/tmp"); // "/tmp/fmbench-frechet-2048.f64"
 */
export async function writeFrechetInput(d: number, dir: string): Promise<string> {
  const path = `${dir}/fmbench-frechet-${d}.f64`;
  const bytes = 8 * (2 * d + 2 * d * d);
  try {
    if ((await Deno.stat(path)).size === bytes) return path;
  } catch {
    // not there yet
  }
  const c = frechetCases(d).find((x) => x.name.startsWith("ill-conditioned"))!;
  const out = new Float64Array(2 * d + 2 * d * d);
  out.set(c.a.mu, 0);
  out.set(c.b.mu, d);
  out.set(c.a.sigma, 2 * d);
  out.set(c.b.sigma, 2 * d + d * d);
  await Deno.writeFile(path, new Uint8Array(out.buffer));
  return path;
}

/**
 * Read the two Gaussians back.
 * @example
 * const { a, b } = await readFrechetInput("/tmp/fmbench-frechet-2048.f64");
 */
export async function readFrechetInput(
  path: string,
): Promise<{ a: GaussianStats; b: GaussianStats }> {
  const bytes = await Deno.readFile(path);
  const v = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  const d = Math.round(Math.sqrt(v.length / 2 + 0.25) - 0.5);
  if (2 * d + 2 * d * d !== v.length) {
    throw new Error(`${path}: ${v.length} float64 values is not 2 d + 2 d^2 for any d`);
  }
  const g = (mu: number, sigma: number): GaussianStats => ({
    dim: d,
    n: d + 1,
    mu: v.slice(mu, mu + d),
    sigma: v.slice(sigma, sigma + d * d),
  });
  return { a: g(0, 2 * d), b: g(d, 2 * d + d * d) };
}
