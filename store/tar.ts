// Streaming extraction of .tar.gz archives (ustar, GNU long names, pax paths) with no subprocess,
// within limits an archive cannot raise: header bodies, expansion ratio, entry count.
import { dirname, join, normalize } from "node:path";
import { quote, safeMessage } from "./quote.ts";

const BLOCK = 512;
/** Bodies are read and written in pieces of at most this many bytes. */
const PIECE = 1 << 20;

/**
 * Raised for an archive that is corrupt, truncated, or asks for more than a limit allows; the
 * message names the archive.
 * @example
 * new TarError("data/x.tar.gz", "bad header checksum (corrupt)").message;
 * // "tar data/x.tar.gz: bad header checksum (corrupt)"
 */
export class TarError extends Error {
  constructor(readonly archive: string, problem: string) {
    super(`tar ${archive}: ${problem}`);
    this.name = "TarError";
  }
}

/** What an archive may ask for. */
export interface TarLimits {
  /** Largest header body (GNU long name, pax record): default 1 MiB. */
  maxHeaderBytes?: number;
  /** Most tar bytes per compressed byte (gzip reaches ~1030 at best): default 100. */
  maxRatio?: number;
  /** Most regular files: default 100,000. */
  maxEntries?: number;
}

/**
 * Default limits; CIFAR-10's archive (162 MiB, 8 files, no long names) expands 1.1 times.
 * @example
 * TAR_LIMITS.maxRatio; // 100
 */
export const TAR_LIMITS: Required<TarLimits> = {
  maxHeaderBytes: 1 << 20,
  maxRatio: 100,
  maxEntries: 100_000,
};

/** Reads exact byte counts from a stream of chunks, refusing to go past `maxBytes` in all. */
class ByteReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private done = false;
  private total = 0;
  constructor(
    private reader: ReadableStreamDefaultReader<Uint8Array>,
    private maxBytes: number,
    private fail: (problem: string) => TarError,
  ) {}

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.done) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await this.reader.read();
      } catch (e) {
        throw this.fail(`not a valid gzip stream (${safeMessage(e)})`);
      }
      if (r.done) this.done = true;
      else if (r.value.length) {
        this.total += r.value.length;
        if (this.total > this.maxBytes) {
          throw this.fail(
            `expands past ${this.maxBytes} bytes, the limit for its size (ratio ` +
              `${TAR_LIMITS.maxRatio} unless set otherwise)`,
          );
        }
        this.chunks.push(r.value);
        this.buffered += r.value.length;
      }
    }
  }

  /** Up to n bytes (fewer only at end of stream); callers keep n <= PIECE or a stated limit. */
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

/** A numeric header field (octal, or GNU base-256); NaN when it is neither. */
function octal(b: Uint8Array, start: number, len: number): number {
  if (b[start] & 0x80) {
    if (b[start] !== 0x80) return NaN; // negative base-256
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i];
    return v;
  }
  const s = cString(b, start, len).trim();
  return s === "" ? 0 : /^[0-7]+$/.test(s) ? parseInt(s, 8) : NaN;
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

function safeRelative(name: string, fail: (p: string) => TarError): string {
  const n = normalize(name).replace(/\/+$/, "");
  if (
    n === "" || n === "." || n.startsWith("/") || n === ".." || n.startsWith("../") ||
    /^[a-zA-Z]:/.test(n)
  ) {
    throw fail(`refusing entry ${quote(name)} (a path outside the target)`);
  }
  return n;
}

/** Where the files of an archive go: called per regular file, then with its bytes in pieces. */
export interface TarSink {
  open(name: string, size: number): Promise<{
    write(piece: Uint8Array): Promise<void>;
    close(): void;
  }>;
}

/**
 * Walk a tar stream (already decompressed by the caller's pipe, whose errors become TarErrors)
 * and hand each regular file to `sink`; returns the names, in order. At most `maxBytes` of tar
 * are read, header bodies are capped, and bodies of other entries are skipped in pieces.
 * @example
 * const names = await readTar({ stream, source: "x.tar.gz", maxBytes: 1e9, sink });
 */
