// The run manifest: git commit, tool versions, backend and device, OS, seed, config and times.
import { tf } from "../core/tf.ts";
import type { BackendInfo } from "../backend/select.ts";
import type { RunManifest } from "../results/schema.ts";
import { configHash } from "../results/io.ts";
import denoJson from "../deno.json" with { type: "json" };

async function git(args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", {
      args,
      cwd: new URL("..", import.meta.url),
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

/**
 * Build the manifest for a run; git facts are "unknown" where git is unavailable.
 * @example
 * const manifest = await buildManifest(backend, 0, config, Deno.args);
 * // { commit: "7de4437...", dirty: false, seed: 0, ... }
 */
export async function buildManifest(
  backend: BackendInfo,
  seed: number,
  config: Record<string, unknown>,
  argv: string[],
): Promise<RunManifest> {
  const commit = (await git(["rev-parse", "HEAD"])) ?? "unknown";
  const status = await git(["status", "--porcelain", "--untracked-files=no"]);
  return {
    commit,
    dirty: status === null ? false : status.length > 0,
    versions: {
      fmbench: denoJson.version,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      tfjs: tf.version.tfjs,
    },
    backend: backend.backend,
    device: backend.device,
    ...(backend.adapter ? { adapter: { ...backend.adapter } } : {}),
    ...(backend.threads !== undefined ? { threads: backend.threads } : {}),
    backendNotes: backend.notes,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    seed,
    config,
    configHash: configHash(config),
    startedAt: new Date().toISOString(),
    argv,
  };
}
