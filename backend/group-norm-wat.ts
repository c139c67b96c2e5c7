// The WebAssembly (SIMD) text of the GroupNorm passes on the wasm heap: per-channel float64 sums
// and the per-channel affine maps, in the arithmetic of backend/group-norm-math.ts to the bit.

/** Two float32 at `at` (an address expression), offset `o` bytes, as two float64 lanes. */
const ld = (at: string, o = 0) => `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${o} ${at}))`;
/** Store two float64 lanes `v` at `at` + `o` as float32. */
const st = (at: string, o: number, v: string) =>
  `(v128.store64_lane offset=${o} 0 ${at} (f32x4.demote_f64x2_zero ${v}))`;
const get = (name: string) => `(local.get $${name})`;

/**
 * Per-channel sums over the pixels of each example, 4 channels (two v128 of float64) at a time
 * in registers, the pixels in order: `lane(o)` gives the value summed into s1 at byte offset o of
 * the current pixel (it may also store), `second(o)` what multiplies it into s2.
 */
function sumsFunc(
  name: string,
  params: string[],
  lane: (o: number) => string[],
  second: (o: number) => string,
): string {
  const half = (o: number, s1: string, s2: string) =>
    [
      ...lane(o),
      `(local.set $${s1} (f64x2.add ${get(s1)} ${get("v")}))`,
      `(local.set $${s2} (f64x2.add ${get(s2)} (f64x2.mul ${get("v")} ${second(o)})))`,
    ].join("\n          ");
  return `
  (func (export "${name}") ${params.map((p) => `(param $${p} i32)`).join(" ")}
    (param $out i32) (param $b i32) (param $n i32) (param $c i32)
    (local $e i32) (local $k i32) (local $p i32) (local $i i32) (local $row i32) (local $plane i32)
    (local $o i32) (local $v v128) (local $si v128) (local $x0lo v128) (local $x0hi v128)
    (local $s1lo v128) (local $s1hi v128) (local $s2lo v128) (local $s2hi v128)
    (local.set $row (i32.shl ${get("c")} (i32.const 2)))
    (local.set $plane (i32.shl (i32.mul ${get("b")} ${get("c")}) (i32.const 3)))
    (block $eDone (loop $eLoop
      (br_if $eDone (i32.ge_u ${get("e")} ${get("b")}))
      (local.set $k (i32.const 0))
      (block $kDone (loop $kLoop
        (br_if $kDone (i32.ge_u ${get("k")} ${get("c")}))
        (local.set $i (i32.add (i32.mul (i32.mul ${get("e")} ${get("n")}) ${get("row")})
          (i32.shl ${get("k")} (i32.const 2))))
        (local.set $x0lo ${ld(`(i32.add ${get("x")} ${get("i")})`)})
        (local.set $x0hi ${ld(`(i32.add ${get("x")} ${get("i")})`, 8)})
        (local.set $s1lo (v128.const i64x2 0 0))
        (local.set $s1hi (v128.const i64x2 0 0))
        (local.set $s2lo (v128.const i64x2 0 0))
        (local.set $s2hi (v128.const i64x2 0 0))
        (local.set $p ${get("n")})
        (block $pDone (loop $pLoop
          (br_if $pDone (i32.eqz ${get("p")}))
          ${half(0, "s1lo", "s2lo")}
          ${half(8, "s1hi", "s2hi")}
          (local.set $i (i32.add ${get("i")} ${get("row")}))
          (local.set $p (i32.sub ${get("p")} (i32.const 1)))
          (br $pLoop)))
        (local.set $o (i32.add ${get("out")}
          (i32.shl (i32.add (i32.mul ${get("e")} ${get("c")}) ${get("k")}) (i32.const 3))))
        (v128.store ${get("o")} ${get("s1lo")})
        (v128.store offset=16 ${get("o")} ${get("s1hi")})
        (local.set $o (i32.add ${get("o")} ${get("plane")}))
        (v128.store ${get("o")} ${get("s2lo")})
        (v128.store offset=16 ${get("o")} ${get("s2hi")})
        (local.set $k (i32.add ${get("k")} (i32.const 4)))
        (br $kLoop)))
      (local.set $e (i32.add ${get("e")} (i32.const 1)))
      (br $eLoop))))`;
}

/**
 * Examples, then their pixels, then their channels 4 at a time, pixels outermost (contiguous
 * reads): `perExample` runs at each example's start, `perPixel` at each pixel's, `body` for each
 * 4 channels, after which $i (the byte offset of those 4 channels in the batch) advances by 16.
 * The function declares $e, $p, $k and $i.
 */
