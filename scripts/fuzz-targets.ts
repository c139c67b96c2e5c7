// The fuzz test's readers: for each file fmbench reads, valid seed files made by code, how to
// mutate them (bytes, or structure-aware), how to read one, and which errors are clean refusals.
import { PickleError, unpickle } from "../store/pickle.ts";
import { readTorchCheckpoint, TorchCheckpointError } from "../store/torch-checkpoint.ts";
import {
  encodePthLegacy,
  encodePthZip,
  f32Bytes,
  i64Bytes,
  PickleWriter,
  type PthSpec,
  stateDictPickle,
  storedZip,
} from "../store/torch-save.ts";
import { ZipArchive, ZipError } from "../store/zip.ts";
import {
  encodeSafetensors,
  SafetensorsError,
  SafetensorsFile,
  type TensorToWrite,
} from "../store/safetensors.ts";
import { listTarGz, TarError } from "../store/tar.ts";
import { checkLockText } from "../store/lock.ts";
import { FileCheckError } from "../store/validate.ts";
import { parseResults, ResultsFileError } from "../results/io.ts";
import {
  checkCheckpoint,
  CHECKPOINT_FORMAT,
  checkWeights,
  WEIGHTS_FORMAT,
} from "../harness/checkpoint-check.ts";
import { checkPairChunk, checkPairs } from "../harness/reflow-check.ts";
import { checkReferenceSamples, REFERENCE_SAMPLES_FORMAT } from "../harness/reference-samples.ts";
import { checkReferenceStats } from "../features/reference-stats-check.ts";
import { REFERENCE_FORMAT } from "../features/reference-stats.ts";
import { RESULTS_SCHEMA } from "../results/schema.ts";
import { printSummary, renderReport } from "../reports/mod.ts";
import { mutateBytes, mutateJsonText, type Rand } from "./fuzz-mutate.ts";
import { ustarHeader } from "../store/tar-write.ts";

/** One reader under test. */
export interface FuzzTarget {
  name: string;
  /** Valid files (each must be accepted as it is). */
  seeds: Uint8Array[];
  mutate(seed: Uint8Array, r: Rand): Uint8Array | Promise<Uint8Array>;
  /** Read the bytes as fmbench would, decoding every tensor; "refused" when it says no. */
  read(bytes: Uint8Array): "accepted" | "refused" | Promise<"accepted" | "refused">;
  /** Whether an error is the reader's own clean refusal (anything else is a crash). */
  refused(e: unknown): boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const SRC = "fuzz-case";

function smallSpec(): PthSpec {
  const base = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
  return {
    storages: new Map([
      ["0", { type: "FloatStorage", data: f32Bytes(base), numel: 24 }],
      ["1", { type: "LongStorage", data: i64Bytes([7]), numel: 1 }],
      ["2", { type: "HalfStorage", data: Uint8Array.from([0, 0x3c, 0, 0xc0]), numel: 2 }],
    ]),
    tensors: [
      ["offset", { storage: "0", offset: 4, shape: [2, 3], stride: [3, 1] }],
      ["transposed", { storage: "0", offset: 0, shape: [3, 2], stride: [1, 3] }],
      ["expanded", { storage: "0", offset: 0, shape: [4, 3], stride: [0, 1] }],
      ["count", { storage: "1", offset: 0, shape: [], stride: [] }],
      ["half", { storage: "2", offset: 0, shape: [2], stride: [1] }],
    ],
  };
}

/** A pickle using most data opcodes of protocols 2-4 (memo, frames, bytes, longs, tuples). */
function allOpsPickle(): Uint8Array {
  const w = new PickleWriter().op(0x95, 0, 0, 0, 0, 0, 0, 0, 0); // FRAME
  w.op(0x7d).op(0x94); // EMPTY_DICT, MEMOIZE
  w.op(0x8c, 1, 0x61).op(0x5d).op(0x71, 1); // "a": [] (BINPUT 1)
  w.op(0x47, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18).op(0x61); // APPEND pi
  w.op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x80).op(0x61); // APPEND a LONG1 bigint
  w.op(0x43, 2, 1, 2).op(0x61).op(0x42, 1, 0, 0, 0, 9).op(0x61); // bytes
  w.op(0x55, 1, 0x78, 0x61).op(0x54, 1, 0, 0, 0, 0x79, 0x61); // py2 strings
  w.op(0x88, 0x89, 0x86, 0x61).op(0x4e, 0x85, 0x61).op(0x29, 0x61); // tuples, NONE, TRUE/FALSE
  w.op(0x68, 1, 0x61).op(0x6a, 1, 0, 0, 0, 0x72, 7, 0, 0, 0, 0x61); // BINGET, LONG_BINGET/PUT
  w.op(0x73); // SETITEM "a"
  w.op(0x8c, 1, 0x62).mark().int(1).int(2).int(3).op(0x74, 0x73); // "b": TUPLE
  w.op(0x8c, 1, 0x63, 0x8c, 11, ...enc.encode("collections"), 0x8c, 11);
  w.op(...enc.encode("OrderedDict"), 0x93, 0x29, 0x52, 0x7d, 0x62, 0x73); // "c": OrderedDict()
  return w.bytes();
}

