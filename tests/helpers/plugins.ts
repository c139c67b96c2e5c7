// Test helpers: a temporary plugin root and a sample path plugin file written by code.
const defineUrl = new URL("../../harness/define.ts", import.meta.url).href;

/** A temporary plugin root with the given files under paths/. */
export async function tempPluginRoot(files: Record<string, string>): Promise<URL> {
  const dir = await Deno.makeTempDir({ prefix: "fmbench-plugins-" });
  await Deno.mkdir(`${dir}/paths`);
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/paths/${name}`, text);
  }
  return new URL(`file://${dir}/`);
}

export const SQUARE_PATH = `
import { definePath } from "${defineUrl}";
export default definePath({
  name: "square-ot", family: "ot", description: "x_t = t^2 x1 + (1 - t^2) x0",
  schedule: { alpha: (t) => t * t, sigma: (t) => 1 - t * t, dAlpha: (t) => 2 * t, dSigma: (t) => -2 * t },
});
`;
