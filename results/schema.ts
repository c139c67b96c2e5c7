// The versioned results.json schema, defined once (valibot): a run manifest, the plugin inventory
// and one record per trained (dataset, method, model) with its evaluations. The types are
// inferred from it, and results/check.ts validates a file read back against it.
import * as v from "valibot";
import { GRID_KINDS, NOISE_GRID_KINDS } from "../core/solve/time-grid.ts";
import {
  arr,
  bool,
  exactly,
  LIMITS,
  measured,
  num,
  obj,
  objWithRest,
  oneOf,
  rec,
  rows,
  show,
  str,
} from "./fields.ts";

/**
 * The schema tag every results.json carries in its `schema` field; a file with another tag is
 * refused.
 * @example
 * results.schema === RESULTS_SCHEMA; // true for a file this version reads ("fmbench/results@1")
 */
export const RESULTS_SCHEMA = "fmbench/results@1";

/**
 * Metrics that cannot be negative, and why (shown in the message).
 * @example
 * NON_NEGATIVE_METRICS["fid"]; // "FID is a squared distance"
 */
export const NON_NEGATIVE_METRICS: Record<string, string> = {
  w2: "W2 is a distance",
  fid: "FID is a squared distance",
  kid_std: "a standard deviation",
  precision: "a share of samples",
  recall: "a share of reference points",
  density: "a mean count of balls over k",
  coverage: "a share of reference points",
  is_std: "a standard deviation",
  fd_dinov2: "FD-DINOv2 is a squared distance",
};

const text = str(LIMITS.text);

/** Metric name -> value (null: could not be computed); W2, FID, shares and spreads are >= 0. */
const metrics = v.pipe(
  rec(measured()),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const m = dataset.value;
    for (const [key, why] of Object.entries(NON_NEGATIVE_METRICS)) {
      const x = m[key];
      if (typeof x === "number" && x < 0) {
        addIssue({
          message: `= ${show(x)} is negative (${why}, >= 0)`,
          path: [{ type: "object", origin: "value", input: m, key, value: x }],
        });
      }
    }
  }),
);

/** A member the other kind of solver setting has: absent here. */
const absent = (kind: string) =>
  v.optional(
    v.undefined((i) =>
      `= ${show(i.input)}, expected nothing: a ${kind} setting has no such member ` +
      `(a setting is { steps, grid? } or { rtol, atol })`
    ),
  );

/** A fixed-step setting: steps, a time grid, and the solver's own numbers (churn, order, ...). */
const fixedStepSetting = objWithRest(
  {
    steps: num({ int: true, min: 1 }),
    grid: v.optional(oneOf([...GRID_KINDS, ...NOISE_GRID_KINDS])),
    rtol: absent("fixed-step"),
    atol: absent("fixed-step"),
  },
  v.union(
    [num(), str()],
    (i) => `= ${show(i.input)}, expected a number or a short string (a solver parameter)`,
  ),
);

const adaptiveSetting = obj({
  rtol: num({ above: 0 }),
  atol: num({ above: 0 }),
  steps: absent("tolerance"),
  grid: absent("tolerance"),
});

/** The kind is chosen by its members (a union would try both kinds on every evaluation). */
const solverSetting = v.lazy((x) =>
  x !== null && typeof x === "object" && ("rtol" in x || "atol" in x)
    ? adaptiveSetting
    : fixedStepSetting
);

/**
 * One solver setting: a fixed-step solver's step count (and time grid, "uniform" by default),
 * or an adaptive solver's tolerances. The members of the other kind are absent. A fixed-step
 * setting may carry the solver's own numbers (e.g. `{ steps: 5, churn: 40 }` for edm-stochastic,
 * `sigmaMax`, `order`), which reach the solver as SolveOptions.params.
 * @example
 * const settings: SolverSetting[] = [{ steps: 8 }, { steps: 8, grid: "edm" }, { rtol: 1e-5, atol: 1e-5 }];
 */
export type SolverSetting = v.InferOutput<typeof solverSetting>;