/**
 * A stored zip whose one entry's sizes live in a zip64 extra field (sizes 0xffffffff in the
 * directory), as a writer does for entries past 4 GiB.
 */
function zip64Seed(): Uint8Array {
  const plain = encodePthZip(smallSpec());
  const first = new ZipArchive(plain, "seed").names()[0];
  const size = new ZipArchive(plain, "seed").entry(first)!.size;
  const dv = new DataView(plain.buffer);
  const eocd = plain.length - 22;
  const cd = dv.getUint32(eocd + 16, true);
  const nameLen = dv.getUint16(cd + 28, true);
  const extraLen = dv.getUint16(cd + 30, true);
  const head = 46 + nameLen + extraLen;
  // The first directory entry, its sizes moved into a zip64 extra field; the rest as they are.
  const central = new Uint8Array(head + 20);
  central.set(plain.subarray(cd, cd + head));
  const cv = new DataView(central.buffer);
  cv.setUint32(20, 0xffffffff, true);
  cv.setUint32(24, 0xffffffff, true);
  cv.setUint16(30, extraLen + 20, true);
  cv.setUint16(head, 1, true);
  cv.setUint16(head + 2, 16, true);
  cv.setBigUint64(head + 4, BigInt(size), true);
  cv.setBigUint64(head + 12, BigInt(size), true);
  const rest = plain.subarray(cd + head, eocd);
  const end = plain.slice(eocd);
  new DataView(end.buffer).setUint32(12, central.length + rest.length, true);
  const out = new Uint8Array(cd + central.length + rest.length + 22);
  out.set(plain.subarray(0, cd));
  out.set(central, cd);
  out.set(rest, cd + central.length);
  out.set(end, cd + central.length + rest.length);
  return out;
}

/** Read a torch checkpoint and decode every floating-point tensor. */
function readTorch(bytes: Uint8Array): "accepted" {
  const ck = readTorchCheckpoint(bytes, SRC);
  for (const n of ck.names()) {
    const dtype = ck.entry(n)!.dtype;
    if (["F32", "F64", "F16", "BF16"].includes(dtype)) ck.float64(n);
  }
  return "accepted";
}

const isTorchError = (e: unknown) => e instanceof TorchCheckpointError;
const isFileError = (e: unknown) => e instanceof SafetensorsError || e instanceof FileCheckError;

/** A stored zip with one entry's bytes mutated and the CRCs made right again. */
function mutateZipEntry(seed: Uint8Array, r: Rand, pick: (names: string[]) => string): Uint8Array {
  const zip = new ZipArchive(seed, "seed");
  const names = zip.names();
  const target = pick(names);
  return storedZip(
    names.map((n) => [n, n === target ? mutateBytes(zip.read(n), r) : zip.read(n).slice()]),
  );
}

