// Timing and parity of precision/recall, density/coverage on large feature sets: reads a file
// written by `bench/metrics_reference.py large ...` (features + torch-fidelity's and prdc's
// values), times the k-NN radii (reference, uncached), precision/recall (reference radii cached),
// density/coverage, and all four in one pass from scratch; prints the differences.
//
//   /usr/bin/python3 bench/metrics_reference.py large TF_DIR PRDC_DIR /tmp/large.safetensors 10000 2048
//   deno run --allow-read --allow-env --allow-ffi bench/sample_metrics.ts /tmp/large.safetensors [wasm]
import process from "node:process";
import { selectBackend } from "../backend/select.ts";
import { readSafetensors } from "../store/safetensors.ts";
import { kNearestRadii } from "../features/neighbours.ts";
import { improvedPrecisionRecall } from "../features/precision-recall.ts";
import { densityCoverage } from "../features/density-coverage.ts";
import { manifoldMetrics } from "../features/manifold-metrics.ts";

const [path, backend = "wasm"] = Deno.args;
if (!path) {
  console.error("usage: bench/sample_metrics.ts FILE.safetensors [backend]");
  Deno.exit(2);
}
const info = await selectBackend(backend);
const file = await readSafetensors(path);
const want: Record<string, number> = JSON.parse(file.metadata.values);
const [n, dim] = file.entry("reference")!.shape;
const reference = { data: file.float32("reference"), dim };
const generated = { data: file.float32("generated"), dim };

/** Wall and CPU seconds (this process, all threads) of f. */
const timed = async <T>(f: () => Promise<T>): Promise<[T, number, number]> => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await f();
  const c = process.cpuUsage(c0);
  return [r, (performance.now() - t0) / 1000, (c.user + c.system) / 1e6];
};

const [, radiiSeconds, radiiCpu] = await timed(() => kNearestRadii(reference, [3, 5]));
const [pr, prSeconds, prCpu] = await timed(() => improvedPrecisionRecall({ generated, reference }));
const [dc, dcSeconds, dcCpu] = await timed(() => densityCoverage({ generated, reference }));
// All four in one pass with fresh arrays (nothing cached): what a run's first evaluation costs.
const fresh = {
  reference: { data: reference.data.slice(), dim },
  generated: { data: generated.data.slice(), dim },
};
const [all, allSeconds, allCpu] = await timed(() => manifoldMetrics(fresh));
const diff = (a: number, b: number) => Math.abs(a - b).toExponential(1);
console.log(JSON.stringify({
  backend: info.backend,
  device: info.device,
  n,
  dim,
  seconds: {
    radii: +radiiSeconds.toFixed(2),
    precisionRecall: +prSeconds.toFixed(2),
    densityCoverage: +dcSeconds.toFixed(2),
    allFourOnePass: +allSeconds.toFixed(2),
    torchFidelity: +want.tf_seconds.toFixed(2),
    prdc: +want.prdc_seconds.toFixed(2),
  },
  cpuSeconds: {
    radii: +radiiCpu.toFixed(2),
    precisionRecall: +prCpu.toFixed(2),
    densityCoverage: +dcCpu.toFixed(2),
    allFourOnePass: +allCpu.toFixed(2),
  },
  precision: [pr.precision, want.tf_precision, diff(pr.precision, want.tf_precision)],
  recall: [pr.recall, want.tf_recall, diff(pr.recall, want.tf_recall)],
  precision64: diff(pr.precision, want.tf64_precision),
  recall64: diff(pr.recall, want.tf64_recall),
  density: [dc.density, want.prdc_density, diff(dc.density, want.prdc_density)],
  coverage: [dc.coverage, want.prdc_coverage, diff(dc.coverage, want.prdc_coverage)],
  onePassSame: all.precisionRecall.precision === pr.precision &&
    all.precisionRecall.recall === pr.recall && all.densityCoverage.density === dc.density &&
    all.densityCoverage.coverage === dc.coverage,
  rechecked: all.rechecked,
}));