function pixelLoops(o: { perExample: string[]; perPixel: string[]; body: string[] }): string {
  const lines = (xs: string[], indent: string) => xs.join(`\n${indent}`);
  return `(block $eDone (loop $eLoop
      (br_if $eDone (i32.ge_u ${get("e")} ${get("b")}))
      ${lines(o.perExample, "      ")}
      (local.set $p ${get("n")})
      (block $pDone (loop $pLoop
        (br_if $pDone (i32.eqz ${get("p")}))
        ${lines(o.perPixel, "        ")}
        (local.set $k ${get("c")})
        (block $kDone (loop $kLoop
          (br_if $kDone (i32.eqz ${get("k")}))
          ${lines(o.body, "          ")}
          (local.set $i (i32.add ${get("i")} (i32.const 16)))
          (local.set $k (i32.sub ${get("k")} (i32.const 4)))
          (br $kLoop)))
        (local.set $p (i32.sub ${get("p")} (i32.const 1)))
        (br $pLoop)))
      (local.set $e (i32.add ${get("e")} (i32.const 1)))
      (br $eLoop)))`;
}

/**
 * The sums of {@link sumsFunc} with pixels outermost (contiguous reads), the float64 sums kept
 * in the output planes (in L1) instead of registers: same order per channel, same bits.
 */
function sumsFuncRows(
  name: string,
  params: string[],
  lane: (o: number) => string[],
  second: (o: number) => string,
): string {
  const half = (o: number) =>
    [
      ...lane(o),
      `(v128.store offset=${2 * o} ${get("a1")} (f64x2.add (v128.load offset=${2 * o} ${
        get("a1")
      }) ${get("v")}))`,
      `(v128.store offset=${2 * o} ${get("a2")} (f64x2.add (v128.load offset=${2 * o} ${
        get("a2")
      }) (f64x2.mul ${get("v")} ${second(o)})))`,
    ].join("\n          ");
  return `
  (func (export "${name}") ${params.map((p) => `(param $${p} i32)`).join(" ")}
    (param $out i32) (param $b i32) (param $n i32) (param $c i32)
    (local $e i32) (local $k i32) (local $p i32) (local $i i32) (local $plane i32)
    (local $base1 i32) (local $base2 i32) (local $a1 i32) (local $a2 i32) (local $v v128) (local $si v128)
    (local.set $plane (i32.shl (i32.mul ${get("b")} ${get("c")}) (i32.const 3)))
    (memory.fill ${get("out")} (i32.const 0) (i32.shl ${get("plane")} (i32.const 1)))
    ${
    pixelLoops({
      perExample: [
        `(local.set $base1 (i32.add ${get("out")} (i32.shl (i32.mul ${get("e")} ${
          get("c")
        }) (i32.const 3))))`,
        `(local.set $base2 (i32.add ${get("base1")} ${get("plane")}))`,
      ],
      perPixel: [`(local.set $a1 ${get("base1")})`, `(local.set $a2 ${get("base2")})`],
      body: [
        half(0),
        half(8),
        `(local.set $a1 (i32.add ${get("a1")} (i32.const 32)))`,
        `(local.set $a2 (i32.add ${get("a2")} (i32.const 32)))`,
      ],
    })
  })`;
}

/**
 * A per-channel affine map over every pixel, pixels outermost: `value(o)` is the float64 pair
 * written at byte offset o of the current pixel, reading coefficient planes through $cf (plane
 * 0), $cf1 (plane 1) and $cf2 (plane 2), each advanced 16 bytes per pair of channels.
 */
function mapFunc(
  name: string,
  params: string[],
  out: string,
  value: (o: number) => string,
): string {
  const pair = (o: number) =>
    [
      st(`(i32.add ${get(out)} ${get("i")})`, o, value(o)),
      `(local.set $cf (i32.add ${get("cf")} (i32.const 16)))`,
      `(local.set $cf1 (i32.add ${get("cf1")} (i32.const 16)))`,
      `(local.set $cf2 (i32.add ${get("cf2")} (i32.const 16)))`,
    ].join("\n          ");
  return `
  (func (export "${name}") ${params.map((p) => `(param $${p} i32)`).join(" ")}
    (param $b i32) (param $n i32) (param $c i32)
    (local $e i32) (local $p i32) (local $k i32) (local $i i32) (local $base i32) (local $plane i32)
    (local $cf i32) (local $cf1 i32) (local $cf2 i32)
    (local.set $plane (i32.shl (i32.mul ${get("b")} ${get("c")}) (i32.const 3)))
    ${
    pixelLoops({
      perExample: [
        `(local.set $base (i32.add ${get("coef")} (i32.shl (i32.mul ${get("e")} ${
          get("c")
        }) (i32.const 3))))`,
      ],
      perPixel: [
        `(local.set $cf ${get("base")})`,
        `(local.set $cf1 (i32.add ${get("base")} ${get("plane")}))`,
        `(local.set $cf2 (i32.add ${get("cf1")} ${get("plane")}))`,
      ],
      body: [pair(0), pair(8)],
    })
  })`;
}