const shardSummary = obj({
  /** 0-based shard index and the shard count. */
  index: num({ int: true, min: 0 }),
  count: num({ int: true, min: 1 }),
  /** The input's name as given to the merge (a file path from the CLI). */
  source: text,
  commit: str(),
  dirty: bool(),
  backend: str(),
  device: str(),
  startedAt: str(),
  finishedAt: v.optional(str()),
  /** A wall-clock time (never NaN): a number, not null. */
  wallSeconds: v.optional(num({ min: 0 })),
  /** Number of run records the shard contributed. */
  runs: num({ int: true, min: 0 }),
});

/**
 * What a merged manifest records about each input shard (`manifest.mergedFrom`).
 * @example
 * const s: ShardSummary = { index: 0, count: 2, source: "runs/a/results.json", commit: "abc", dirty: false, backend: "wasm", device: "cpu", startedAt: "2026-12-01T10:00:00Z", runs: 4 };
 */
export type ShardSummary = v.InferOutput<typeof shardSummary>;

const runManifest = obj({
  commit: str(),
  dirty: bool(),
  versions: obj({ fmbench: str(), deno: str(), v8: str(), typescript: str(), tfjs: str() }),
  backend: str(),
  device: str(),
  /** webgpu: the adapter (vendor, architecture, device, description, software fallback or not). */
  adapter: v.optional(obj({
    vendor: str(),
    architecture: str(),
    device: str(),
    description: text,
    isFallback: bool(),
  })),
  /** CPU backends (wasm, cpu): the threads the backend really computes on. */
  threads: v.optional(num({ int: true, min: 1 })),
  backendNotes: arr(text, LIMITS.some),
  os: str(),
  seed: num(),
  /** The full resolved suite configuration (what configHash hashes). */
  config: rec(v.unknown()),
  configHash: str(),
  startedAt: str(),
  finishedAt: v.optional(str()),
  /**
   * Elapsed wall-clock time (never NaN): summed over the `sessions` that worked on this folder
   * with this config (a resume adds its own elapsed time); for a merge of separately run shards,
   * from the first shard's start to the last one's finish.
   */
  wallSeconds: v.optional(num({ min: 0 })),
  /** fmbench sessions whose elapsed time wallSeconds sums (absent: 1). */
  sessions: v.optional(num({ int: true, min: 1 })),
  /** Merged files: the sum of the shards' own wall-clock times (more than elapsed in parallel). */
  shardSeconds: v.optional(num({ min: 0 })),
  /** Command line that produced the run. */
  argv: arr(text, LIMITS.some),
  /** A merged file: the shards it was made of. */
  mergedFrom: v.optional(arr(shardSummary, LIMITS.some)),
});

/**
 * The run manifest: commit, versions, backend and device, OS, seed, config and times.
 * @example
 * const hash: string = results.manifest.configHash;
 */
export type RunManifest = v.InferOutput<typeof runManifest>;

const pluginEntry = obj({
  kind: str(),
  name: str(),
  family: v.optional(str()),
  description: text,
  file: text,
});

/**
 * A plugin that loaded: its kind, name, family, description and file.
 * @example
 * const p: PluginEntry = { kind: "paths", name: "cond-ot", description: "...", file: "plugins/paths/cond-ot.ts" };
 */
export type PluginEntry = v.InferOutput<typeof pluginEntry>;

const pluginFailure = obj({ kind: str(), file: text, reason: text });

/**
 * A plugin file that did not load, and why.
 * @example
 * const f: PluginFailure = { kind: "paths", file: "plugins/paths/bad.ts", reason: "no default export" };
 */
export type PluginFailure = v.InferOutput<typeof pluginFailure>;

const methodEntry = obj({
  label: str(),
  path: str(),
  coupling: str(),
  loss: str(),
  /** For reflow: the label of the method whose model makes the pairs. */
  teacher: v.optional(str()),
  family: str(),
  /**
   * How training draws t when not uniform: a time sampler plugin and every parameter's value.
   * Absent: uniform on the path's time range (any other density reweights the objective).
   */
  timeSampler: v.optional(obj({ name: str(), params: rec(num()) })),
});

/**
 * A method: a labelled (path, coupling, loss[, time sampler]) recipe, with its teacher for reflow.
 * @example
 * const m: MethodEntry = { label: "FM w/ OT", path: "cond-ot", coupling: "independent", loss: "cfm", family: "ot" };
 */
