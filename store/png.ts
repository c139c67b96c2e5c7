// PNG encoding of generated images for the report: an RGB grid as a base64 data URI.
import { type Tensor, tf } from "../core/tf.ts";
import { crc32 } from "./crc32.ts";

/**
 * One PNG chunk: length, type, data and the CRC-32 of type and data.
 * @example
 * pngChunk("IEND", new Uint8Array(0)); // [0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130]
 */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

async function zlib(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * An 8-bit RGB PNG of `rgb` (row-major, width * height * 3 bytes).
 * @example
 * const png = await encodePng(2, 1, new Uint8Array([255, 0, 0, 0, 0, 255])); // red, blue
 */
export async function encodePng(
  { width, height, rgb }: { width: number; height: number; rgb: Uint8Array },
): Promise<Uint8Array> {
  if (rgb.length !== width * height * 3) {
    throw new Error(`encodePng: ${rgb.length} bytes for ${width}x${height} RGB`);
  }
  const raw = new Uint8Array(height * (1 + 3 * width));
  for (let y = 0; y < height; y++) {
    raw.set(rgb.subarray(3 * width * y, 3 * width * (y + 1)), y * (1 + 3 * width) + 1);
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", await zlib(raw)),
    pngChunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
}

/**
 * A grid of images NHWC (RGB, values in `range`) as a PNG data URI, `cols` per row with a
 * 1-pixel gap. Values are clipped and rounded to 8 bits.
 * @example
 * await imageGridDataUri(samples, 8); // "data:image/png;base64,iVBORw0KGgo..."
 */
export async function imageGridDataUri(
  images: Tensor,
  cols: number,
  range: [number, number] = [-1, 1],
): Promise<string> {
  const [n, h, w, c] = images.shape;
  if (c !== 3) throw new Error(`imageGridDataUri: expected RGB images, got ${c} channels`);
  const bytes = tf.tidy(() =>
    tf.clipByValue(tf.round(tf.mul(tf.sub(images, range[0]), 255 / (range[1] - range[0]))), 0, 255)
  );
  const v = await bytes.data();
  bytes.dispose();
  const rows = Math.ceil(n / cols);
  const W = cols * (w + 1) - 1, H = rows * (h + 1) - 1;
  const rgb = new Uint8Array(W * H * 3).fill(255);
  for (let i = 0; i < n; i++) {
    const ox = (i % cols) * (w + 1), oy = Math.floor(i / cols) * (h + 1);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < 3; k++) {
          rgb[3 * ((oy + y) * W + ox + x) + k] = v[((i * h + y) * w + x) * 3 + k];
        }
      }
    }
  }
  const png = await encodePng({ width: W, height: H, rgb });
  let bin = "";
  for (const b of png) bin += String.fromCharCode(b);
  return `data:image/png;base64,${btoa(bin)}`;
}