const at = (base: string) => `(i32.add ${get(base)} ${get("i")})`;
const one = "(f64x2.splat (f64.const 1))";

/**
 * The module's text, compiled at start-up by backend/group-norm-simd.ts. It imports tfjs-wasm's
 * memory as env.memory; every pointer is a byte offset in it. Channels go 4 at a time (c must be
 * a multiple of 4), each pair of channels in the two float64 lanes of a v128, so each channel's
 * sum runs over the pixels in order, and every product and sum is the JS loops' float64 one.
 * Sums and coefficients are float64 "planes" of b * c values (example-major).
 *
 * - `sums(x, out, b, n, c)`: planes sum_p (x - x0) and sum_p (x - x0)^2 per example and channel,
 *   x0 the channel's value at the example's first pixel.
 * - `affine(x, coef, z, b, n, c)`: z = x * coef0 + coef1 (planes 0, 1), rounded to float32.
 * - `gradSums(dy, x, out, b, n, c)`: planes sum_p dy and sum_p dy x.
 * - `siluGradSums(dy, x, z, s, out, b, n, c)`: dz = dy s (1 + z (1 - s)) written over z, and
 *   the planes sum_p dz and sum_p dz x of that dz (before its rounding to float32).
 * - `gradApply(src, x, coef, dx, b, n, c)`: dx = src coef0 + x coef1 + coef2 (planes 0, 1, 2).
 * - `mul(a, b, out, len)`: out = a * b elementwise (float32, len a multiple of 4).
 * @example
 * const wat = GROUP_NORM_WAT; // wabt's parseWat(..., { simd: true }) compiles it
 */
export const GROUP_NORM_WAT = `
(module
  (import "env" "memory" (memory 0))
${
  sumsFunc(
    "sums",
    ["x"],
    (o) => [`(local.set $v (f64x2.sub ${ld(at("x"), o)} ${get(o ? "x0hi" : "x0lo")}))`],
    () => get("v"),
  )
}
${
  sumsFunc("gradSums", ["x", "dy"], (o) => [`(local.set $v ${ld(at("dy"), o)})`], (o) =>
    ld(at("x"), o))
}
${
  sumsFuncRows("siluGradSums", ["x", "dy", "z", "s"], (o) => [
    `(local.set $si ${ld(at("s"), o)})`,
    `(local.set $v (f64x2.mul (f64x2.mul ${ld(at("dy"), o)} ${
      get("si")
    }) (f64x2.add ${one} (f64x2.mul ${ld(at("z"), o)} (f64x2.sub ${one} ${get("si")})))))`,
    st(at("z"), o, get("v")),
  ], (o) => ld(at("x"), o))
}
${
  mapFunc("affine", ["x", "coef", "z"], "z", (o) =>
    `(f64x2.add (f64x2.mul ${ld(at("x"), o)} (v128.load ${get("cf")})) (v128.load ${get("cf1")}))`)
}
${
  mapFunc("gradApply", ["src", "x", "coef", "dx"], "dx", (o) =>
    `(f64x2.add (f64x2.add (f64x2.mul ${ld(at("src"), o)} (v128.load ${get("cf")})) (f64x2.mul ${
      ld(at("x"), o)
    } (v128.load ${get("cf1")}))) (v128.load ${get("cf2")}))`)
}
  (func (export "mul") (param $a i32) (param $b i32) (param $out i32) (param $len i32)
    (local $i i32) (local $end i32)
    (local.set $end (i32.shl (local.get $len) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (v128.store (i32.add (local.get $out) (local.get $i)) (f32x4.mul
        (v128.load (i32.add (local.get $a) (local.get $i)))
        (v128.load (i32.add (local.get $b) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l))))
)
`;
