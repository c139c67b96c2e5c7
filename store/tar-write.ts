// Write tar headers from code (test archives and the fuzz test's seeds): the reader is store/tar.ts.

/**
 * One 512-byte ustar header block: the name (cut to the block), mode 0644, the size in octal, the
 * type flag ("0" a file, "5" a folder, "L" a GNU long name, "x" a pax header) and its checksum.
 * @example
 * const h = ustarHeader("a.txt", 5, "0"); // then the 5 bytes, padded to 512
 */
export function ustarHeader(name: string, size: number, type: string): Uint8Array {
  const h = new Uint8Array(512);
  const put = (at: number, s: string) =>
    h.set(new TextEncoder().encode(s).subarray(0, 512 - at), at);
  put(0, name);
  put(100, "0000644\0");
  put(124, size.toString(8).padStart(11, "0") + "\0");
  put(136, "00000000000\0");
  h[156] = type.charCodeAt(0);
  put(257, "ustar\x0000");
  h.fill(32, 148, 156);
  put(148, h.reduce((a, b) => a + b, 0).toString(8).padStart(6, "0") + "\0 ");
  return h;
}
