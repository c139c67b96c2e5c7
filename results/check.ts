// Deep check of a parsed results.json against the schema: every field the reports and the resume
// logic read, with its path ("runs[3].evals[2].metrics.w2 = -5 is negative"), so a bad file is
// refused with a message instead of crashing a report with a TypeError. Unknown extra fields pass.

/**
 * Metrics that cannot be negative, and why (shown in the message).
 * @example
 * NON_NEGATIVE_METRICS["fid"]; // "FID is a squared distance"
 */
export const NON_NEGATIVE_METRICS: Record<string, string> = {
  w2: "W2 is a distance",
  fid: "FID is a squared distance",
  kid_std: "a standard deviation",
};

/** The first problems found (at most this many are collected). */
const MAX_PROBLEMS = 20;

type Check = (v: unknown, path: string, out: string[]) => void;

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function bad(out: string[], path: string, v: unknown, expected: string): void {
  if (out.length >= MAX_PROBLEMS) return;
  out.push(
    v === undefined
      ? `${path} is missing, expected ${expected}`
      : `${path} = ${show(v)} is ${kind(v)}, expected ${expected}`,
  );
}

const str: Check = (v, p, out) => {
  if (typeof v !== "string") bad(out, p, v, "a string");
};

const bool: Check = (v, p, out) => {
  if (typeof v !== "boolean") bad(out, p, v, "true or false");
};

function oneOf(...values: string[]): Check {
  return (v, p, out) => {
    if (!values.includes(v as string)) {
      if (out.length < MAX_PROBLEMS) {
        out.push(`${p} = ${show(v)}, expected ${values.map((x) => `"${x}"`).join(" or ")}`);
      }
    }
  };
}

/**
 * A number. `nullable`: null is accepted (JSON writes NaN and Infinity as null; the report
 * shows n/a). `int`, `min` (inclusive) and `why` (the reason for the bound, for the message).
 */
function num(o: { int?: boolean; min?: number; nullable?: boolean; why?: string } = {}): Check {
  return (v, p, out) => {
    if (v === null && o.nullable) return;
    if (typeof v !== "number") {
      return bad(out, p, v, `${o.int ? "an integer" : "a number"}${o.nullable ? " or null" : ""}`);
    }
    if (o.int && !Number.isInteger(v)) return bad(out, p, v, "an integer");
    if (o.min !== undefined && v < o.min && out.length < MAX_PROBLEMS) {
      out.push(
        `${p} = ${show(v)} is ${o.min === 0 ? "negative" : `below ${o.min}`}` +
          `${o.why ? ` (${o.why}, >= ${o.min})` : ""}`,
      );
    }
  };
}

function arr(item?: Check): Check {
  return (v, p, out) => {
    if (!Array.isArray(v)) return bad(out, p, v, "an array");
    if (item) {
      for (let i = 0; i < v.length && out.length < MAX_PROBLEMS; i++) item(v[i], `${p}[${i}]`, out);
    }
  };
}

/** An object with required fields and optional ones (`?` suffix: absent is fine). */
function obj(fields: Record<string, Check>): Check {
  return (v, p, out) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      return bad(out, p, v, "an object");
    }
    const o = v as Record<string, unknown>;
    for (const [key, check] of Object.entries(fields)) {
      const optional = key.endsWith("?");
      const name = optional ? key.slice(0, -1) : key;
      if (optional && o[name] === undefined) continue;
      check(o[name], p ? `${p}.${name}` : name, out);
    }
  };
}

function record(value: (key: string) => Check): Check {
  return (v, p, out) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      return bad(out, p, v, "an object");
    }
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      value(k)(x, `${p}.${k}`, out);
    }
  };
}

const anyObject = record(() => () => {});

/** A metric value: a number or null; W2 and FID are also non-negative. */
const metric = (name: string): Check =>
  num({
    nullable: true,
    min: name in NON_NEGATIVE_METRICS ? 0 : undefined,
    why: NON_NEGATIVE_METRICS[name],
  });

const setting: Check = record(() => (v, p, out) => {
  if (typeof v !== "number" && typeof v !== "string") bad(out, p, v, "a number or a string");
});

const protocol = obj({
  network: str,
  weights: obj({ file: str, sha256: str, "contentSha256?": str, "published?": bool }),
  reference: obj({
    dataset: str,
    split: str,
    n: num({ int: true, min: 1 }),
    "kidFeatures?": num({ int: true, min: 1 }),
  }),
  generated: num({ int: true, min: 0 }),
  preprocessing: str,
  "kid?": obj({
    subsets: num({ int: true, min: 1 }),
    subsetSize: num({ int: true, min: 1 }),
    kernel: str,
    estimator: str,
  }),
});

