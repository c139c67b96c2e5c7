// Streaming extraction of .tar.gz archives (ustar, GNU long names, pax paths) with no subprocess.
import { dirname, join, normalize } from "node:path";

const BLOCK = 512;

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private done = false;
  constructor(private reader: ReadableStreamDefaultReader<Uint8Array>) {}

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.done) {
      const { value, done } = await this.reader.read();
      if (done) this.done = true;
      else if (value.length) {
        this.chunks.push(value);
        this.buffered += value.length;
      }
    }
  }

  /** Up to n bytes (fewer only at end of stream). */
  async read(n: number): Promise<Uint8Array> {
    await this.fill(n);
    const take = Math.min(n, this.buffered);
    const out = new Uint8Array(take);
    let off = 0;
    while (off < take) {
      const c = this.chunks[0];
      const k = Math.min(c.length, take - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= take;
    return out;
  }
}

function cString(b: Uint8Array, start: number, len: number): string {
  const s = b.subarray(start, start + len);
  const end = s.indexOf(0);
  return new TextDecoder().decode(end < 0 ? s : s.subarray(0, end));
}

function octal(b: Uint8Array, start: number, len: number): number {
  if (b[start] & 0x80) {
    // GNU base-256 encoding for large values.
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i];
    return v;
  }
  const s = cString(b, start, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === octal(h, 148, 8);
}

function paxPath(body: Uint8Array): string | undefined {
  const text = new TextDecoder().decode(body);
  for (const rec of text.split("\n")) {
    const m = /^\d+ path=(.*)$/.exec(rec);
    if (m) return m[1];
  }
  return undefined;
}

function safeRelative(name: string, archive: string): string {
  const n = normalize(name).replace(/\/+$/, "");
  if (n.startsWith("/") || n === ".." || n.startsWith("../") || /^[a-zA-Z]:/.test(n)) {
    throw new Error(`tar: refusing entry "${name}" in ${archive} (path outside the target)`);
  }
  return n;
}

/**
 * Extract the regular files of a gzip-compressed tar archive into `destDir`.
 * Returns the relative paths written. Throws on a corrupt header or a truncated archive.
 * @example
 * await extractTarGz("data/cifar-10-binary.tar.gz", "data");
 * // [..., "cifar-10-batches-bin/test_batch.bin", ...]
 */
export async function extractTarGz(archive: string, destDir: string): Promise<string[]> {
  const file = await Deno.open(archive, { read: true });
  const stream = file.readable.pipeThrough(new DecompressionStream("gzip"));
  const raw = stream.getReader();
  const reader = new ByteReader(raw);
  const written: string[] = [];
  let longName: string | undefined;
  try {
    while (true) {
      const h = await reader.read(BLOCK);
      if (h.length < BLOCK) throw new Error(`tar: ${archive} ends inside a header (truncated)`);
      if (h.every((v) => v === 0)) break;
      if (!checksumOk(h)) throw new Error(`tar: bad header checksum in ${archive} (corrupt)`);
      const size = octal(h, 124, 12);
      const type = String.fromCharCode(h[156] || 48);
      const prefix = cString(h, 257, 6).startsWith("ustar") ? cString(h, 345, 155) : "";
      let name = longName ?? (prefix ? `${prefix}/${cString(h, 0, 100)}` : cString(h, 0, 100));
      longName = undefined;
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (type === "L" || type === "x") {
        const body = await reader.read(padded);
        if (body.length < padded) throw new Error(`tar: ${archive} truncated in a header body`);
        longName = type === "L" ? cString(body, 0, size) : paxPath(body.subarray(0, size));
        continue;
      }
      if (type !== "0" && type !== "7") {
        // Directories, links and global headers: skip the body (directories are made on demand).
        const skipped = await reader.read(padded);
        if (skipped.length < padded) throw new Error(`tar: ${archive} truncated`);
        continue;
      }
      name = safeRelative(name, archive);
      const out = join(destDir, name);
      await Deno.mkdir(dirname(out), { recursive: true });
      using f = await Deno.open(out, { write: true, create: true, truncate: true });
      let left = size;
      while (left > 0) {
        const chunk = await reader.read(Math.min(left, 1 << 20));
        if (chunk.length === 0) throw new Error(`tar: ${archive} truncated inside "${name}"`);
        let off = 0;
        while (off < chunk.length) off += await f.write(chunk.subarray(off));
        left -= chunk.length;
      }
      const pad = padded - size;
      if (pad && (await reader.read(pad)).length < pad) {
        throw new Error(`tar: ${archive} truncated after "${name}"`);
      }
      written.push(name);
    }
  } finally {
    await raw.cancel().catch(() => {});
  }
  return written;
}