/** Decode a safetensors file into editable parts (F64 kept). */
function parts(bytes: Uint8Array) {
  const f = new SafetensorsFile(bytes, "seed");
  const tensors: Record<string, TensorToWrite> = {};
  for (const n of f.names()) {
    const e = f.entry(n)!;
    tensors[n] = { shape: e.shape, data: e.dtype === "F64" ? f.float64(n) : f.float32(n) };
  }
  return { metadata: { ...f.metadata }, tensors };
}

/**
 * A structure-aware mutation of a safetensors file fmbench wrote: a metadata field (JSON ones
 * mutated as JSON), tensor values (NaN, Inf, negatives), shapes, or a missing or extra tensor;
 * else the bytes.
 */
function mutateSafetensors(seed: Uint8Array, r: Rand): Uint8Array {
  if (r.next() < 0.25) return mutateBytes(seed, r);
  const { metadata, tensors } = parts(seed);
  for (let n = 1 + r.int(2); n > 0; n--) {
    const names = Object.keys(tensors);
    const op = r.int(6);
    if (op <= 1) {
      const keys = Object.keys(metadata);
      const k = r.pick(keys);
      metadata[k] = mutateJsonText(metadata[k], r);
    } else if (op === 2 && names.length) {
      const t = tensors[r.pick(names)];
      if (t.data.length) {
        t.data[r.int(t.data.length)] = r.pick([NaN, Infinity, -Infinity, -1, 1e38]);
      }
    } else if (op === 3 && names.length) {
      const name = r.pick(names);
      const t = tensors[name];
      const shape = r.next() < 0.5 ? [...t.shape, 1] : t.shape.slice(1);
      const count = shape.reduce((a, b) => a * b, 1);
      tensors[name] = {
        shape,
        data: t.data.slice(0, count).length === count
          ? t.data.slice(0, count)
          : new Float32Array(count),
      };
    } else if (op === 4 && names.length) {
      delete tensors[r.pick(names)];
    } else {
      tensors[`${r.pick(["var", "ema", "opt", "x", "mu"])}/${r.int(12)}`] = {
        shape: [1],
        data: new Float32Array(1),
      };
    }
  }
  return encodeSafetensors(tensors, metadata);
}