const evalRecord = obj({
  solver: str,
  setting,
  status: oneOf("ok", "failed"),
  "error?": str,
  nfe: num({ int: true, min: 0, why: "a count of velocity evaluations" }),
  metrics: record(metric),
  "notes?": record(() => str),
  "protocol?": protocol,
  seconds: num({ nullable: true, min: 0 }),
  "sampleError?": obj({
    "mse?": num({ nullable: true, min: 0, why: "a mean squared distance" }),
    reference: obj({ solver: str, setting }),
    "note?": str,
  }),
});

const nllRecord = obj({
  nats: num({ nullable: true }),
  "bpd?": num({ nullable: true }),
  stderr: num({ nullable: true, min: 0, why: "a standard error" }),
  n: num({ int: true, min: 1 }),
  estimator: oneOf("exact", "hutchinson"),
  "probes?": num({ int: true, min: 1 }),
  "noise?": oneOf("rademacher", "gaussian"),
  solver: str,
  setting,
  nfe: num({ int: true, min: 0 }),
  seconds: num({ nullable: true, min: 0 }),
  "dequantSamples?": num({ int: true, min: 1, why: "a number of dequantisation samples" }),
  "bpdSingleSample?": num({ nullable: true }),
});

const lossPoint: Check = (v, p, out) => {
  if (!Array.isArray(v) || v.length !== 2) return bad(out, p, v, "a [step, loss] pair");
  num()(v[0], `${p}[0]`, out);
  num({ nullable: true })(v[1], `${p}[1]`, out);
};

const runRecord = obj({
  id: str,
  "configHash?": str,
  dataset: str,
  method: str,
  model: str,
  preset: str,
  paramCount: num({ int: true, min: 0 }),
  status: oneOf("ok", "failed", "partial"),
  "error?": str,
  "sessions?": num({ int: true, min: 1 }),
  "train?": obj({
    steps: num({ int: true, min: 0 }),
    batch: num({ int: true, min: 1 }),
    seconds: num({ nullable: true, min: 0 }),
    "resumedFrom?": arr(num({ int: true, min: 0 })),
    lossCurve: arr(lossPoint),
    finalLoss: num({ nullable: true }),
  }),
  evals: arr(evalRecord),
  nll: arr(nllRecord),
  "straightness?": num({ nullable: true, min: 0, why: "a mean squared deviation" }),
  "provenance?": anyObject,
  "samples?": obj({
    "points?": arr(arr()),
    "trajectories?": arr(arr()),
    "image?": str,
    "from?": obj({ solver: str, setting, nfe: num({ int: true, min: 0 }) }),
  }),
  "highRes?": obj({
    n: num({ int: true, min: 1 }),
    solver: str,
    setting,
    nfe: num({ nullable: true, min: 0 }),
    status: oneOf("ok", "failed"),
    "error?": str,
    metrics: record(metric),
    seconds: num({ nullable: true, min: 0 }),
  }),
});

const shardSummary = obj({
  index: num({ int: true, min: 0 }),
  count: num({ int: true, min: 1 }),
  source: str,
  commit: str,
  dirty: bool,
  backend: str,
  device: str,
  startedAt: str,
  "finishedAt?": str,
  "wallSeconds?": num({ nullable: true, min: 0 }),
  runs: num({ int: true, min: 0 }),
});

const manifest = obj({
  commit: str,
  dirty: bool,
  versions: record(() => str),
  backend: str,
  device: str,
  backendNotes: arr(str),
  os: str,
  seed: num(),
  config: anyObject,
  configHash: str,
  startedAt: str,
  "finishedAt?": str,
  "wallSeconds?": num({ nullable: true, min: 0 }),
  argv: arr(str),
  "mergedFrom?": arr(shardSummary),
});

const resultsFile = obj({
  suite: str,
  "shard?": obj({ index: num({ int: true, min: 0 }), count: num({ int: true, min: 1 }) }),
  manifest,
  plugins: obj({
    loaded: arr(obj({ kind: str, name: str, "family?": str, description: str, file: str })),
    failures: arr(obj({ kind: str, file: str, reason: str })),
  }),
  methods: arr(obj({
    label: str,
    path: str,
    coupling: str,
    loss: str,
    "teacher?": str,
    family: str,
  })),
  headline: obj({
    quality: oneOf("w2", "fid"),
    nll: oneOf("nats", "bpd"),
    adaptiveSolver: str,
  }),
  runs: arr(runRecord),
  "references?": record(() => record(metric)),
  "budget?": obj({ name: str, description: str, smoke: bool }),
});

/**
 * Every problem (up to 20) of a parsed results file, each naming its field path; [] when the
 * value has the shape reports and resume rely on. The schema tag is checked by the caller.
 * @example
 * resultsProblems({ ...results, runs: [{ ...run, evals: [{ ...e, metrics: { w2: -5 } }] }] });
 * // ["runs[0].evals[0].metrics.w2 = -5 is negative (W2 is a distance, >= 0)"]
 */
export function resultsProblems(value: unknown): string[] {
  const out: string[] = [];
  resultsFile(value, "", out);
  return out;
}