export async function readTar(
  o: {
    stream: ReadableStream<Uint8Array>;
    source: string;
    maxBytes: number;
    sink: TarSink;
    limits?: TarLimits;
  },
): Promise<string[]> {
  const lim = { ...TAR_LIMITS, ...o.limits };
  const fail = (problem: string) => new TarError(o.source, problem);
  const raw = o.stream.getReader();
  const reader = new ByteReader(raw, o.maxBytes, fail);
  const written: string[] = [];
  const skip = async (n: number, what: string) => {
    for (let left = n; left > 0;) {
      const got = (await reader.read(Math.min(left, PIECE))).length;
      if (got === 0) throw fail(`truncated ${what}`);
      left -= got;
    }
  };
  let longName: string | undefined;
  try {
    while (true) {
      const h = await reader.read(BLOCK);
      if (h.length < BLOCK) throw fail("ends inside a header (truncated)");
      if (h.every((v) => v === 0)) break;
      if (!checksumOk(h)) throw fail("bad header checksum (corrupt)");
      const size = octal(h, 124, 12);
      if (!Number.isSafeInteger(size) || size < 0) throw fail("bad size field in a header");
      const type = String.fromCharCode(h[156] || 48);
      const prefix = cString(h, 257, 6).startsWith("ustar") ? cString(h, 345, 155) : "";
      let name = longName ?? (prefix ? `${prefix}/${cString(h, 0, 100)}` : cString(h, 0, 100));
      longName = undefined;
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (type === "L" || type === "x") {
        if (size > lim.maxHeaderBytes) {
          throw fail(
            `a ${type === "L" ? "GNU long-name" : "pax"} header of ${size} bytes exceeds the ` +
              `limit of ${lim.maxHeaderBytes}`,
          );
        }
        const body = await reader.read(padded);
        if (body.length < padded) throw fail("truncated in a header body");
        longName = type === "L" ? cString(body, 0, size) : paxPath(body.subarray(0, size));
        continue;
      }
      if (type !== "0" && type !== "7") {
        // Directories, links and global headers: skip the body (directories are made on demand).
        await skip(padded, `in the body of a type-${quote(type)} entry`);
        continue;
      }
      name = safeRelative(name, fail);
      if (written.length >= lim.maxEntries) {
        throw fail(`holds more than ${lim.maxEntries} files (the limit)`);
      }
      const out = await o.sink.open(name, size);
      try {
        for (let left = size; left > 0;) {
          const piece = await reader.read(Math.min(left, PIECE));
          if (piece.length === 0) throw fail(`truncated inside ${quote(name)}`);
          await out.write(piece);
          left -= piece.length;
        }
      } finally {
        out.close();
      }
      await skip(padded - size, `after ${quote(name)}`);
      written.push(name);
    }
  } finally {
    await raw.cancel().catch(() => {});
  }
  return written;
}

/**
 * List the regular files of a .tar.gz held in memory (names and sizes), reading every byte as
 * extraction would but writing nothing: for tests and the fuzz test.
 * @example
 * const files = await listTarGz(bytes, "x.tar.gz"); // [{ name: "a/b.bin", size: 3073 }]
 */
export async function listTarGz(
  bytes: Uint8Array,
  source: string,
  limits: TarLimits = {},
): Promise<Array<{ name: string; size: number }>> {
  const files: Array<{ name: string; size: number }> = [];
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  const ratio = limits.maxRatio ?? TAR_LIMITS.maxRatio;
  await readTar({
    stream,
    source,
    maxBytes: Math.max(ratio * bytes.length, 1 << 20),
    limits,
    sink: {
      open: (name, size) => {
        files.push({ name, size });
        return Promise.resolve({ write: () => Promise.resolve(), close: () => {} });
      },
    },
  });
  return files;
}

/**
 * Extract the regular files of a gzip-compressed tar archive into `destDir`; returns the
 * relative paths written. A corrupt, truncated or over-limit archive (a header body past
 * `maxHeaderBytes`, more than `maxRatio` times its own size, more than `maxEntries` files)
 * throws a TarError naming it and the limit.
 * @example
 * await extractTarGz("data/cifar-10-binary.tar.gz", "data");
 * // [..., "cifar-10-batches-bin/test_batch.bin", ...]
 */
export async function extractTarGz(
  archive: string,
  destDir: string,
  limits: TarLimits = {},
): Promise<string[]> {
  const file = await Deno.open(archive, { read: true });
  const compressed = (await file.stat()).size;
  const ratio = limits.maxRatio ?? TAR_LIMITS.maxRatio;
  const stream = file.readable.pipeThrough(new DecompressionStream("gzip"));
  return await readTar({
    stream,
    source: archive,
    maxBytes: Math.max(ratio * compressed, 1 << 20),
    limits,
    sink: {
      async open(name) {
        const out = join(destDir, name);
        let f: Deno.FsFile;
        try {
          await Deno.mkdir(dirname(out), { recursive: true });
          f = await Deno.open(out, { write: true, create: true, truncate: true });
        } catch (e) {
          throw new TarError(archive, `cannot write entry ${quote(name)} (${safeMessage(e)})`);
        }
        return {
          async write(piece) {
            let off = 0;
            while (off < piece.length) off += await f.write(piece.subarray(off));
          },
          close: () => f.close(),
        };
      },
    },
  });
}