/** A small valid results file: two runs (one failed setting), NLL, a training record, samples. */
function resultsSeed(kind: "toy" | "images"): Uint8Array {
  const run = (id: string, method: string) => ({
    id,
    configHash: "0123456789abcdef",
    dataset: kind === "toy" ? "moons" : "cifar10",
    method,
    model: "mlp",
    preset: "tiny",
    seed: 0,
    paramCount: 1234,
    status: "ok",
    sessions: 2,
    train: {
      steps: 40,
      batch: 32,
      seconds: 1.5,
      resumedFrom: [20],
      lossCurve: [[20, 0.9], [40, 0.8]],
      finalLoss: 0.8,
    },
    evals: [
      {
        solver: "euler",
        setting: { steps: 8 },
        status: "ok",
        nfe: 8,
        metrics: kind === "toy" ? { w2: 0.12 } : { fid: 35.1, kid: 0.03, kid_std: 0.002 },
        seconds: 0.5,
        sampleError: {
          mse: 0.01,
          reference: { solver: "dopri5", setting: { rtol: 1e-5, atol: 1e-5 } },
        },
      },
      {
        solver: "dopri5",
        setting: { rtol: 1e-5, atol: 1e-5 },
        status: "failed",
        error: "step size underflow",
        nfe: 130,
        metrics: {},
        notes: { w2: "failed" },
        seconds: null,
      },
    ],
    nll: [{
      nats: 2.31,
      bpd: 3.3,
      stderr: 0.01,
      n: 32,
      estimator: "exact",
      solver: "dopri5",
      setting: { rtol: 1e-5, atol: 1e-5 },
      nfe: 140,
      seconds: 1,
    }],
    straightness: 0.02,
    provenance: { reflow: { teacher: "1-RF" } },
    samples: {
      points: [[0.1, 0.2], [0.3, -0.4]],
      trajectories: [[[0, 0], [1, 1]]],
      from: { solver: "dopri5", setting: { rtol: 1e-5, atol: 1e-5 }, nfe: 140 },
    },
  });
  return enc.encode(JSON.stringify({
    schema: RESULTS_SCHEMA,
    suite: kind === "toy" ? "toy2d" : "cifar10",
    manifest: {
      commit: "abc",
      dirty: false,
      versions: { fmbench: "0.1.0", deno: "2.9.6", v8: "13", typescript: "5", tfjs: "4.22.0" },
      backend: "wasm",
      device: "cpu",
      backendNotes: ["note"],
      os: "linux",
      seed: 0,
      config: { steps: 40 },
      configHash: "0123456789abcdef",
      startedAt: "2026-12-01T10:00:00Z",
      finishedAt: "2026-12-01T10:01:00Z",
      wallSeconds: 60,
      argv: ["--steps", "40"],
    },
    plugins: {
      loaded: [{
        kind: "path",
        name: "cond-ot",
        family: "ot",
        description: "d",
        file: "plugins/paths/cond-ot.ts",
      }],
      failures: [{ kind: "solver", file: "plugins/solvers/x.ts", reason: "broken" }],
    },
    methods: [{
      label: "FM w/ OT",
      path: "cond-ot",
      coupling: "independent",
      loss: "cfm",
      family: "ot",
    }],
    headline: {
      quality: kind === "toy" ? "w2" : "fid",
      nll: kind === "toy" ? "nats" : "bpd",
      adaptiveSolver: "dopri5",
    },
    runs: [run("moons__fm-w-ot__mlp-tiny", "FM w/ OT"), {
      ...run("moons__ddpm__mlp-tiny", "DDPM-style"),
      status: "partial",
    }],
    references: { moons: { w2: 0.01 } },
  }));
}

/** A valid training checkpoint: 2 variables, EMA, Adam state at step 20 of 40. */
const SHAPES = [[4, 2], [2]];
function checkpointSeed(): Uint8Array {
  const t: Record<string, TensorToWrite> = {};
  const vals = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => (i + k) / 10);
  SHAPES.forEach((s, i) => {
    const n = s.reduce((a, b) => a * b, 1);
    t[`var/${i}`] = { shape: s, data: vals(n, i) };
    t[`ema/${i}`] = { shape: s, data: vals(n, i + 1) };
  });
  t["opt/0"] = { shape: [], data: Float32Array.of(20) };
  SHAPES.forEach((s, i) => {
    const n = s.reduce((a, b) => a * b, 1);
    t[`opt/${1 + i}`] = { shape: [n], data: vals(n, -3) };
    t[`opt/${3 + i}`] = { shape: s, data: vals(n, 2) };
  });
  t["adam/accBeta1"] = { shape: [], data: Float32Array.of(0.9 ** 20) };
  t["adam/accBeta2"] = { shape: [], data: Float32Array.of(0.999 ** 20) };
  const state = {
    step: 20,
    curve: [[10, 0.5], [20, 0.4]],
    lastLoss: 0.4,
    seconds: 1.25,
    pending: [],
    resumedFrom: [10],
  };
  return encodeSafetensors(t, {
    format: CHECKPOINT_FORMAT,
    key: "k",
    state: JSON.stringify(state),
    optNames: JSON.stringify(["iter", "a/m", "b/m", "a/v", "b/v"]),
  });
}

