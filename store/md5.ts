// Streaming MD5 of a file (node:crypto), and a check against an expected digest.
import { createHash } from "node:crypto";

/**
 * Hex MD5 digest of the file at `path`, read in chunks (constant memory).
 * @example
 * await md5File("data/cifar-10-binary.tar.gz"); // "c32a1d4ab5d03f1284b67883e8d87530"
 */
export async function md5File(path: string): Promise<string> {
  const hash = createHash("md5");
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(1 << 20);
  while (true) {
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

/** Result of comparing a file's MD5 with the expected one. */
export interface Md5Check {
  ok: boolean;
  expected: string;
  actual: string;
}

/**
 * Compare the file's MD5 with `expected` (hex, case-insensitive).
 * @example
 * const { ok, actual } = await verifyMd5("data/x.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530");
 */
export async function verifyMd5(path: string, expected: string): Promise<Md5Check> {
  if (!/^[0-9a-f]{32}$/i.test(expected)) {
    throw new Error(`verifyMd5: expected digest "${expected}" is not 32 hex digits`);
  }
  const actual = await md5File(path);
  return { ok: actual === expected.toLowerCase(), expected: expected.toLowerCase(), actual };
}
