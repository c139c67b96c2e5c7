// Checks the --plugins folder before discovery: it must exist, be a folder and hold at least one
// of the plugin kind sub-folders, or the run would silently train only the built-ins.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PLUGIN_KINDS } from "../harness/mod.ts";
import { UsageError } from "./flags.ts";

async function isDir(path: string): Promise<boolean | undefined> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * The plugin root URL for `--plugins DIR`, or a UsageError that names DIR and what is wrong.
 * @example
 * const root = await pluginRoot("my-plugins"); // file:///abs/my-plugins/
 */
export async function pluginRoot(dir: string, cwd = Deno.cwd()): Promise<URL> {
  const abs = resolve(cwd, dir);
  const kinds = PLUGIN_KINDS.map((k) => `${k}/`).join(", ");
  const state = await isDir(abs);
  if (state === undefined) {
    throw new UsageError(
      `--plugins ${dir}: no such folder (${abs}); give a folder holding some of ${kinds}`,
    );
  }
  if (!state) throw new UsageError(`--plugins ${dir}: not a folder (${abs})`);
  const present = [];
  for (const k of PLUGIN_KINDS) if (await isDir(`${abs}/${k}`)) present.push(k);
  if (!present.length) {
    throw new UsageError(
      `--plugins ${dir}: has none of the plugin sub-folders ${kinds}, so nothing would load ` +
        `from it (e.g. put a path in ${abs}/paths/my-path.ts)`,
    );
  }
  return new URL(`${pathToFileURL(abs).href}/`);
}
