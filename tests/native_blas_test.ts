// wasm kernels over a native BLAS (BatchMatMul, Sum, Mean) and wasm's shared-data Identity against
// the cpu backend; the BLAS tests are skipped, with the reason, where no BLAS can be loaded.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import { selectBackend } from "../backend/select.ts";
import {
  blasCandidates,
  dlopenReason,
  loadBlas,
  notFoundMessage,
  openblasCoreType,
} from "../backend/native-blas.ts";
import { axisRuns } from "../backend/wasm-blas-reduce.ts";
import { randomArray } from "./helpers/random.ts";

const info = await selectBackend("wasm");
const { blas, why } = loadBlas();
if (!blas) console.error(`native BLAS tests skipped: ${why}`);

/** f evaluated on wasm and on cpu with the same inputs; returns both results' values. */
function onBoth(
  shapes: number[][],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
): { wasm: Float32Array; cpu: Float32Array; shape: number[] } {
  const run = (backend: string) => {
    tf.setBackend(backend);
    return tf.tidy(() => {
      const xs = shapes.map((s, i) =>
        tf.tensor(randomArray(s.reduce((a, b) => a * b, 1), i + 1), s)
      );
      const y = f(...xs);
      return { values: y.dataSync() as Float32Array, shape: y.shape };
    });
  };
  const c = run("cpu");
  const w = run("wasm");
  assert.deepEqual(w.shape, c.shape);
  return { wasm: w.values, cpu: c.values, shape: w.shape };
}

function assertClose(a: Float32Array, b: Float32Array, tol: number, what: string) {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.ok(
      Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])),
      `${what}[${i}]: ${a[i]} vs ${b[i]}`,
    );
  }
}

Deno.test("the backend notes say whether matrix products use a native BLAS", () => {
  const note = info.notes.find((n) => n.startsWith("wasm: matrix products"));
  assert.ok(note, info.notes.join("; "));
  assert.equal(note.includes("native BLAS"), !!blas, note);
});

Deno.test("OpenBLAS gets its AVX-512 kernels on AMD AVX-512 CPUs only, unless the user chose", () => {
  const cpu = (vendor: string, flags: string) =>
    `processor\t: 0\nvendor_id\t: ${vendor}\ncpu family\t: 25\nflags\t\t: ${flags}\n\n` +
    `processor\t: 1\nvendor_id\t: ${vendor}\nflags\t\t: ${flags}\n`;
  const zen4 = "fpu sse2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16";
  assert.equal(openblasCoreType(cpu("AuthenticAMD", zen4)), "SkylakeX");
  assert.equal(openblasCoreType(cpu("AuthenticAMD", zen4), "Zen"), undefined);
  assert.equal(openblasCoreType(cpu("AuthenticAMD", "fpu sse2 avx avx2 fma")), undefined);
  assert.equal(openblasCoreType(cpu("AuthenticAMD", "avx2 avx512f avx512cd")), undefined);
  assert.equal(openblasCoreType(cpu("GenuineIntel", zen4)), undefined);
  assert.equal(openblasCoreType(""), undefined);
  // The loaded library reports its kernel set, and the notes name it.
  if (blas?.core) {
    const note = info.notes.find((n) => n.startsWith("wasm: matrix products"))!;
    assert.ok(note.includes(`OpenBLAS kernels ${blas.core}`), note);
    assert.equal(!!blas.coreChosen, note.includes("set by fmbench"), note);
  }
});

Deno.test("blasCandidates lists a library for each OS", () => {
  for (const os of ["linux", "darwin", "windows"]) assert.ok(blasCandidates(os).length > 0);
});

Deno.test({
  name: "BLAS BatchMatMul matches cpu: transposes, batches, broadcast batch",
  ignore: !blas,
  fn() {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[5, 7], [7, 3], false, false],
      [[7, 5], [7, 3], true, false],
      [[5, 7], [3, 7], false, true],
      [[7, 5], [3, 7], true, true],
      [[4, 5, 7], [4, 7, 3], false, false],
      [[2, 3, 7, 5], [2, 3, 3, 7], true, true],
      [[4, 5, 7], [7, 3], false, false],
      [[5, 7], [4, 7, 3], false, false],
      [[1, 1], [1, 300], false, false],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      const r = onBoth([sa, sb], (a, b) => tf.matMul(a, b, ta, tb));
      assertClose(r.wasm, r.cpu, 1e-5, `matMul ${sa} ${sb} ${ta} ${tb}`);
    }
  },
});

Deno.test("axisRuns merges neighbouring kept and reduced axes", () => {
  assert.deepEqual(axisRuns([2, 3, 4, 5], [1, 2]), [
    { size: 2, reduced: false },
    { size: 12, reduced: true },
    { size: 5, reduced: false },
  ]);
  assert.deepEqual(axisRuns([2, 3, 4], [0, 2]), [
    { size: 2, reduced: true },
    { size: 3, reduced: false },
    { size: 4, reduced: true },
  ]);
});