export type MethodEntry = v.InferOutput<typeof methodEntry>;

const featureMetricProtocol = obj({
  /** The feature network. */
  network: text,
  /** The weights file: its name, the SHA-256 of its bytes, of its tensors, and whether it is
   * the published file (its SHA-256 is pytorch-fid's). */
  weights: obj({
    file: text,
    sha256: str(),
    contentSha256: v.optional(str()),
    published: v.optional(bool()),
  }),
  /** The real images: data set, split, how many make the FID statistics, how many KID uses. */
  reference: obj({
    dataset: str(),
    split: str(),
    n: num({ int: true, min: 1 }),
    kidFeatures: v.optional(num({ int: true, min: 1 })),
  }),
  /** Generated samples per evaluation (made by the record's solver and setting, at its NFE). */
  generated: num({ int: true, min: 0 }),
  /** How samples become network inputs. */
  preprocessing: text,
  /** KID's settings, when KID was computed. */
  kid: v.optional(obj({
    subsets: num({ int: true, min: 1 }),
    subsetSize: num({ int: true, min: 1 }),
    kernel: text,
    estimator: text,
  })),
});

/**
 * How the feature-based metrics (FID, KID) of an evaluation were made: what a reader needs to
 * compare them with other numbers. Optional: absent on W2 evaluations and in older files.
 * @example
 * const p: FeatureMetricProtocol = {
 *   network: "pytorch-fid InceptionV3 pool3 (2048-d)",
 *   weights: { file: "pt_inception-2015-12-05-6726825d.pth", sha256: "6726825d...", published: true },
 *   reference: { dataset: "cifar10", split: "train", n: 50000, kidFeatures: 10000 },
 *   generated: 5000,
 *   preprocessing: "[-1, 1] -> [0, 1], clipped, rounded to 8 bits; bilinear resize to 299x299",
 *   kid: { subsets: 100, subsetSize: 1000, kernel: "(x.y/d + 1)^3", estimator: "unbiased MMD^2" },
 * };
 */
export type FeatureMetricProtocol = v.InferOutput<typeof featureMetricProtocol>;

const metricInfo = obj({
  description: text,
  /** The feature set the metric read in this suite ("raw", "inception-pool3", ...). */
  feature: str(),
  /** How those features are made. */
  featureDescription: text,
  /** Its figures (keys of each evaluation's `metrics`), each with its direction. */
  values: rec(obj({
    direction: oneOf(["lower", "higher"]),
    title: str(),
    description: text,
    /** The figure holding this one's spread (e.g. "kid_std"). */
    spread: v.optional(str()),
  })),
  /** The metric's protocol fields (k, splits, rule, reference implementation, ...). */
  protocol: rec(
    v.union(
      [str(LIMITS.text), num(), bool()],
      (i) => `= ${show(i.input)}, expected a string, a number or a boolean`,
    ),
  ),
});

/**
 * A metric plugin as a results file records it (once per file, keyed by the plugin's name): its
 * figures with their directions, the features it read and its protocol.
 * @example
 * const info: MetricInfo = { description: "improved precision and recall", feature: "raw",
 *   featureDescription: "the raw 2-D samples", protocol: { k: 3 },
 *   values: { precision: { direction: "higher", title: "Precision", description: "..." } } };
 */
export type MetricInfo = v.InferOutput<typeof metricInfo>;