function weightsSeed(): Uint8Array {
  const train = {
    steps: 40,
    batch: 32,
    seconds: 2,
    lossCurve: [[20, 0.5], [40, 0.3]],
    finalLoss: 0.3,
  };
  return encodeSafetensors({
    "var/0": { shape: [4, 2], data: new Float32Array(8).fill(0.25) },
    "var/1": { shape: [2], data: Float32Array.of(1, -1) },
  }, { format: WEIGHTS_FORMAT, key: "k", info: JSON.stringify({ train }) });
}

function referenceStatsSeed(): Uint8Array {
  return encodeSafetensors({
    mu: { shape: [3], data: Float64Array.of(0.1, 0.2, 0.3) },
    sigma: { shape: [3, 3], data: Float64Array.of(2, 0.5, 0, 0.5, 1, 0.1, 0, 0.1, 1) },
    factor_l: { shape: [3, 2], data: Float64Array.of(1.4, 0, 0.3, 0.9, 0, 0.1) },
    factor_perm: { shape: [3], data: Float64Array.of(2, 0, 1) },
    kid_features: { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
  }, {
    factorTol: "1e-10",
    format: REFERENCE_FORMAT,
    pipeline: "p",
    dataset: "cifar10",
    split: "train",
    n: "4",
    kidFeatures: "2",
    weightsSha256: "abc",
    date: "2026-12-01T00:00:00Z",
  });
}

/** Reflow pairs travel as one buffer: u32 JSON length, the .json text, the .f32 bytes. */
const PAIRS_EXPECT = {
  teacher: "1-RF",
  dataset: "moons",
  model: "mlp/tiny",
  solver: "dopri5",
  setting: { rtol: 1e-5, atol: 1e-5 },
  seed: 9,
  n: 3,
  shape: [2],
  teacherConfigHash: "h",
};
function packPairs(json: string, f32: Uint8Array): Uint8Array {
  const j = enc.encode(json);
  const out = new Uint8Array(4 + j.length + f32.length);
  new DataView(out.buffer).setUint32(0, j.length, true);
  out.set(j, 4);
  out.set(f32, 4 + j.length);
  return out;
}
function unpackPairs(b: Uint8Array): { json: string; f32: Uint8Array } {
  const len = b.length >= 4 ? new DataView(b.buffer, b.byteOffset).getUint32(0, true) : 0;
  return { json: dec.decode(b.subarray(4, 4 + len)), f32: b.slice(4 + len) };
}

function tarSeed(): Uint8Array {
  const blocks: Uint8Array[] = [];
  const entry = (name: string, body: Uint8Array, type = "0") => {
    blocks.push(ustarHeader(name, body.length, type), body);
    blocks.push(new Uint8Array((512 - (body.length % 512)) % 512));
  };
  entry("cifar-10-batches-bin/", new Uint8Array(), "5");
  entry("cifar-10-batches-bin/test_batch.bin", Uint8Array.from({ length: 700 }, (_, i) => i));
  const long = "cifar-10-batches-bin/" + "n".repeat(150) + ".txt";
  entry("././@LongLink", enc.encode(long + "\0"), "L");
  entry("x", enc.encode("hello"));
  const pax = `${(long.length + 11).toString()} path=${long}\n`;
  entry("PaxHeader", enc.encode(pax), "x");
  entry("y", enc.encode("world"));
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((a, b) => a + b.length, 0));
  let at = 0;
  for (const b of blocks) (out.set(b, at), at += b.length);
  return out;
}
async function gzip(b: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([b as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(s).arrayBuffer());
}
async function gunzip(b: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([b as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(s).arrayBuffer());
}

/**
 * A real results file as the report's seed: the default toy2d short look (moons, every method),
 * with sample sets, trajectories and solver settings trimmed so one case renders in ~0.1 s.
 */
async function reportSeed(): Promise<Uint8Array> {
  return await Deno.readFile(new URL("./fuzz-seeds/results-toy2d.json", import.meta.url));
}

/**
 * Every reader of the fuzz test, with its seeds (the tar seed is gzipped by `prepare`).
 * @example
 * const targets = await fuzzTargets(); targets.map((t) => t.name); // ["pickle", "torch-zip", ...]
 */
export async function fuzzTargets(): Promise<FuzzTarget[]> {
  const pickleGlobals = {
    "collections.OrderedDict": { call: () => new Map(), build: () => {} },
    "torch._utils._rebuild_tensor_v2": { call: () => ({ kind: "tensor" }) },
    "torch.FloatStorage": {},
    "torch.LongStorage": {},
    "torch.HalfStorage": {},
  };
  const generic = new PickleWriter().op(0x7d).mark().str("a").int(1).int(2).op(0x86).str("b")
    .op(0x5d).mark().op(0x4e, 0x88).int(-7).int(70000).int(2 ** 40).op(0x65).op(0x75).bytes();
  const zipSeed = encodePthZip(smallSpec());
  return [
    {
      name: "pickle",
      seeds: [
        stateDictPickle(smallSpec(), false),
        stateDictPickle(smallSpec(), true),
        generic,
        allOpsPickle(),
      ],
      mutate: mutateBytes,
      read: (b) => {
        unpickle(b, {
          source: SRC,
          globals: pickleGlobals,
          persistentLoad: () => ({ kind: "storage" }),
        });
        return "accepted";
      },
      refused: (e) => e instanceof PickleError,
    },
    {
      name: "torch-zip",
      seeds: [zipSeed, zip64Seed()],
      // Half the cases mutate data.pkl inside a zip whose CRCs are right, to reach the unpickler.
      mutate: (s, r) =>
        r.next() < 0.5
          ? mutateZipEntry(s, r, (n) => n.find((x) => x.endsWith("data.pkl"))!)
          : mutateBytes(s, r),
      read: readTorch,
      refused: isTorchError,
    },
    {
      name: "torch-legacy",
      seeds: [encodePthLegacy(smallSpec())],
      mutate: mutateBytes,
      read: readTorch,
      refused: isTorchError,
    },
    {
      name: "safetensors",
      seeds: [encodeSafetensors({
        a: { shape: [2, 3], data: new Float32Array(6).fill(1.5) },
        b: { shape: [], data: Float64Array.of(Math.PI) },
      }, { note: "seed" })],
      mutate: (s, r) => r.next() < 0.5 ? mutateSafetensors(s, r) : mutateBytes(s, r),
      read: (b) => {
        const f = new SafetensorsFile(b, SRC);
        for (const n of f.names()) f.float64(n);
        return "accepted";
      },
      refused: (e) => e instanceof SafetensorsError,
    },
    {
      name: "results.json",
      seeds: [resultsSeed("toy"), resultsSeed("images")],
      mutate: (s, r) => enc.encode(mutateJsonText(dec.decode(s), r)),
      read: (b) => (parseResults(dec.decode(b), SRC), "accepted"),
      refused: (e) => e instanceof ResultsFileError,
    },
    {
      // What fmbench does with a results file it reads back: check it, then draw the page
      // (`deno task report`) and print the terminal summary (`deno task bench`) from whatever the
      // check let through.
      name: "report",
      seeds: [resultsSeed("toy"), resultsSeed("images"), await reportSeed()],
      mutate: (s, r) => enc.encode(mutateJsonText(dec.decode(s), r)),
      read: (b) => {
        const results = parseResults(dec.decode(b), SRC);
        renderReport(results);
        const log = console.log;
        console.log = () => {};
        try {
          printSummary(results);
        } finally {
          console.log = log;
        }
        return "accepted";
      },
      refused: (e) => e instanceof ResultsFileError,
    },
    {
      name: "training checkpoint",
      seeds: [checkpointSeed()],
      mutate: mutateSafetensors,
      read: (
        b,
      ) => (checkCheckpoint(new SafetensorsFile(b, SRC), {
        key: "k",
        shapes: SHAPES,
        ema: true,
        totalSteps: 40,
      }),
        "accepted"),
      refused: isFileError,
    },
    {
      name: "weights file",
      seeds: [weightsSeed()],
      mutate: mutateSafetensors,
      read: (
        b,
      ) => (checkWeights(new SafetensorsFile(b, SRC), { key: "k", shapes: SHAPES, totalSteps: 40 }),
        "accepted"),
      refused: isFileError,
    },
    {
      name: "reflow pairs",
      seeds: [
        packPairs(
          JSON.stringify({ ...PAIRS_EXPECT, nfe: 30, file: "r.f32" }),
          f32Bytes([1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6]),
        ),
      ],
      mutate: (s, r) => {
        const { json, f32 } = unpackPairs(s);
        const k = r.next();
        if (k < 0.45) return packPairs(mutateJsonText(json, r), f32);
        if (k < 0.8) return packPairs(json, mutateBytes(f32, r));
        return mutateBytes(s, r);
      },
      read: (b) => (checkPairs({ ...unpackPairs(b), file: SRC, expect: PAIRS_EXPECT }), "accepted"),
      refused: isFileError,
    },
    {
      name: "reflow chunk",
      seeds: [
        encodeSafetensors({
          x0: { shape: [4], data: Float32Array.of(1, 2, 3, 4) },
          x1: { shape: [4], data: Float32Array.of(0, 1, 0, 1) },
        }, { nfe: "12" }),
      ],
      mutate: mutateSafetensors,
      read: (b) => (checkPairChunk(new SafetensorsFile(b, SRC)), "accepted"),
      refused: isFileError,
    },
    {
      name: "lock file",
      seeds: [
        enc.encode(
          JSON.stringify(
            {
              pid: 4242,
              host: "node-1",
              startedAt: "2026-12-01T10:00:00.000Z",
              command: "deno task bench --out runs/x",
            },
            null,
            1,
          ),
        ),
      ],
      mutate: (s, r) => enc.encode(mutateJsonText(dec.decode(s), r)),
      read: (b) => "problem" in checkLockText(dec.decode(b), SRC) ? "refused" : "accepted",
      refused: () => false,
    },
    {
      name: "reference stats",
      seeds: [referenceStatsSeed()],
      mutate: mutateSafetensors,
      read: (b) => (checkReferenceStats(new SafetensorsFile(b, SRC), REFERENCE_FORMAT), "accepted"),
      refused: isFileError,
    },
    {
      name: "reference samples",
      seeds: [
        encodeSafetensors({ x: { shape: [3, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6) } }, {
          format: REFERENCE_SAMPLES_FORMAT,
          key: "k",
        }),
      ],
      mutate: mutateSafetensors,
      read: (b) => (checkReferenceSamples(new SafetensorsFile(b, SRC), "k", [3, 2]), "accepted"),
      refused: isFileError,
    },
    {
      name: "tar.gz",
      seeds: [await gzip(tarSeed())],
      // Most cases mutate the tar and compress it again (to reach the tar parser past gzip's CRC).
      mutate: async (s, r) =>
        r.next() < 0.75 ? await gzip(mutateBytes(await gunzip(s), r)) : mutateBytes(s, r),
      read: async (b) => (await listTarGz(b, SRC), "accepted" as const),
      refused: (e) => e instanceof TarError,
    },
    {
      name: "zip",
      seeds: [
        zipSeed,
        zip64Seed(),
        storedZip([["a/b", enc.encode("hello")], ["c", new Uint8Array(0)]]),
      ],
      mutate: (s, r) => mutateBytes(s, r),
      read: (b) => {
        const z = new ZipArchive(b, SRC);
        for (const n of z.names()) z.read(n);
        return "accepted";
      },
      refused: (e) => e instanceof ZipError,
    },
  ];
}
