// PNG sample grids: valid chunks and CRCs, pixels that round-trip, grid layout, report-safe URI.
import assert from "node:assert/strict";
import { encodePng, imageGridDataUri } from "../store/png.ts";
import { tf } from "../core/tf.ts";
import { safeDataImageUri } from "../reports/escape.ts";

await tf.setBackend("cpu");

interface Chunk {
  type: string;
  data: Uint8Array;
}

function chunks(png: Uint8Array): Chunk[] {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer, png.byteOffset);
  const out: Chunk[] = [];
  for (let at = 8; at < png.length;) {
    const len = dv.getUint32(at);
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    out.push({ type, data: png.subarray(at + 8, at + 8 + len) });
    at += 12 + len;
  }
  return out;
}

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

Deno.test("png: header, dimensions and pixels round-trip through the zlib stream", async () => {
  const w = 3, h = 2;
  const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
  const cs = chunks(await encodePng({ width: w, height: h, rgb }));
  assert.deepEqual(cs.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
  const ihdr = new DataView(cs[0].data.buffer, cs[0].data.byteOffset);
  assert.equal(ihdr.getUint32(0), w);
  assert.equal(ihdr.getUint32(4), h);
  const raw = await inflate(cs[1].data);
  assert.equal(raw.length, h * (1 + 3 * w));
  for (let y = 0; y < h; y++) {
    assert.equal(raw[y * (1 + 3 * w)], 0, "filter type 0");
    assert.deepEqual([...raw.subarray(y * (1 + 3 * w) + 1, (y + 1) * (1 + 3 * w))], [
      ...rgb.subarray(3 * w * y, 3 * w * (y + 1)),
    ]);
  }
  await assert.rejects(
    () => encodePng({ width: 2, height: 2, rgb: new Uint8Array(5) }),
    /5 bytes for 2x2/,
  );
});

Deno.test("png: a grid of [-1, 1] images is laid out with gaps and maps -1 to 0 and 1 to 255", async () => {
  const imgs = tf.concat([tf.fill([1, 4, 4, 3], -1), tf.fill([4, 4, 4, 3], 1)]);
  const uri = await imageGridDataUri(imgs, 4);
  assert.ok(safeDataImageUri(uri), "the report accepts it");
  const png = Uint8Array.from(atob(uri.split(",")[1]), (c) => c.charCodeAt(0));
  const cs = chunks(png);
  const ihdr = new DataView(cs[0].data.buffer, cs[0].data.byteOffset);
  assert.equal(ihdr.getUint32(0), 4 * 5 - 1);
  assert.equal(ihdr.getUint32(4), 2 * 5 - 1);
  const raw = await inflate(cs[1].data);
  const W = 19;
  const px = (x: number, y: number) => raw[y * (1 + 3 * W) + 1 + 3 * x];
  assert.equal(px(0, 0), 0, "first image is black");
  assert.equal(px(5, 0), 255, "second image is white");
  assert.equal(px(0, 5), 255, "second row starts with image 5");
  imgs.dispose();
});