const evalRecord = obj({
  solver: str(),
  /** e.g. { steps: 8 } or { rtol: 1e-5, atol: 1e-5 } or { steps: 8, grid: "edm" } */
  setting: solverSetting,
  status: oneOf(["ok", "failed"]),
  error: v.optional(text),
  /** Velocity evaluations per sample path, counted by the harness. */
  nfe: num({ int: true, min: 0, why: "a count of velocity evaluations" }),
  /**
   * The headline adaptive setting only: its NFE on disjoint sub-batches of the same evaluation
   * noise (the batches it was solved in, or quarters solved again only to count), for the NFE's
   * uncertainty (their standard deviation / sqrt(count)). `batch`: examples per sub-batch.
   */
  nfeDraws: v.optional(obj({
    batch: num({ int: true, min: 1 }),
    nfe: arr(num({ int: true, min: 0, why: "a count of velocity evaluations" }), LIMITS.some),
  })),
  /** e.g. { w2: 0.12 } (toy2d) or { fid: 35.1, kid: 0.031, kid_std: 0.002 } (images); a value
   * that could not be computed is absent (with a reason in notes) or null. */
  metrics,
  notes: v.optional(rec(text)),
  /** How FID/KID were computed (images only). */
  protocol: v.optional(featureMetricProtocol),
  seconds: measured({ min: 0 }),
  /**
   * Fixed-step solvers: the mean squared distance per dimension between these samples and the
   * reference solution from the same noise (the adaptive solver at its tightest tolerance), or
   * the reason it could not be computed.
   */
  sampleError: v.optional(obj({
    /** Absent when the reference solve failed; `note` says why. */
    mse: v.optional(measured({ min: 0, why: "a mean squared distance" })),
    reference: obj({ solver: str(), setting: solverSetting }),
    note: v.optional(text),
  })),
});

/**
 * One solver setting's sampling evaluation of a trained model.
 * @example
 * const ok = run.evals.filter((e: EvalRecord) => e.status === "ok");
 */
export type EvalRecord = v.InferOutput<typeof evalRecord>;

const sampleSource = obj({
  solver: str(),
  setting: solverSetting,
  nfe: num({ int: true, min: 0 }),
});

/**
 * The evaluation whose samples a run keeps for the report: solver, setting and its NFE.
 * @example
 * const from: SampleSource = { solver: "dopri5", setting: { rtol: 1e-5, atol: 1e-5 }, nfe: 62 };
 */
export type SampleSource = v.InferOutput<typeof sampleSource>;

const nllRecord = obj({
  /** Mean negative log-likelihood in nats per data point (toy2d) or per image. */
  nats: measured(),
  /** bits/dim for 8-bit images (dequantised); absent for continuous data. */
  bpd: v.optional(measured()),
  /** Standard error of the mean of the reported unit (bpd for images, nats otherwise). */
  stderr: measured({ min: 0, why: "a standard error" }),
  n: num({ int: true, min: 1 }),
  estimator: oneOf(["exact", "hutchinson"]),
  probes: v.optional(num({ int: true, min: 1 })),
  noise: v.optional(oneOf(["rademacher", "gaussian"])),
  solver: str(),
  setting: solverSetting,
  /** Velocity evaluations per trajectory (divergence VJPs not included). */
  nfe: num({ int: true, min: 0 }),
  seconds: measured({ min: 0 }),
  /**
   * bits/dim only: uniform dequantisation samples K per image behind `bpd`, combined as
   * log (1/K) sum_k p(x + u_k) (importance-weighted). Absent in older files: K = 1.
   */
  dequantSamples: v.optional(
    num({ int: true, min: 1, why: "a number of dequantisation samples" }),
  ),
  /** bits/dim with K > 1: the mean single-sample (K = 1) bits/dim over the same draws (>= bpd). */
  bpdSingleSample: v.optional(measured()),
});

/**
 * One NLL estimate of a trained model (exact or Hutchinson), in nats and, for images, bits/dim.
 * @example
 * const bpd = run.nll.find((n: NllRecord) => n.estimator === "exact")?.bpd;
 */
export type NllRecord = v.InferOutput<typeof nllRecord>;

const learningPoint = obj({
  /** Training steps completed when the probe ran. */
  step: num({ int: true, min: 1 }),
  /** Training seconds up to this step (the probes' own time excluded), over every session. */
  seconds: num({ min: 0 }),
  /** Mean NLL of the probe's held-out points (nats); null when the likelihood failed. */
  nll: measured(),
  /** Its standard error over the points. */
  stderr: measured({ min: 0, why: "a standard error" }),
  /** Sample metrics of the probe's fixed noise batch, e.g. { w2 } (null: not finite). */
  metrics,
  /**
   * The change of the NLL since the probe at step `from` (the latest at or below a tenth of this step),
   * on the same held-out points: the mean paired difference (negative: improved) and its standard
   * error. Absent for the first points.
   */
  change: v.optional(obj({
    from: num({ int: true, min: 1 }),
    nll: measured(),
    stderr: measured({ min: 0, why: "a standard error" }),
  })),
  /** Seconds the probe took. */
  probeSeconds: num({ min: 0 }),
  /** Why a part of the probe failed (its figures are null or absent). */
  error: v.optional(text),
});