Deno.test({
  name: "BLAS Sum and Mean match cpu over any set of axes, keepDims or not",
  ignore: !blas,
  fn() {
    const shape = [3, 4, 5, 2, 6];
    const axesList: number[][] = [[0], [4], [1, 2], [0, 4], [1, 2, 4], [0, 1, 2, 3, 4], [2, 0]];
    for (const axes of axesList) {
      for (const keepDims of [false, true]) {
        const s = onBoth([shape], (x) => tf.sum(x, axes, keepDims));
        assertClose(s.wasm, s.cpu, 1e-5, `sum ${axes} ${keepDims}`);
        const m = onBoth([shape], (x) => tf.mean(x, axes, keepDims));
        assertClose(m.wasm, m.cpu, 1e-5, `mean ${axes} ${keepDims}`);
      }
    }
    // Many outer blocks with a kept inner run: the original kernel's path.
    const big = onBoth([[600, 3, 2]], (x) => tf.sum(x, 1));
    assertClose(big.wasm, big.cpu, 1e-5, "sum over the middle of [600, 3, 2]");
  },
});

Deno.test("wasm Identity and same-dtype Cast share data; the copy outlives its source", () => {
  tf.setBackend("wasm");
  const a = tf.tensor([1, 2, 3]);
  const b = a.clone();
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
  b.dispose();
  // A variable assigned new values leaves an earlier clone of it untouched.
  const v = tf.variable(tf.tensor([4, 5]));
  const c = v.clone();
  v.assign(tf.tensor([6, 7]));
  assert.deepEqual(Array.from(c.dataSync()), [4, 5]);
  assert.deepEqual(Array.from(v.dataSync()), [6, 7]);
  tf.dispose([c, v]);
  // Cast to the same dtype shares too; to another dtype it converts.
  const f = tf.tensor([1.5, -2.5]);
  const same = tf.cast(f, "float32"), ints = tf.cast(f, "int32");
  f.dispose();
  assert.deepEqual(Array.from(same.dataSync()), [1.5, -2.5]);
  assert.equal(ints.dtype, "int32");
  assert.deepEqual(Array.from(ints.dataSync()), [1, -2]);
  tf.dispose([same, ints]);
});

Deno.test("wasm Slice and SplitV (block copies) match cpu", () => {
  const shape = [3, 4, 5, 6];
  const slices: Array<[number[], number[]]> = [
    [[0, 0, 0, 0], [3, 4, 5, 6]],
    [[1, 0, 0, 0], [2, 4, 5, 6]],
    [[0, 1, 2, 0], [3, 2, 3, 6]],
    [[0, 0, 0, 2], [3, 4, 5, 3]],
    [[2, 3, 4, 5], [1, 1, 1, 1]],
    [[0, 1, 0, 1], [3, 3, 5, 4]],
  ];
  for (const [begin, size] of slices) {
    const r = onBoth([shape], (x) => tf.slice(x, begin, size));
    assertClose(r.wasm, r.cpu, 0, `slice ${begin} ${size}`);
  }
  for (const [axis, sizes] of [[3, [2, 4]], [1, [1, 3]], [0, [1, 1, 1]], [2, [5]]] as const) {
    const parts = (backend: string) => {
      tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor(randomArray(360, 9), shape);
        return tf.split(x, [...sizes], axis).map((p) => Array.from(p.dataSync()));
      });
    };
    assert.deepEqual(parts("wasm"), parts("cpu"), `split axis ${axis}`);
  }
});

Deno.test({
  name: "BLAS Conv2D (stride 1, any padding) and the fallback for other strides match cpu",
  ignore: !blas,
  fn() {
    const cases: Array<[number[], number[], number, "same" | "valid"]> = [
      [[2, 8, 8, 3], [3, 3, 3, 4], 1, "same"],
      [[2, 9, 7, 3], [3, 3, 3, 5], 1, "valid"],
      [[1, 10, 11, 2], [1, 1, 2, 3], 1, "same"],
      [[2, 7, 7, 4], [4, 4, 4, 3], 1, "same"],
      [[2, 6, 5, 2], [2, 3, 2, 3], 1, "valid"],
      [[2, 8, 8, 3], [3, 3, 3, 4], 2, "same"],
    ];
    for (const [xs, ws, stride, pad] of cases) {
      const r = onBoth(
        [xs, ws],
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad),
      );
      assertClose(r.wasm, r.cpu, 1e-4, `conv2d ${xs} ${ws} ${stride} ${pad}`);
    }
  },
});

Deno.test("no BLAS: the reason is said once per library set, with how to install one", () => {
  const deno = "Could not open library: Could not open library: libopenblas.so.0: cannot open " +
    "shared object file: No such file or directory";
  assert.equal(
    dlopenReason(deno, "libopenblas.so.0"),
    "cannot open shared object file: No such file or directory",
  );
  const reason = "cannot open shared object file: No such file or directory";
  const why = notFoundMessage(
    blasCandidates("linux").map((path) => ({ path, reason })),
    "linux",
  );
  assert.equal((why.match(/Could not open library/gi) ?? []).length, 0, why);
  assert.equal(why.split(reason).length, 2, `the reason once: ${why}`);
  assert.match(why, /could not open libopenblas\.so\.0, libopenblas\.so, libblas\.so\.3/);
  assert.match(
    why,
    /apt-get install libopenblas0.*dnf install openblas-serial.*pacman -S openblas/,
  );
  assert.match(notFoundMessage([{ path: "x", reason: "y" }], "darwin"), /brew install openblas/);
  // A real failed load gives Deno's message, cleaned the same way.
  const real = dlopenReason(tryOpen("/nonexistent/libnone.so"), "/nonexistent/libnone.so");
  assert.ok(real.length > 0 && !/Could not open library|libnone/.test(real), real);
});

function tryOpen(path: string): string {
  try {
    Deno.dlopen(path, { cblas_sgemm: { parameters: [], result: "void" } }).close();
    return "";
  } catch (e) {
    return (e as Error).message;
  }
}
