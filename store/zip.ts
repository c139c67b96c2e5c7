// A minimal zip reader for PyTorch checkpoints: the central directory (zip64 too) and STORED
// entries, each checked against its CRC-32; compressed entries are refused with their name.
import { crc32 } from "./crc32.ts";
import { quote } from "./quote.ts";

/**
 * Raised for a zip file that cannot be read; the message names the file and the problem.
 * @example
 * new ZipError("w.pth", "truncated: 12 bytes").message; // "zip w.pth: truncated: 12 bytes"
 */
export class ZipError extends Error {
  constructor(source: string, problem: string) {
    super(`zip ${source}: ${problem}`);
    this.name = "ZipError";
  }
}

/** One central-directory entry. */
export interface ZipEntry {
  name: string;
  /** 0 = stored; anything else is compressed and cannot be read here. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header. */
  localOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

/**
 * True if the bytes start like a zip file (a local header or an empty archive).
 * @example
 * looksLikeZip(new Uint8Array([0x50, 0x4b, 3, 4])); // true
 */
export function looksLikeZip(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const sig = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  return sig === LOCAL || sig === EOCD;
}

/**
 * A zip archive held in memory. Only what PyTorch's writer produces is needed: stored entries,
 * optionally zip64; the data of an entry is a view into the archive bytes (no copy).
 * @example
 * const zip = new ZipArchive(await Deno.readFile("model.pth"), "model.pth");
 * const pkl = zip.read(zip.names().find((n) => n.endsWith("/data.pkl"))!);
 */
export class ZipArchive {
  private readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array, readonly source: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const eocd = this.findEocd();
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
      ({ count, cdSize, cdOffset } = this.zip64Directory(eocd));
    }
    if (count > cdSize / 46) {
      throw this.error(
        `the directory claims ${count} entries, but its ${cdSize} bytes hold at most ` +
          `${Math.floor(cdSize / 46)}`,
      );
    }
    if (cdOffset + cdSize > bytes.length) {
      throw this.error(
        `truncated: the central directory ends past the file's ${bytes.length} bytes`,
      );
    }
    let at = cdOffset;
    for (let i = 0; i < count; i++) {
      const e = this.centralEntry(at);
      this.entries.set(e.entry.name, e.entry);
      at = e.next;
    }
  }

  /** Entry names in directory order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The directory entry of `name`, or undefined. */
  entry(name: string): ZipEntry | undefined {
    return this.entries.get(name);
  }

  /** The bytes of a stored entry (a view), after checking its CRC-32. */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw this.error(`no entry named ${quote(name)}`);
    if (e.method !== 0) {
      throw this.error(
        `entry ${
          quote(name)
        } is compressed (method ${e.method}); only stored entries can be read ` +
          `(torch.save writes stored entries)`,
      );
    }
    if (e.localOffset + 30 > this.bytes.length || this.u32(e.localOffset) !== LOCAL) {
      throw this.error(`entry ${quote(name)}: no local header at offset ${e.localOffset}`);
    }
    const start = e.localOffset + 30 + this.u16(e.localOffset + 26) + this.u16(e.localOffset + 28);
    if (start + e.size > this.bytes.length) {
      throw this.error(
        `truncated: entry ${quote(name)} needs bytes ${start}..${start + e.size}, the file has ` +
          `${this.bytes.length}`,
      );
    }
    const data = this.bytes.subarray(start, start + e.size);
    const crc = crc32(data);
    if (crc !== e.crc32) {
      throw this.error(
        `entry ${quote(name)} is corrupt: CRC-32 ${hex(crc)}, the directory says ${hex(e.crc32)}`,
      );
    }
    return data;
  }

  private u16(at: number): number {
    return this.view.getUint16(at, true);
  }

  private u32(at: number): number {
    return this.view.getUint32(at, true);
  }

  private u64(at: number): number {
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.error(`a zip64 field is too large (${v})`);
    return Number(v);
  }

  private error(problem: string): ZipError {
    return new ZipError(this.source, problem);
  }

  /** The end-of-central-directory record: the last one in the final 64 KiB + 22 bytes. */
  private findEocd(): number {
    const n = this.bytes.length;
    const lowest = Math.max(0, n - 22 - U16_MAX);
    for (let at = n - 22; at >= lowest; at--) {
      if (this.u32(at) === EOCD && at + 22 + this.u16(at + 20) === n) return at;
    }
    throw this.error(
      n < 22 ? `truncated: ${n} bytes` : "no end-of-central-directory record (not a zip file, " +
        "or truncated)",
    );
  }

  private zip64Directory(eocd: number): { count: number; cdSize: number; cdOffset: number } {
    const loc = eocd - 20;
    if (loc < 0 || this.u32(loc) !== EOCD64_LOCATOR) {
      throw this.error("zip64 sizes are announced but the zip64 locator is missing");
    }
    const rec = this.u64(loc + 8);
    if (rec + 56 > this.bytes.length || this.u32(rec) !== EOCD64) {
      throw this.error(`no zip64 end-of-central-directory record at offset ${rec}`);
    }
    return { count: this.u64(rec + 32), cdSize: this.u64(rec + 40), cdOffset: this.u64(rec + 48) };
  }

  private centralEntry(at: number): { entry: ZipEntry; next: number } {
    if (at + 46 > this.bytes.length || this.u32(at) !== CENTRAL) {
      throw this.error(`bad central directory entry at offset ${at}`);
    }
    const nameLen = this.u16(at + 28);
    const extraLen = this.u16(at + 30);
    const commentLen = this.u16(at + 32);
    const next = at + 46 + nameLen + extraLen + commentLen;
    if (next > this.bytes.length) throw this.error(`truncated central directory entry at ${at}`);
    const name = new TextDecoder().decode(this.bytes.subarray(at + 46, at + 46 + nameLen));
    let compressedSize = this.u32(at + 20);
    let size = this.u32(at + 24);
    let localOffset = this.u32(at + 42);
    // Zip64 extra field (id 1): the 64-bit values of the fields that hold 0xFFFFFFFF, in order.
    let x = at + 46 + nameLen;
    const end = x + extraLen;
    while (x + 4 <= end) {
      const id = this.u16(x);
      const len = this.u16(x + 2);
      if (x + 4 + len > end) {
        throw this.error(
          `entry ${quote(name)}: extra field 0x${id.toString(16)} of ${len} bytes runs past ` +
            `the entry's ${extraLen} bytes of extra data`,
        );
      }
      if (id === 1) {
        let p = x + 4;
        const stop = p + len;
        const wide = (what: string) => {
          if (p + 8 > stop) {
            throw this.error(
              `entry ${quote(name)}: its zip64 extra field (${len} bytes) lacks the 64-bit ${what}`,
            );
          }
          p += 8;
          return this.u64(p - 8);
        };
        if (size === U32_MAX) size = wide("size");
        if (compressedSize === U32_MAX) compressedSize = wide("compressed size");
        if (localOffset === U32_MAX) localOffset = wide("local header offset");
      }
      x += 4 + len;
    }
    const entry: ZipEntry = {
      name,
      method: this.u16(at + 10),
      crc32: this.u32(at + 16),
      compressedSize,
      size,
      localOffset,
    };
    return { entry, next };
  }
}

function hex(v: number): string {
  return `0x${v.toString(16).padStart(8, "0")}`;
}