/**
 * One point of a run's learning curve (eval.curve in the config says how it was measured).
 * @example
 * const last = run.train?.learningCurve?.at(-1); // { step: 1000, nll: 2.41, metrics: { w2: 0.5 }, ... }
 */
export type LearningPoint = v.InferOutput<typeof learningPoint>;

const trainRecord = obj({
  steps: num({ int: true, min: 0 }),
  batch: num({ int: true, min: 1 }),
  /** Training seconds, summed over every session when training resumed from a checkpoint. */
  seconds: measured({ min: 0 }),
  /**
   * CPU seconds of the thread that trained (its own work, also under --jobs), summed over
   * sessions; absent where the runtime could not tell (and in older files).
   */
  cpuSeconds: v.optional(measured({ min: 0, why: "a CPU time" })),
  /** Standard error of cpuSeconds: steps x sd(CPU per step over logging intervals) / sqrt(k). */
  cpuStderr: v.optional(measured({ min: 0, why: "a standard error" })),
  /** Steps at which training resumed from a checkpoint after an interruption (absent: none). */
  resumedFrom: v.optional(arr(num({ int: true, min: 0 }), LIMITS.many)),
  /** [step, loss] pairs, thinned. */
  lossCurve: rows<[number, number | null]>({
    max: LIMITS.many,
    width: 2,
    row: "a [step, loss] pair",
    notNull: [0],
  }),
  finalLoss: measured(),
  /** Quality at log-spaced steps (absent: the run's config asked for none). */
  learningCurve: v.optional(arr(learningPoint, LIMITS.some)),
});

/**
 * How a run trained: steps, batch, seconds, resumes and its loss curve.
 * @example
 * const last = run.train?.lossCurve.at(-1); // [step, loss]
 */
export type TrainRecord = v.InferOutput<typeof trainRecord>;

const highResRecord = obj({
  n: num({ int: true, min: 1 }),
  solver: str(),
  setting: solverSetting,
  /** Velocity evaluations per sample path. */
  nfe: num({ int: true, min: 0 }),
  status: oneOf(["ok", "failed"]),
  error: v.optional(text),
  /**
   * toy2d: `sinkhorn_w2` (debiased Sinkhorn W2 against n fresh held-out points), `sinkhorn_w2_se`
   * (its standard error, both draws), `sinkhorn_w2_se_model` (the samples' draw alone),
   * `sinkhorn_divergence`, `blur`, `converged` (1/0).
   */
  metrics,
  /** Sampling and scoring seconds. */
  seconds: num({ min: 0 }),
});

/**
 * A finer score of one run's model: `n` samples drawn with the headline setting, scored by the
 * suite (toy2d: the high-resolution W2; its floor band is in references[dataset]).
 * @example
 * const h: HighResRecord = { n: 5000, solver: "dopri5", setting: { rtol: 1e-5, atol: 1e-5 },
 *   nfe: 86, status: "ok", metrics: { sinkhorn_w2: 0.2254 }, seconds: 7.9 };
 */
export type HighResRecord = v.InferOutput<typeof highResRecord>;

