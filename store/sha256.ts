// The SHA-256 of a file, read in 4 MiB pieces (released checkpoints are hundreds of MB).
import { createHash } from "node:crypto";

const PIECE = 4 << 20;

/**
 * Hex SHA-256 of a file's bytes, read synchronously piece by piece (never the whole file at once).
 * @example
 * sha256FileSync("otcfm_cifar10_weights_step_400000.pt"); // "9f3c…" (64 hex digits)
 */
export function sha256FileSync(path: string): string {
  const hash = createHash("sha256");
  const file = Deno.openSync(path, { read: true });
  try {
    const buf = new Uint8Array(PIECE);
    for (;;) {
      const n = file.readSync(buf);
      if (n === null || n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}
