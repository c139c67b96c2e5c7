// The run manifest: git commit, tool versions, backend and device, OS, seed, config and times.
import { tf } from "../core/tf.ts";
import type { BackendInfo } from "../backend/select.ts";
import type { RunManifest } from "../results/schema.ts";
import type { SuiteConfig } from "./suites/types.ts";
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

/** What a manifest is built from. */
export interface ManifestInput {
  backend: BackendInfo;
  /** The finished configuration (its hash is the manifest's configHash). */
  config: SuiteConfig;
  /** The command-line arguments of the run. */
  argv: string[];
  /** Notes added to the backend's (e.g. how many --jobs workers ran, and why). */
  notes?: string[];
}

/**
 * Build the manifest for a run; git facts are "unknown" where git is unavailable.
 * @example
 * const manifest = await buildManifest({ backend, config, argv: Deno.args });
 * // { commit: "7de4437...", dirty: false, seed: 0, ... }
 */
export async function buildManifest(o: ManifestInput): Promise<RunManifest> {
  const { backend } = o;
  const config = o.config as unknown as Record<string, unknown>;
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
    backendNotes: [...backend.notes, ...(o.notes ?? [])],
    os: `${Deno.build.os} ${Deno.build.arch}`,
    seed: o.config.seeds[0],
    config,
    configHash: configHash(config),
    startedAt: new Date().toISOString(),
    argv: o.argv,
  };
}