const runRecord = obj({
  id: str(),
  /** Hash of everything that determines this run; a resumed run is reused only if it matches. */
  configHash: v.optional(str()),
  dataset: str(),
  method: str(),
  model: str(),
  preset: str(),
  /** The run's seed (absent in files written before seeds: the manifest's seed). */
  seed: v.optional(num()),
  paramCount: num({ int: true, min: 0 }),
  /**
   * "ok": complete. "partial": interrupted; what is present is final (train once trained, the
   * solver settings and NLL estimators evaluated so far) and a resumed run adds only the rest.
   * "failed": see error.
   */
  status: oneOf(["ok", "failed", "partial"]),
  error: v.optional(text),
  /** fmbench sessions that worked on this record when it took more than one (resumes + 1). */
  sessions: v.optional(num({ int: true, min: 1 })),
  train: v.optional(trainRecord),
  evals: arr(evalRecord, LIMITS.some),
  nll: arr(nllRecord, LIMITS.some),
  /**
   * Liu et al.'s straightness (lower is straighter), measured along uniform explicit-Euler
   * trajectories of `eval.straightnessSteps` steps (the run's config) from seeded source noise.
   */
  straightness: v.optional(measured({ min: 0, why: "a mean squared deviation" })),
  /** The standard error of `straightness` over its trajectories (sd over examples / sqrt(n)). */
  straightnessStderr: v.optional(measured({ min: 0, why: "a standard error" })),
  /** Where derived inputs came from, e.g. reflow pairs: teacher, solver, seed, count, file. */
  provenance: v.optional(rec(v.unknown())),
  /**
   * Small sample of generated data: 2-D points, or data-URI PNG grids for images, and which
   * evaluation made them (`from`; absent in files written before it was recorded).
   */
  samples: v.optional(obj({
    /** Coordinates; null where the model produced NaN or Infinity. */
    points: v.optional(rows<Array<number | null>>({ max: LIMITS.many })),
    trajectories: v.optional(arr(rows<Array<number | null>>({ max: LIMITS.many }), LIMITS.some)),
    image: v.optional(str(LIMITS.image)),
    from: v.optional(sampleSource),
  })),
  /** A finer score of more samples of the headline setting (toy2d, --high-res-samples N). */
  highRes: v.optional(highResRecord),
});

/**
 * One trained (dataset, method, model, seed) with its training, evaluations and NLL.
 * @example
 * const failed = results.runs.filter((r: RunRecord) => r.status === "failed");
 */
export type RunRecord = v.InferOutput<typeof runRecord>;

/**
 * The whole results.json: what the deep check (results/check.ts) validates a file against.
 * @example
 * v.safeParse(resultsFileSchema, JSON.parse(text)).success; // true for a good file
 */
export const resultsFileSchema = obj({
  schema: exactly(RESULTS_SCHEMA),
  suite: str(),
  shard: v.optional(obj({ index: num({ int: true, min: 0 }), count: num({ int: true, min: 1 }) })),
  manifest: runManifest,
  plugins: obj({
    loaded: arr(pluginEntry, LIMITS.some),
    failures: arr(pluginFailure, LIMITS.some),
  }),
  methods: arr(methodEntry, LIMITS.some),
  /** Column conventions for the report: which metric is quality, which solver is "adaptive". */
  headline: obj({
    quality: oneOf(["w2", "fid"]),
    nll: oneOf(["nats", "bpd"]),
    adaptiveSolver: str(),
  }),
  runs: arr(runRecord, LIMITS.many),
  /**
   * The metric plugins that scored the samples (--metrics), by name: their figures' directions,
   * features and protocols. Absent in files written before metrics were plugins (W2, or FID and
   * KID, all lower-is-better).
   */
  metricInfo: v.optional(rec(metricInfo)),
  /**
   * Per data set, the metrics between two disjoint held-out samples of the evaluation size: what
   * a perfect model would score (the finite-sample floor of W2), e.g. { w2: 0.21, precision:
   * 0.95 }; null where it could not be computed.
   */
  references: v.optional(rec(metrics)),
  /**
   * Per data set, held-out data the report shows beside the samples (ground truth): up to 500
   * test points (2-D data), or a PNG grid of test images (data URI), made once per data set
   * from the first seed's data.
   */
  heldOut: v.optional(rec(obj({
    points: v.optional(rows<Array<number | null>>({ max: LIMITS.many })),
    image: v.optional(str(LIMITS.image)),
  }))),
  /**
   * The budget the run used; `smoke` marks a budget whose numbers are not meaningful; `recipe`,
   * for a published recipe, names its source and the flags that changed one of its fields.
   */
  budget: v.optional(obj({
    name: str(),
    description: text,
    smoke: bool(),
    recipe: v.optional(obj({
      source: text,
      notes: v.optional(text),
      changed: arr(str(), LIMITS.some),
    })),
  })),
});

/**
 * A results.json file: manifest, plugins, methods, headline conventions, runs and references.
 * @example
 * const results: ResultsFile = await readResults("runs/toy2d-2026-12-01T10-00-00");
 */
export type ResultsFile = v.InferOutput<typeof resultsFileSchema>;
